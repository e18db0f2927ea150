"""Household monitoring: per-capita income over a rolling 12 months against a line and against the
previous 12 months; alerts with reasons, case notes and outcomes (staff only).

Income of a household over a window = what settlements credited to its payable (the ledger, by
`training.income.settled_income`: sales minus refunds, payouts and tuition left out) + off-platform
income recorded by staff with a source. Per capita divides by the household size, exactly.

The line is either absolute (multiplier × the poverty line, per person per year) or relative (a
share of the median per-capita income of every active member household). A fall of `drop_bp` or
more against the previous 12 months is an alert too. `run_monitor` is idempotent: one open alert
per household and reason, refreshed (not duplicated) by every run; staff close it with an outcome.
"""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_currency, get_currency_precision
from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import Household, HouseholdStatus
from core.actor import Actor
from governance.errors import GovernanceForbidden, GovernanceInvalid, GovernanceNotFound, WrongPhase
from governance.models import (
    Alert,
    AlertReason,
    AlertStatus,
    CaseNote,
    LineKind,
    MonitoringConfig,
    OffPlatformIncome,
)
from governance.plan_models import HouseholdPlan, SocialWorkerAssignment
from ledger.base import utcnow
from ledger.service import EARLIEST_YEAR, plausible_year
from notify import outbox
from notify.kinds import Kind
from training.income import add_months, per_capita, rounded, settled_income
from training.models import Eligibility, Programme, ProgrammeCoop, ProgrammeStatus

CONFIG_ID = 1


