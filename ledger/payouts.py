"""Payout batches: hold each member's payable in a pending account, then pay it to the bank or return it.

Creating a batch posts, per line, Dr member payable / Cr `liabilities:payouts:pending`: the money
leaves the payable at once, so the same balance can never be put in two batches, and the payable's
`non_negative` limit refuses a hold larger than what it holds (even under concurrency). Confirming
a line posts Dr pending / Cr `assets:bank` with the bank's reference; failing it reverses the hold,
so the money is back on the payable. Every step is idempotent by its ledger idempotency key.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from core.errors import Conflict, Invalid, NotFound
from ledger.accounts import open_account
from ledger.balances import balance
from ledger.base import utcnow
from ledger.models import AccountType, Side
from ledger.payout_models import BatchStatus, PayoutBatch, PayoutLine, PayoutLineStatus
from ledger.periods import require_plausible_period
from ledger.service import EntrySpec, PostingSpec, post, reverse

PENDING_ACCOUNT = "liabilities:payouts:pending"
BANK_ACCOUNT = "assets:bank"
DEFAULT_MINIMUM = 1000  # 10.00 in minor units: smaller balances wait for the next batch
REFERENCE_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


class PayoutConflict(Conflict):
    title = "Payout conflict"
    type_slug = "payout-conflict"


class PayoutNotFound(NotFound):
    title = "Payout not found"
    type_slug = "payout-not-found"


@dataclass(frozen=True)
class Payee:
    """A household as the ledger knows it: an opaque id and its payable account key, with the
    details the bank needs (opaque text to the ledger), kept on the line as they are now."""

    household_id: int
    payable_account: str
    member_code: str = ""
    name: str = ""
    method: str = ""
    account: str = ""


@dataclass(frozen=True)
class BatchResult:
    batch: PayoutBatch
    lines: list[PayoutLine]
    replayed: bool


def owner(batch: PayoutBatch, payee: Payee | PayoutLine) -> dict[str, int | None]:
    """A payout posting's attribution: the batch's cooperative and the household paid."""
    return {"coop_id": batch.coop_id, "household_id": payee.household_id}


def _check_period(period: str) -> None:
    """A well-formed month of a plausible year (a batch for 0000-01 is a typo)."""
    require_plausible_period(period, loc=("body", "period"))


def get_batch(session: Session, batch_id: int) -> PayoutBatch:
    batch = session.get(PayoutBatch, batch_id)
    if batch is None:
        raise PayoutNotFound(f"There is no payout batch {batch_id}.")
    return batch


def batch_lines(session: Session, batch_id: int) -> list[PayoutLine]:
    return list(
        session.scalars(
            select(PayoutLine)
            .where(col(PayoutLine.batch_id) == batch_id)
            .order_by(col(PayoutLine.household_id))
        )
    )


def get_line(session: Session, line_id: int) -> PayoutLine:
    line = session.get(PayoutLine, line_id)
    if line is None:
        raise PayoutNotFound(f"There is no payout line {line_id}.")
    return line


def list_batches(session: Session, *, coop_id: int | None = None) -> list[PayoutBatch]:
    query = select(PayoutBatch).order_by(col(PayoutBatch.id).desc())
    if coop_id is not None:
        query = query.where(col(PayoutBatch.coop_id) == coop_id)
    return list(session.scalars(query))


def _existing_batch(
    session: Session, *, coop_id: int, period: str, currency: str
) -> PayoutBatch | None:
    return session.scalars(
        select(PayoutBatch).where(
            col(PayoutBatch.coop_id) == coop_id,
            col(PayoutBatch.period) == period,
            col(PayoutBatch.currency) == currency,
        )
    ).first()


def create_batch(
    session: Session,
    *,
    coop_id: int,
    period: str,
    currency: str,
    payees: Sequence[Payee],
    minimum: int = DEFAULT_MINIMUM,
    effective_date: date,
    created_by: str | None = None,
) -> BatchResult:
    """One batch per cooperative, period and currency; asking again returns the first one."""
    _check_period(period)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise Invalid(
            "The minimum must be a positive whole number of minor units.",
            errors=[{"loc": ["body", "minimum"], "msg": "integer ≥ 1"}],
        )
    existing = _existing_batch(session, coop_id=coop_id, period=period, currency=currency)
    if existing is not None:
        if existing.minimum_amount != minimum:
            raise PayoutConflict(
                f"The {period} batch of cooperative {coop_id} exists with the minimum "
                f"{existing.minimum_amount}, not {minimum}."
            )
        assert existing.id is not None
        return BatchResult(existing, batch_lines(session, existing.id), replayed=True)
    batch = PayoutBatch(
        coop_id=coop_id,
        period=period,
        currency=currency,
        minimum_amount=minimum,
        effective_date=effective_date,
        created_by=created_by,
    )
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:
        # A concurrent request made it first (it waited for that one's commit).
        raced = _existing_batch(session, coop_id=coop_id, period=period, currency=currency)
        if raced is None:
            raise
        assert raced.id is not None
        return BatchResult(raced, batch_lines(session, raced.id), replayed=True)
    assert batch.id is not None
    open_account(
        session,
        key=PENDING_ACCOUNT,
        type=AccountType.liability,
        currency=currency,
        name="Payouts sent to the bank, not yet confirmed",
    )
    lines: list[PayoutLine] = []
    for payee in sorted(payees, key=lambda p: p.household_id):
        owed = balance(session, payee.payable_account).amount
        if owed < minimum:
            continue
        entry = post(
            session,
            EntrySpec(
                kind="payout",
                effective_date=effective_date,
                postings=(
                    PostingSpec(
                        payee.payable_account, Side.debit, owed, currency, **owner(batch, payee)
                    ),
                    PostingSpec(
                        PENDING_ACCOUNT, Side.credit, owed, currency, **owner(batch, payee)
                    ),
                ),
                idempotency_key=f"payout:hold:{batch.id}:{payee.household_id}",
                memo=f"Payout batch {batch.id} ({period}): held for household",
                reference=f"payout-batch:{batch.id}",
                metadata={"payout_batch": batch.id, "household": payee.household_id},
                created_by=created_by,
            ),
        ).entry
        assert entry.id is not None
        line = PayoutLine(
            batch_id=batch.id,
            household_id=payee.household_id,
            payable_account=payee.payable_account,
            amount=owed,
            currency=currency,
            hold_entry_id=entry.id,
            payee_member_code=payee.member_code,
            payee_name=payee.name,
            payee_method=payee.method,
            payee_account=payee.account,
        )
        session.add(line)
        lines.append(line)
    if not lines:
        batch.status = BatchStatus.done.value
    session.flush()
    return BatchResult(batch, lines, replayed=False)


def _refresh_batch_status(session: Session, batch_id: int) -> None:
    batch = get_batch(session, batch_id)
    pending = session.scalars(
        select(col(PayoutLine.id)).where(
            col(PayoutLine.batch_id) == batch_id,
            col(PayoutLine.status) == PayoutLineStatus.pending.value,
        )
    ).first()
    batch.status = BatchStatus.open.value if pending is not None else BatchStatus.done.value
    session.add(batch)


def _check_reference(reference: str) -> str:
    reference = reference.strip()
    if not reference or len(reference) > 100 or not REFERENCE_PATTERN.match(reference):
        raise Invalid(
            "The bank reference must be 1–100 characters.",
            errors=[{"loc": ["body", "bank_reference"], "msg": "1–100 characters"}],
        )
    return reference


def confirm_line(
    session: Session,
    *,
    line_id: int,
    bank_reference: str,
    paid_on: date,
    decided_by: str | None = None,
) -> PayoutLine:
    """Pending → paid: Dr pending / Cr bank. Again with the same reference: the same answer."""
    reference = _check_reference(bank_reference)
    line = get_line(session, line_id)
    if line.status == PayoutLineStatus.paid.value:
        if line.bank_reference == reference:
            return line
        raise PayoutConflict(
            f"Payout line {line_id} was already confirmed with the bank reference "
            f"{line.bank_reference!r}."
        )
    if line.status == PayoutLineStatus.failed.value:
        raise PayoutConflict(
            f"Payout line {line_id} failed and its money went back to the member; "
            "it cannot be confirmed. Put it in a new batch."
        )
    batch = get_batch(session, line.batch_id)
    _open_bank(session, line.currency)
    entry = post(
        session,
        EntrySpec(
            kind="payout",
            effective_date=paid_on,
            postings=(
                PostingSpec(
                    PENDING_ACCOUNT, Side.debit, line.amount, line.currency, **owner(batch, line)
                ),
                PostingSpec(
                    BANK_ACCOUNT, Side.credit, line.amount, line.currency, **owner(batch, line)
                ),
            ),
            idempotency_key=f"payout:paid:{line_id}",
            memo=f"Payout batch {batch.id} ({batch.period}): paid to household",
            reference=reference,
            metadata={
                "payout_batch": line.batch_id,
                "payout_line": line_id,
                "household": line.household_id,
            },
            created_by=decided_by,
        ),
    ).entry
    line.status = PayoutLineStatus.paid.value
    line.paid_entry_id = entry.id
    line.bank_reference = reference
    line.paid_on = paid_on
    line.decided_by = decided_by
    line.decided_at = utcnow()
    session.add(line)
    session.flush()
    _refresh_batch_status(session, line.batch_id)
    return line


def _open_bank(session: Session, currency: str) -> None:
    open_account(
        session,
        key=BANK_ACCOUNT,
        type=AccountType.asset,
        currency=currency,
        name="The social enterprise's bank account",
    )


def fail_line(
    session: Session, *, line_id: int, reason: str, decided_by: str | None = None
) -> PayoutLine:
    """Pending → failed: the hold is reversed, so the money is back on the member's payable."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise Invalid(
            "Say why the payout failed (1–500 characters).",
            errors=[{"loc": ["body", "reason"], "msg": "1–500 characters"}],
        )
    line = get_line(session, line_id)
    if line.status == PayoutLineStatus.failed.value:
        return line
    if line.status == PayoutLineStatus.paid.value:
        raise PayoutConflict(
            f"Payout line {line_id} was confirmed as paid (reference {line.bank_reference!r}); "
            "a paid line cannot fail."
        )
    reversal = reverse(
        session, line.hold_entry_id, created_by=decided_by, memo=f"Payout failed: {reason}"
    )
    line.status = PayoutLineStatus.failed.value
    line.failed_entry_id = reversal.id
    line.failure_reason = reason
    line.decided_by = decided_by
    line.decided_at = utcnow()
    session.add(line)
    session.flush()
    _refresh_batch_status(session, line.batch_id)
    return line


