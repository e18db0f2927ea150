"""Reversals: the mirror image of an entry, linked to it, at most once; and a person's reversal,
refused for entries whose own flow (an order, a payout, an enrolment) corrects them.

Posted through ledger/posting.py like every entry.
"""

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.base import utcnow
from ledger.errors import AlreadyReversed, EntryNotFound, EntryOwnedByFlow, IdempotencyConflict
from ledger.models import Account, JournalEntry, Posting, Side
from ledger.posting import REVERSAL_KEY_PREFIX, PostResult, _post
from ledger.specs import EntrySpec, PostingSpec

# Entries posted by a domain's own flow, by the prefix of their reference (opaque text here), and
# the flow that corrects them: reversing one by hand would leave its order, payout line or
# enrolment telling a different story than the books (an order "settled" whose payment is gone).
FLOW_OWNED_REFERENCES = {
    "order:": "the order's refund (POST /api/v1/orders/{id}/refunds, or the order's page)",
    "payout-batch:": "the payout line's 'failed' action (POST /api/v1/payouts/lines/{id}/fail)",
    "enrolment:": "the enrolment's own steps (drop or refund in training)",
}


def reverse_by_hand(
    session: Session, entry_id: int, *, created_by: str | None = None, memo: str = ""
) -> JournalEntry:
    """A person's reversal (the API and the staff page): refused for an entry that belongs to an
    order, a payout or an enrolment, whose own flow corrects the books and its state together."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise EntryNotFound(f"There is no journal entry {entry_id}.")
    reference = original.reference or ""
    for prefix, flow in FLOW_OWNED_REFERENCES.items():
        if reference.startswith(prefix):
            raise EntryOwnedByFlow(
                f"Entry {entry_id} belongs to {reference}: reversing it alone would leave that "
                f"record out of step with the books. Correct it through {flow}, which reverses "
                "the ledger and the record together.",
                errors=[{"loc": ["entry_id"], "msg": f"owned by {reference}"}],
            )
    return reverse(session, entry_id, created_by=created_by, memo=memo)


def reverse(
    session: Session, entry_id: int, *, created_by: str | None = None, memo: str = ""
) -> JournalEntry:
    """Post the mirror image of an entry, linked to it; an entry is reversed at most once."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise EntryNotFound(f"There is no journal entry {entry_id}.")
    already = session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.reverses_id) == entry_id)
    ).first()
    if already is not None:
        raise AlreadyReversed(f"Entry {entry_id} was already reversed by entry {already}.")
    lines = session.execute(
        select(
            col(Account.key),
            col(Posting.amount),
            col(Posting.currency),
            col(Posting.coop_id),
            col(Posting.household_id),
            col(Posting.order_line_id),
        )
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
    spec = EntrySpec(
        kind="reversal",
        effective_date=max(original.effective_date, utcnow().date()),
        postings=tuple(
            PostingSpec(
                account=key,
                side=Side.credit if amount > 0 else Side.debit,
                amount=abs(amount),
                currency=currency,
                coop_id=coop_id,
                household_id=household_id,
                order_line_id=line_id,
            )
            for key, amount, currency, coop_id, household_id, line_id in lines
        ),
        idempotency_key=f"{REVERSAL_KEY_PREFIX}{entry_id}",
        memo=memo or f"Reversal of entry {entry_id}",
        reference=original.reference,
        metadata={"reverses": entry_id},
        created_by=created_by,
    )
    try:
        result = _post(session, spec, reverses_id=entry_id)
    except IdempotencyConflict:
        assert original.id is not None
        result = PostResult(entry_id=original.id, replayed=True, entry=original)
    if result.replayed:
        # Another request reversed it between our check and our insert.
        raise AlreadyReversed(f"Entry {entry_id} was already reversed.")
    return result.entry