def actor_label(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else actor.role


def require_reader(actor: Actor) -> None:
    """Staff and the auditor read household monitoring."""
    if not actor.reads_all:
        raise GovernanceForbidden(
            f"Only staff may see household monitoring (you are {actor.role})."
        )


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise GovernanceForbidden(
            f"Only staff may see or change household monitoring (you are {actor.role})."
        )


# --- Configuration and off-platform income ---------------------------------------------------


def get_config(session: Session) -> MonitoringConfig:
    return session.get(MonitoringConfig, CONFIG_ID) or MonitoringConfig(id=CONFIG_ID)


def set_config(session: Session, *, actor: Actor, values: dict[str, Any]) -> MonitoringConfig:
    require_staff(actor)
    config = session.get(MonitoringConfig, CONFIG_ID) or MonitoringConfig(id=CONFIG_ID)
    for name, value in values.items():
        setattr(config, name, value)
    if config.line_kind not in (LineKind.absolute, LineKind.relative):
        raise GovernanceInvalid("line_kind is 'absolute' or 'relative'.", loc=["body", "line_kind"])
    config.updated_by = actor_label(actor)
    config.updated_at = utcnow()
    session.add(config)
    session.flush()
    return config


def _household(session: Session, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise GovernanceNotFound(f"No household {household_id}.")
    return household


def record_income(
    session: Session,
    *,
    actor: Actor,
    household_id: int,
    amount: int,
    currency: str,
    received_on: date,
    source: str,
    note: str = "",
) -> OffPlatformIncome:
    require_staff(actor)
    _household(session, household_id)
    if not source.strip():
        raise GovernanceInvalid("Say where the income came from (source).", loc=["body", "source"])
    if received_on > date.today():
        raise GovernanceInvalid("received_on is in the future.", loc=["body", "received_on"])
    if not plausible_year(received_on.year):
        raise GovernanceInvalid(
            f"received_on {received_on.isoformat()} is not a plausible date: the year must be "
            f"between {EARLIEST_YEAR} and today.",
            loc=["body", "received_on"],
        )
    income = OffPlatformIncome(
        household_id=household_id,
        amount=amount,
        currency=currency,
        received_on=received_on,
        source=source.strip(),
        note=note,
        recorded_by=actor_label(actor),
    )
    session.add(income)
    session.flush()
    return income


def list_income(session: Session, *, actor: Actor, household_id: int) -> list[OffPlatformIncome]:
    require_reader(actor)
    _household(session, household_id)
    return list(
        session.scalars(
            select(OffPlatformIncome)
            .where(col(OffPlatformIncome.household_id) == household_id)
            .order_by(col(OffPlatformIncome.received_on), col(OffPlatformIncome.id))
        ).all()
    )


def off_platform_income(
    session: Session, household_ids: Collection[int], *, start: date, end: date, currency: str
) -> dict[int, int]:
    """Household id → recorded off-platform income over [start, end)."""
    rows = session.execute(
        select(col(OffPlatformIncome.household_id), func.sum(col(OffPlatformIncome.amount)))
        .where(
            col(OffPlatformIncome.household_id).in_(sorted(household_ids)),
            col(OffPlatformIncome.currency) == currency,
            col(OffPlatformIncome.received_on) >= start,
            col(OffPlatformIncome.received_on) < end,
        )
        .group_by(col(OffPlatformIncome.household_id))
    ).all()
    return {int(h): int(total or 0) for h, total in rows}


# --- The monitor -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    current: tuple[date, date]
    previous: tuple[date, date]


def windows(as_of: date) -> Windows:
    """The 12 months up to and including `as_of`, and the 12 months before them ([start, end))."""
    end = as_of + timedelta(days=1)
    start = add_months(end, -12)
    return Windows(current=(start, end), previous=(add_months(end, -24), start))


def money(amount: int | Fraction, currency: str) -> str:
    value = Decimal(rounded(Fraction(amount))).scaleb(-get_currency_precision(currency))
    return str(format_currency(value, currency, locale="en"))


@dataclass
class MonitorResult:
    as_of: date
    households: int
    line: int
    opened: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)


def _incomes(
    session: Session, households: list[Household], window: tuple[date, date], currency: str
) -> dict[int, int]:
    ids = [h.id for h in households if h.id is not None]
    ledger_part = settled_income(session, ids, start=window[0], end=window[1])
    outside = off_platform_income(session, ids, start=window[0], end=window[1], currency=currency)
    return {h: ledger_part.get(h, 0) + outside.get(h, 0) for h in ids}


def _median(values: list[Fraction]) -> Fraction:
    if not values:
        return Fraction(0)
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def income_line(config: MonitoringConfig, per_person: list[Fraction]) -> Fraction:
    if config.line_kind == LineKind.relative:
        return _median(per_person) * Fraction(config.relative_bp, 10_000)
    return Fraction(config.poverty_line * config.multiplier_bp, 10_000)


def run_monitor(session: Session, *, as_of: date | None = None) -> MonitorResult:
    """Recompute every active household's figures; open or refresh alerts (idempotent)."""
    as_of = as_of or date.today()
    config = get_config(session)
    currency = config.currency
    households = list(
        session.scalars(
            select(Household)
            .where(col(Household.status) == HouseholdStatus.active.value)
            .order_by(col(Household.id))
        ).all()
    )
    span = windows(as_of)
    current = _incomes(session, households, span.current, currency)
    previous = _incomes(session, households, span.previous, currency)
    per_person = {
        h.id: per_capita(current[h.id], h.household_size) for h in households if h.id is not None
    }
    line = income_line(config, list(per_person.values()))
    result = MonitorResult(as_of=as_of, households=len(households), line=rounded(line))
    for household in households:
        assert household.id is not None
        now, before = current[household.id], previous[household.id]
        figures = {
            "as_of": as_of.isoformat(),
            "currency": currency,
            "income_12m": now,
            "income_previous_12m": before,
            "household_size": household.household_size,
            "per_capita_12m": rounded(per_person[household.id]),
            "per_capita_previous_12m": rounded(per_capita(before, household.household_size)),
            "line": rounded(line),
            "line_kind": config.line_kind,
        }
        if per_person[household.id] < line:
            detail = (
                f"Income per person over the 12 months to {as_of.isoformat()} is "
                f"{money(per_person[household.id], currency)}, below the line of "
                f"{money(line, currency)} ({config.line_kind})."
            )
            _raise(session, household, AlertReason.below_line, detail, figures, as_of, result)
        if before > 0 and (before - now) * 10_000 >= config.drop_bp * before:
            fall = Fraction((before - now) * 100, before)
            figures = {**figures, "drop_percent": rounded(fall)}
            detail = (
                f"Income fell {rounded(fall)} % against the previous 12 months: per person "
                f"{money(per_capita(before, household.household_size), currency)} → "
                f"{money(per_person[household.id], currency)} (alert at "
                f"{config.drop_bp / 100:g} % or more)."
            )
            _raise(session, household, AlertReason.income_drop, detail, figures, as_of, result)
    session.flush()
    return result


def _raise(
    session: Session,
    household: Household,
    reason: AlertReason,
    detail: str,
    figures: dict[str, Any],
    as_of: date,
    result: MonitorResult,
) -> None:
    existing = session.scalars(
        select(Alert).where(
            col(Alert.household_id) == household.id,
            col(Alert.reason) == reason.value,
            col(Alert.status) == AlertStatus.open.value,
        )
    ).first()
    if existing is not None:
        existing.detail, existing.figures, existing.as_of = detail, figures, as_of
        existing.updated_at = utcnow()
        session.add(existing)
        result.refreshed.append(existing.id or 0)
        return
    alert = Alert(
        household_id=household.id or 0,
        coop_id=household.coop_id,
        reason=reason.value,
        detail=detail,
        figures=figures,
        as_of=as_of,
    )
    session.add(alert)
    session.flush()
    result.opened.append(alert.id or 0)
    outbox.record(
        session,
        kind=Kind.alert_raised,
        event_key=f"alert:{alert.id}",
        audiences=[outbox.to_staff()],
        payload={"alert_id": alert.id, "member_code": household.member_code, "as_of": as_of},
    )
    _propose_plan_review(session, household, alert, as_of)


def _propose_plan_review(session: Session, household: Household, alert: Alert, as_of: date) -> None:
    """An alert proposes a plan review (or a first plan) to the household's social workers."""
    workers = session.scalars(
        select(SocialWorkerAssignment.user_id).where(
            col(SocialWorkerAssignment.household_id) == household.id
        )
    ).all()
    if not workers:
        return
    has_plan = session.scalars(
        select(HouseholdPlan.id).where(col(HouseholdPlan.household_id) == household.id)
    ).first()
    outbox.record(
        session,
        kind=Kind.plan_review_proposed,
        event_key=f"alert:{alert.id}:plan-review",
        audiences=[outbox.to_user(worker) for worker in sorted(workers)],
        payload={
            "alert_id": alert.id,
            "household_id": household.id,
            "member_code": household.member_code,
            "as_of": as_of,
            "has_plan": has_plan is not None,
        },
    )


def alerts_for_worker(session: Session, *, actor: Actor, status: str = "open") -> list[Alert]:
    """Alerts of the households a social worker serves, newest first."""
    if actor.role != "social_worker" or actor.user_id is None:
        raise GovernanceForbidden("Only social workers have a list of their households' alerts.")
    query = (
        select(Alert)
        .join(
            SocialWorkerAssignment,
            col(SocialWorkerAssignment.household_id) == col(Alert.household_id),
        )
        .where(col(SocialWorkerAssignment.user_id) == actor.user_id)
        .where(col(Alert.status) == status)
        .order_by(col(Alert.id).desc())
    )
    return list(session.scalars(query).all())


# --- Alerts and case notes -------------------------------------------------------------------


def list_alerts(session: Session, *, actor: Actor, status: str | None = None) -> list[Alert]:
    require_reader(actor)
    query = select(Alert).order_by(col(Alert.id).desc())
    if status is not None:
        if status not in (AlertStatus.open, AlertStatus.closed):
            raise GovernanceInvalid("status is 'open' or 'closed'.", loc=["query", "status"])
        query = query.where(col(Alert.status) == status)
    return list(session.scalars(query).all())


def get_alert(session: Session, *, actor: Actor, alert_id: int) -> Alert:
    require_reader(actor)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise GovernanceNotFound(f"No alert {alert_id}.")
    return alert


def add_note(session: Session, *, actor: Actor, alert_id: int, body: str) -> CaseNote:
    require_staff(actor)
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if not body.strip():
        raise GovernanceInvalid("A case note needs some text.", loc=["body", "body"])
    note = CaseNote(
        alert_id=alert_id,
        household_id=alert.household_id,
        body=body.strip(),
        author=actor_label(actor),
    )
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, alert_id: int) -> list[CaseNote]:
    return list(
        session.scalars(
            select(CaseNote).where(col(CaseNote.alert_id) == alert_id).order_by(col(CaseNote.id))
        ).all()
    )


