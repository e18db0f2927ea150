"""Income linkage: did households' settled income per person rise after training, compared with
members of the same cooperatives who did not take it (a difference-in-differences)?

Per enrolment: the window of `window_months` before the application day and the same length from
the completion day. Per programme, one pair of calendar windows for everyone: the `window_months`
before the first session, and as long from the day after the last session. Participants are the
completed enrolments; non-participants are the active member households of the participants'
cooperatives (or of the manager's cooperative) with no enrolment in the programme at all. A
change is after − before per person; the report gives each group's mean and median change and
their differences. Until the after window is over the report says "not enough data".
Household size is the current one (sizes have no history yet).
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sqlmodel import Session, col, select

from catalog.models import Household, HouseholdStatus
from catalog.schemas import MoneyRead
from core.actor import Actor
from core.spreadsheets import csv_writer
from training.config import TrainingConfig
from training.enrolment_reads import applied_on
from training.errors import TrainingForbidden
from training.income import add_months, per_capita, rounded, settled_income
from training.models import Enrolment, EnrolmentStatus, Programme
from training.programmes import eligible_coops, programme_dates, visible_programme
from training.schemas import (
    EnrolmentOutcome,
    GroupStats,
    OutcomeReport,
    WindowRead,
)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive

    def read(self) -> WindowRead:
        return WindowRead(start=self.start, end=self.end)


@dataclass(frozen=True)
class Change:
    before: Fraction
    after: Fraction | None

    @property
    def delta(self) -> Fraction | None:
        return None if self.after is None else self.after - self.before


def median(values: Sequence[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def programme_windows(
    first: date | None, last: date | None, months: int
) -> tuple[Window, Window] | None:
    if first is None or last is None:
        return None
    after_start = last + timedelta(days=1)
    return (
        Window(add_months(first, -months), first),
        Window(after_start, add_months(after_start, months)),
    )


def _changes(
    session: Session,
    households: Sequence[Household],
    before: Window,
    after: Window,
    enough: bool,
) -> dict[int, Change]:
    ids = [h.id or 0 for h in households]
    income_before = settled_income(session, ids, start=before.start, end=before.end)
    income_after = settled_income(session, ids, start=after.start, end=after.end) if enough else {}
    return {
        h.id or 0: Change(
            before=per_capita(income_before[h.id or 0], h.household_size),
            after=per_capita(income_after[h.id or 0], h.household_size) if enough else None,
        )
        for h in households
    }


def _money(value: Fraction | None, currency: str) -> MoneyRead | None:
    return None if value is None else MoneyRead(amount=rounded(value), currency=currency)


def _stats(changes: Sequence[Change], currency: str) -> GroupStats:
    if not changes:
        return GroupStats(
            count=0, mean_before=None, mean_after=None, mean_change=None, median_change=None
        )
    deltas = [c.delta for c in changes if c.delta is not None]
    afters = [c.after for c in changes if c.after is not None]
    return GroupStats(
        count=len(changes),
        mean_before=_money(mean([c.before for c in changes]), currency),
        mean_after=_money(mean(afters), currency) if afters else None,
        mean_change=_money(mean(deltas), currency) if deltas else None,
        median_change=_money(median(deltas), currency) if deltas else None,
    )


def _view(actor: Actor) -> tuple[str, int | None]:
    if actor.reads_all:
        return "full", None
    if actor.role == "manager":
        if actor.coop_id is None:
            raise TrainingForbidden("Your manager account is not linked to a cooperative.")
        return "coop", actor.coop_id
    return "public", None


def _households(session: Session, ids: Sequence[int]) -> list[Household]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(Household).where(col(Household.id).in_(list(ids))).order_by(col(Household.id))
        )
    )


def _non_participants(
    session: Session, programme_id: int, coop_ids: Sequence[int]
) -> list[Household]:
    if not coop_ids:
        return []
    enrolled = select(col(Enrolment.household_id)).where(
        col(Enrolment.programme_id) == programme_id
    )
    return list(
        session.scalars(
            select(Household)
            .where(
                col(Household.coop_id).in_(list(coop_ids)),
                col(Household.status) == HouseholdStatus.active.value,
                col(Household.id).not_in(enrolled),
            )
            .order_by(col(Household.id))
        )
    )


def enrolment_outcome(
    session: Session, enrolment: Enrolment, household: Household, *, months: int, today: date
) -> EnrolmentOutcome:
    start = applied_on(enrolment)
    before = Window(add_months(start, -months), start)
    after: Window | None = None
    if enrolment.status == EnrolmentStatus.completed and enrolment.completed_at is not None:
        done = enrolment.completed_at.date()
        after = Window(done, add_months(done, months))
    enough = after is not None and today >= after.end
    ids = [household.id or 0]
    income_before = settled_income(session, ids, start=before.start, end=before.end)[ids[0]]
    pc_before = per_capita(income_before, household.household_size)
    pc_after: Fraction | None = None
    if enough and after is not None:
        income_after = settled_income(session, ids, start=after.start, end=after.end)[ids[0]]
        pc_after = per_capita(income_after, household.household_size)
    currency = enrolment.currency
    return EnrolmentOutcome(
        enrolment_id=enrolment.id or 0,
        household_id=household.id or 0,
        member_code=household.member_code,
        coop_id=enrolment.coop_id,
        status=EnrolmentStatus(enrolment.status),
        before=before.read(),
        after=after.read() if after else None,
        income_before_per_capita=MoneyRead(amount=rounded(pc_before), currency=currency),
        income_after_per_capita=_money(pc_after, currency),
        change_per_capita=_money(None if pc_after is None else pc_after - pc_before, currency),
        enough_data=enough,
    )


def programme_report(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    config: TrainingConfig,
    today: date | None = None,
) -> OutcomeReport:
    today = today or date.today()
    programme = visible_programme(session, actor=actor, programme_id=programme_id)
    view, coop_id = _view(actor)
    months = config.window_months
    first, last = programme_dates(session, programme_id)
    windows = programme_windows(first, last, months)
    enrolments = _programme_enrolments(session, programme, coop_id)
    completed = [e for e in enrolments if e.status == EnrolmentStatus.completed]
    participants = _households(session, [e.household_id for e in completed])
    others = _non_participants(
        session, programme_id, _report_coops(session, programme_id, coop_id, completed)
    )
    currency = programme.currency
    enough = windows is not None and today >= windows[1].end
    part_changes, other_changes, message = _group_changes(
        session, windows, participants, others, enough=enough
    )
    part_stats = _stats(list(part_changes.values()), currency)
    other_stats = _stats(list(other_changes.values()), currency)
    did_mean, did_median = _did(part_changes, other_changes, currency, enough=enough)
    rows: list[EnrolmentOutcome] | None = None
    if view != "public":
        rows = _enrolment_rows(session, enrolments, months=months, today=today)
    elif part_stats.count < config.public_min_group:
        # Too few people to publish figures without pointing at someone.
        empty = _stats([], currency)
        part_stats = empty.model_copy(update={"count": part_stats.count})
        other_stats = empty.model_copy(update={"count": other_stats.count})
        did_mean = did_median = None
        message = (
            f"Figures are published for groups of at least {config.public_min_group} participants."
        )
    return OutcomeReport(
        programme_id=programme_id,
        view=view,
        coop_id=coop_id,
        currency=currency,
        window_months=months,
        before=windows[0].read() if windows else None,
        after=windows[1].read() if windows else None,
        enough_data=enough,
        message=message,
        participants=part_stats,
        non_participants=other_stats,
        did_mean=did_mean,
        did_median=did_median,
        enrolments=rows,
    )


def _report_coops(
    session: Session, programme_id: int, coop_id: int | None, completed: list[Enrolment]
) -> list[int]:
    """The cooperatives whose non-participants form the comparison group."""
    if coop_id is not None:
        return [coop_id]
    return sorted({e.coop_id for e in completed} or set(eligible_coops(session, programme_id)))


def _group_changes(
    session: Session,
    windows: tuple[Window, Window] | None,
    participants: Sequence[Household],
    others: Sequence[Household],
    *,
    enough: bool,
) -> tuple[dict[int, Change], dict[int, Change], str]:
    """Each group's income changes between the windows, and what the report says about them."""
    if windows is None:
        return {}, {}, "Not enough data: the programme has no sessions yet."
    before, after = windows
    part_changes = _changes(session, participants, before, after, enough)
    other_changes = _changes(session, others, before, after, enough)
    message = (
        "Difference-in-differences of settled income per person."
        if enough
        else f"Not enough data: the after window ends on {after.end.isoformat()}."
    )
    return part_changes, other_changes, message


