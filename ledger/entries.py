"""Reading journal entries with their postings and reversal links."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.errors import EntryNotFound
from ledger.models import Account, JournalEntry, Posting, Side


@dataclass(frozen=True)
class PostingLine:
    account: str
    side: Side
    amount: int
    currency: str


@dataclass(frozen=True)
class EntryView:
    entry: JournalEntry
    postings: tuple[PostingLine, ...]
    reversed_by: int | None


def get_entry(session: Session, entry_id: int) -> EntryView:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise EntryNotFound(f"There is no journal entry {entry_id}.")
    rows = session.execute(
        select(col(Account.key), col(Posting.amount), col(Posting.currency))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
    reversed_by = session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.reverses_id) == entry_id)
    ).first()
    return EntryView(
        entry=entry,
        postings=tuple(
            PostingLine(
                account=key,
                side=Side.debit if amount > 0 else Side.credit,
                amount=abs(amount),
                currency=currency,
            )
            for key, amount, currency in rows
        ),
        reversed_by=reversed_by,
    )