def close_alert(session: Session, *, actor: Actor, alert_id: int, outcome: str) -> Alert:
    require_staff(actor)
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status == AlertStatus.closed:
        raise WrongPhase(f"Alert {alert_id} was already closed ({alert.outcome!r}).")
    if not outcome.strip():
        raise GovernanceInvalid("Say how the alert ended (outcome).", loc=["body", "outcome"])
    alert.status = AlertStatus.closed.value
    alert.outcome = outcome.strip()
    alert.closed_at = utcnow()
    alert.closed_by = actor_label(actor)
    session.add(alert)
    session.flush()
    return alert


def suggested_programmes(session: Session, coop_id: int) -> list[Programme]:
    """Open programmes a member of this cooperative may apply to."""
    for_coop = select(col(ProgrammeCoop.programme_id)).where(col(ProgrammeCoop.coop_id) == coop_id)
    return list(
        session.scalars(
            select(Programme)
            .where(
                col(Programme.status) == ProgrammeStatus.open.value,
                (col(Programme.eligibility) == Eligibility.open.value)
                | col(Programme.id).in_(for_coop),
            )
            .order_by(col(Programme.id))
        ).all()
    )


def flagged_households(session: Session, household_ids: Collection[int]) -> set[int]:
    """Households with an open alert (training's `FlagSource` for applicants' priority)."""
    if not household_ids:
        return set()
    return {
        int(h)
        for h in session.scalars(
            select(col(Alert.household_id)).where(
                col(Alert.status) == AlertStatus.open.value,
                col(Alert.household_id).in_(sorted(household_ids)),
            )
        ).all()
    }