def _did(
    part_changes: dict[int, Change],
    other_changes: dict[int, Change],
    currency: str,
    *,
    enough: bool,
) -> tuple[MoneyRead | None, MoneyRead | None]:
    """Difference-in-differences (mean and median), once both groups have after-window data."""
    if not (enough and part_changes and other_changes):
        return None, None
    p = [c.delta for c in part_changes.values() if c.delta is not None]
    o = [c.delta for c in other_changes.values() if c.delta is not None]
    return _money(mean(p) - mean(o), currency), _money(median(p) - median(o), currency)


def _enrolment_rows(
    session: Session, enrolments: list[Enrolment], *, months: int, today: date
) -> list[EnrolmentOutcome]:
    by_id = {h.id: h for h in _households(session, [e.household_id for e in enrolments])}
    return [
        enrolment_outcome(session, e, by_id[e.household_id], months=months, today=today)
        for e in enrolments
        if e.status != EnrolmentStatus.applied
    ]


def _programme_enrolments(
    session: Session, programme: Programme, coop_id: int | None
) -> list[Enrolment]:
    query = (
        select(Enrolment)
        .where(col(Enrolment.programme_id) == programme.id)
        .order_by(col(Enrolment.id))
    )
    if coop_id is not None:
        query = query.where(col(Enrolment.coop_id) == coop_id)
    return list(session.scalars(query))