def confirm_batch(
    session: Session,
    *,
    batch_id: int,
    bank_reference: str,
    paid_on: date,
    decided_by: str | None = None,
) -> list[PayoutLine]:
    """Every pending line of a batch paid in one transfer, with one bank reference."""
    get_batch(session, batch_id)
    confirmed = []
    for line in batch_lines(session, batch_id):
        if line.status == PayoutLineStatus.pending.value:
            assert line.id is not None
            confirmed.append(
                confirm_line(
                    session,
                    line_id=line.id,
                    bank_reference=bank_reference,
                    paid_on=paid_on,
                    decided_by=decided_by,
                )
            )
    return confirmed


def household_lines(session: Session, household_id: int) -> list[PayoutLine]:
    return list(
        session.scalars(
            select(PayoutLine)
            .where(col(PayoutLine.household_id) == household_id)
            .order_by(col(PayoutLine.id))
        )
    )


__all__ = [
    "BANK_ACCOUNT",
    "DEFAULT_MINIMUM",
    "PENDING_ACCOUNT",
    "BatchResult",
    "Payee",
    "PayoutConflict",
    "PayoutNotFound",
    "batch_lines",
    "confirm_batch",
    "confirm_line",
    "create_batch",
    "fail_line",
    "get_batch",
    "get_line",
    "household_lines",
    "list_batches",
]