def alert_read(session: Session, alert: Alert, *, full: bool = True) -> dict[str, Any]:
    household = session.get(Household, alert.household_id)
    body: dict[str, Any] = {
        "id": alert.id,
        "household_id": alert.household_id,
        "member_code": household.member_code if household else None,
        "household_name": household.name if household else None,
        "coop_id": alert.coop_id,
        "reason": alert.reason,
        "status": alert.status,
        "detail": alert.detail,
        "figures": alert.figures,
        "as_of": alert.as_of.isoformat(),
        "created_at": alert.created_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
        "closed_by": alert.closed_by,
        "outcome": alert.outcome,
    }
    if full:
        body["notes"] = [note_read(n) for n in notes_of(session, alert.id or 0)]
        body["suggested_programmes"] = [
            {"id": p.id, "title": {"zh": p.title_zh, "en": p.title_en}, "skill_area": p.skill_area}
            for p in suggested_programmes(session, alert.coop_id)
        ]
    return body


def note_read(note: CaseNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "alert_id": note.alert_id,
        "body": note.body,
        "author": note.author,
        "created_at": note.created_at.isoformat(),
    }


def open_alert_counts(session: Session) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for coop_id, n in session.execute(
        select(col(Alert.coop_id), func.count(col(Alert.id)))
        .where(col(Alert.status) == AlertStatus.open.value)
        .group_by(col(Alert.coop_id))
    ):
        counts[int(coop_id)] = int(n)
    return dict(counts)
