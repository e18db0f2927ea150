"""Payouts seen with households: who is paid (active members), their codes, names and payout details.

The ledger knows households only by id and payable account; this module joins what people need
(member code, name, payout method and account) and refuses paying a household that left.
Payout details are personal data: callers show them to staff only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from catalog.models import Cooperative, Household, HouseholdStatus
from catalog.permissions import require_coop_manager, require_coop_reader
from catalog.service import get_coop, get_household, payable_account_key
from core.actor import Actor
from core.errors import Conflict, NotFound
from ledger import payouts, reports
from ledger.payout_models import PayoutBatch, PayoutLine
from notify import outbox
from notify.kinds import Kind


class HouseholdLeft(Conflict):
    title = "Household left the cooperative"
    type_slug = "household-left"


@dataclass(frozen=True)
class PayoutRow:
    """One line of a batch with the household's details, as the bank export needs it."""

    line_id: int
    household_id: int
    member_code: str
    name: str
    payout_method: str
    payout_account: str
    amount: int
    currency: str
    status: str
    bank_reference: str
    # A change of the household's payout details waiting for staff (the line pays the old ones).
    held_change_id: int | None = None


def coop_payees(session: Session, coop_id: int) -> list[payouts.Payee]:
    """Every active household of the cooperative, with its payable account."""
    households = session.scalars(
        select(Household).where(
            col(Household.coop_id) == coop_id,
            col(Household.status) == HouseholdStatus.active.value,
        )
    )
    return [
        payouts.Payee(
            household_id=h.id,
            payable_account=payable_account_key(h.id),
            member_code=h.member_code,
            name=h.name,
            method=h.payout_method or "",
            account=h.payout_account,
        )
        for h in households
        if h.id is not None
    ]


def create_coop_batch(
    session: Session,
    *,
    coop_id: int,
    period: str,
    currency: str,
    minimum: int,
    effective_date: date,
    created_by: str | None,
) -> payouts.BatchResult:
    get_coop(session, coop_id)
    return payouts.create_batch(
        session,
        coop_id=coop_id,
        period=period,
        currency=currency,
        payees=coop_payees(session, coop_id),
        minimum=minimum,
        effective_date=effective_date,
        created_by=created_by,
    )


