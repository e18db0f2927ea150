"""Households' payout details over time: an append-only history of every change (who, when, old,
new), and changes held while the household waits for a payout.

A payout batch keeps each line's payee as it was when the batch was made (the bank file pays
that). When a household's payout method or account changes while one of its lines is still
pending in an open batch, the line keeps the old payee and the change is held: staff see it on
the batch page and accept it (the line then pays the new details) or leave the line as it is.
"""

from sqlalchemy import func, select
from sqlmodel import Session, col

from catalog.models import Household, HouseholdPayoutChange
from catalog.schemas import PayoutChangeRead
from core.errors import Conflict
from ledger.base import utcnow
from ledger.payout_models import BatchStatus, PayoutBatch, PayoutLine, PayoutLineStatus
from ledger.payouts import get_line


class NoHeldChange(Conflict):
    title = "No payout details change to accept"
    type_slug = "payee-change-not-held"


def details_of(household: Household) -> tuple[str, str]:
    """(method, account) as the history and the payout lines store them."""
    return household.payout_method or "", household.payout_account or ""


def pending_lines(session: Session, household_id: int) -> list[PayoutLine]:
    """The household's lines still waiting in open batches."""
    return list(
        session.scalars(
            select(PayoutLine)
            .join(PayoutBatch, col(PayoutBatch.id) == col(PayoutLine.batch_id))
            .where(
                col(PayoutLine.household_id) == household_id,
                col(PayoutLine.status) == PayoutLineStatus.pending.value,
                col(PayoutBatch.status) == BatchStatus.open.value,
            )
            .order_by(col(PayoutLine.id))
        )
    )


def record_change(
    session: Session, *, household: Household, old: tuple[str, str], changed_by: str
) -> HouseholdPayoutChange | None:
    """Append the change from `old` to the household's present details (None if unchanged), and
    hold it on the household's pending payout lines."""
    new = details_of(household)
    if new == old:
        return None
    assert household.id is not None
    held = pending_lines(session, household.id)
    change = HouseholdPayoutChange(
        household_id=household.id,
        changed_by=changed_by,
        old_method=old[0],
        old_account=old[1],
        new_method=new[0],
        new_account=new[1],
        held_lines=len(held),
    )
    session.add(change)
    session.flush()
    for line in held:
        line.held_change_id = change.id
        session.add(line)
    session.flush()
    # The household is told by catalog.service (outbox kind payout_details_changed).
    return change


def changes_of(session: Session, household_id: int) -> list[HouseholdPayoutChange]:
    """The household's payout details history, newest first."""
    return list(
        session.scalars(
            select(HouseholdPayoutChange)
            .where(col(HouseholdPayoutChange.household_id) == household_id)
            .order_by(col(HouseholdPayoutChange.id).desc())
        )
    )


def change_read(change: HouseholdPayoutChange) -> PayoutChangeRead:
    assert change.id is not None
    return PayoutChangeRead(
        id=change.id,
        household_id=change.household_id,
        changed_by=change.changed_by,
        changed_at=change.changed_at,
        old_method=change.old_method,
        old_account=change.old_account,
        new_method=change.new_method,
        new_account=change.new_account,
    )


def changes_by_id(session: Session, ids: list[int]) -> dict[int, HouseholdPayoutChange]:
    if not ids:
        return {}
    found = session.scalars(
        select(HouseholdPayoutChange).where(col(HouseholdPayoutChange.id).in_(set(ids)))
    )
    return {c.id: c for c in found if c.id is not None}


def held_counts(session: Session) -> dict[int, int]:
    """Per batch, how many of its pending lines have a payout details change waiting."""
    rows = session.execute(
        select(col(PayoutLine.batch_id), func.count())
        .where(
            col(PayoutLine.held_change_id).is_not(None),
            col(PayoutLine.status) == PayoutLineStatus.pending.value,
        )
        .group_by(col(PayoutLine.batch_id))
    ).all()
    return {batch_id: count for batch_id, count in rows}


def accept_held_change(
    session: Session, *, line_id: int, change_id: int, accepted_by: str
) -> PayoutLine:
    """Staff accept the held change: the line pays the new details from now on."""
    line = get_line(session, line_id)
    if line.held_change_id is None or line.status != PayoutLineStatus.pending.value:
        raise NoHeldChange(f"Payout line {line_id} has no payout details change waiting.")
    if line.held_change_id != change_id:
        raise NoHeldChange(
            f"The payout details of line {line_id} changed again (change {line.held_change_id}); "
            "look at the batch again before accepting."
        )
    change = session.get(HouseholdPayoutChange, change_id)
    assert change is not None
    line.payee_method = change.new_method
    line.payee_account = change.new_account
    line.held_change_id = None
    line.payee_accepted_by = accepted_by
    line.payee_accepted_at = utcnow()
    session.add(line)
    session.flush()
    return line


__all__ = [
    "NoHeldChange",
    "accept_held_change",
    "change_read",
    "changes_by_id",
    "changes_of",
    "details_of",
    "held_counts",
    "pending_lines",
    "record_change",
]