def _amount(money: MoneyRead | None) -> str:
    return "" if money is None else str(money.amount)


def report_csv(report: OutcomeReport) -> str:
    """The report as CSV: one summary row per group, then one row per enrolment (if shown)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(
        [
            "programme_id",
            "group",
            "count",
            "mean_before",
            "mean_after",
            "mean_change",
            "median_change",
            "currency",
            "before_start",
            "before_end",
            "after_start",
            "after_end",
        ]
    )
    for name, stats in (
        ("participants", report.participants),
        ("non_participants", report.non_participants),
    ):
        writer.writerow(
            [
                report.programme_id,
                name,
                stats.count,
                _amount(stats.mean_before),
                _amount(stats.mean_after),
                _amount(stats.mean_change),
                _amount(stats.median_change),
                report.currency,
                report.before.start if report.before else "",
                report.before.end if report.before else "",
                report.after.start if report.after else "",
                report.after.end if report.after else "",
            ]
        )
    writer.writerow(
        [
            report.programme_id,
            "difference_in_differences",
            "",
            "",
            "",
            _amount(report.did_mean),
            _amount(report.did_median),
            report.currency,
            "",
            "",
            "",
            "",
        ]
    )
    if report.enrolments is not None:
        writer.writerow([])
        writer.writerow(
            [
                "enrolment_id",
                "member_code",
                "coop_id",
                "status",
                "before_start",
                "before_end",
                "after_start",
                "after_end",
                "income_before_per_capita",
                "income_after_per_capita",
                "change_per_capita",
                "currency",
                "enough_data",
            ]
        )
        for row in report.enrolments:
            writer.writerow(
                [
                    row.enrolment_id,
                    row.member_code,
                    row.coop_id,
                    row.status.value,
                    row.before.start,
                    row.before.end,
                    row.after.start if row.after else "",
                    row.after.end if row.after else "",
                    row.income_before_per_capita.amount,
                    _amount(row.income_after_per_capita),
                    _amount(row.change_per_capita),
                    report.currency,
                    "yes" if row.enough_data else "no",
                ]
            )
    return out.getvalue()