def _require_still_member(session: Session, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(f"There is no household {household_id}.")
    if household.status == HouseholdStatus.left.value:
        raise HouseholdLeft(
            f"Household {household.member_code} left the cooperative; it cannot be paid through "
            "this batch. Mark the line failed (the money returns to its payable) and settle "
            "with the household separately."
        )
    return household


def confirm_payout_line(
    session: Session,
    *,
    line_id: int,
    bank_reference: str,
    paid_on: date,
    decided_by: str | None,
) -> PayoutLine:
    line = payouts.get_line(session, line_id)
    if line.status == "pending":
        _require_still_member(session, line.household_id)
    paid = payouts.confirm_line(
        session,
        line_id=line_id,
        bank_reference=bank_reference,
        paid_on=paid_on,
        decided_by=decided_by,
    )
    _tell_household(session, paid)
    return paid


def confirm_payout_batch(
    session: Session,
    *,
    batch_id: int,
    bank_reference: str,
    paid_on: date,
    decided_by: str | None,
) -> list[PayoutLine]:
    for line in payouts.batch_lines(session, batch_id):
        if line.status == "pending":
            _require_still_member(session, line.household_id)
    lines = payouts.confirm_batch(
        session,
        batch_id=batch_id,
        bank_reference=bank_reference,
        paid_on=paid_on,
        decided_by=decided_by,
    )
    for line in lines:
        _tell_household(session, line)
    return lines


def fail_payout_line(
    session: Session, *, line_id: int, reason: str, decided_by: str | None
) -> PayoutLine:
    line = payouts.fail_line(session, line_id=line_id, reason=reason, decided_by=decided_by)
    _tell_household(session, line)
    return line


def _tell_household(session: Session, line: PayoutLine) -> None:
    """The household hears that its payout was paid or failed (once per line and outcome)."""
    kind = {"paid": Kind.payout_paid, "failed": Kind.payout_failed}.get(line.status)
    if kind is None:
        return
    outbox.record(
        session,
        kind=kind,
        event_key=f"payout-line:{line.id}:{line.status}",
        audiences=[outbox.to_household(line.household_id)],
        payload={"amount": line.amount, "currency": line.currency, "line_id": line.id},
    )


def households_by_id(session: Session, ids: Sequence[int]) -> dict[int, Household]:
    if not ids:
        return {}
    rows = session.scalars(select(Household).where(col(Household.id).in_(set(ids))))
    return {h.id: h for h in rows if h.id is not None}


def batch_rows(session: Session, batch_id: int) -> list[PayoutRow]:
    """The batch's lines with the payee each line pays: the one kept when the batch was made (or
    accepted by staff since), never the household's present details."""
    rows = []
    for line in payouts.batch_lines(session, batch_id):
        assert line.id is not None
        rows.append(
            PayoutRow(
                line_id=line.id,
                household_id=line.household_id,
                member_code=line.payee_member_code,
                name=line.payee_name,
                payout_method=line.payee_method,
                payout_account=line.payee_account,
                amount=line.amount,
                currency=line.currency,
                status=line.status,
                bank_reference=line.bank_reference or "",
                held_change_id=line.held_change_id,
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryRow:
    line_id: int
    batch_id: int
    coop_id: int
    period: str
    household_id: int
    member_code: str
    name: str
    amount: int
    currency: str
    status: str
    bank_reference: str
    paid_on: date | None
    failure_reason: str


def household_statement(
    session: Session,
    *,
    actor: Actor,
    household_id: int,
    since: date | None = None,
    until: date | None = None,
) -> tuple[Household, reports.IncomeStatement]:
    """The household's own income statement: its farmer, its cooperative's manager, staff."""
    household = get_household(session, actor=actor, household_id=household_id)
    statement = reports.income_statement(
        session, payable_account_key(household_id), since=since, until=until
    )
    return household, statement


def household_monthly_income(
    session: Session, *, actor: Actor, household_id: int
) -> tuple[Household, list[tuple[str, int]]]:
    household = get_household(session, actor=actor, household_id=household_id)
    return household, reports.monthly_income(session, payable_account_key(household_id))


def coop_report(
    session: Session,
    *,
    actor: Actor,
    coop_id: int,
    currency: str,
    since: date | None = None,
    until: date | None = None,
) -> tuple[Cooperative, reports.CoopReport]:
    """A cooperative's report: its manager or staff."""
    coop = get_coop(session, coop_id)
    require_coop_reader(actor, coop_id)
    keys = [
        payable_account_key(h)
        for h in session.scalars(select(col(Household.id)).where(col(Household.coop_id) == coop_id))
        if h is not None
    ]
    report = reports.coop_report(
        session,
        coop_id=coop_id,
        currency=currency,
        payable_accounts=keys,
        since=since,
        until=until,
    )
    return coop, report


def payout_history(
    session: Session,
    *,
    actor: Actor,
    coop_id: int | None = None,
    household_id: int | None = None,
) -> list[HistoryRow]:
    """Payout lines, newest first: staff all, a manager their cooperative's, a farmer their own."""
    coop_id, household_id = _history_scope(session, actor, coop_id, household_id)
    query = (
        select(PayoutLine, PayoutBatch)
        .join(PayoutBatch, col(PayoutBatch.id) == col(PayoutLine.batch_id))
        .order_by(col(PayoutLine.id).desc())
    )
    if household_id is not None:
        query = query.where(col(PayoutLine.household_id) == household_id)
    if coop_id is not None:
        query = query.where(col(PayoutBatch.coop_id) == coop_id)
    found = list(session.execute(query).tuples())
    households = households_by_id(session, [line.household_id for line, _ in found])
    return [_history_row(line, batch, households.get(line.household_id)) for line, batch in found]


def _history_scope(
    session: Session, actor: Actor, coop_id: int | None, household_id: int | None
) -> tuple[int | None, int | None]:
    """The (coop, household) filter this actor may see: what they named, else their own."""
    if household_id is not None:
        get_household(session, actor=actor, household_id=household_id)
    elif coop_id is not None:
        require_coop_reader(actor, coop_id)
    elif not actor.reads_all:
        if actor.role == "farmer" and actor.household_id is not None:
            household_id = actor.household_id
        elif actor.role == "manager" and actor.coop_id is not None:
            coop_id = actor.coop_id
        else:
            require_coop_manager(actor, -1)
    return coop_id, household_id


def _history_row(line: PayoutLine, batch: PayoutBatch, household: Household | None) -> HistoryRow:
    assert line.id is not None
    assert batch.id is not None
    return HistoryRow(
        line_id=line.id,
        batch_id=batch.id,
        coop_id=batch.coop_id,
        period=batch.period,
        household_id=line.household_id,
        member_code=household.member_code if household else "",
        name=household.name if household else "",
        amount=line.amount,
        currency=line.currency,
        status=line.status,
        bank_reference=line.bank_reference or "",
        paid_on=line.paid_on,
        failure_reason=line.failure_reason,
    )


def coop_names(session: Session) -> dict[int, str]:
    return {c.id: c.name_zh for c in session.scalars(select(Cooperative)) if c.id is not None}


__all__ = [
    "HistoryRow",
    "HouseholdLeft",
    "PayoutRow",
    "batch_rows",
    "confirm_payout_batch",
    "confirm_payout_line",
    "coop_names",
    "coop_payees",
    "coop_report",
    "household_monthly_income",
    "household_statement",
    "payout_history",
    "create_coop_batch",
    "households_by_id",
]
