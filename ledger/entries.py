"""Reading journal entries with their postings and reversal links."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased
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
    # The entry and the one reversing it (if any) in one statement.
    reversal = aliased(JournalEntry)
    found = session.execute(
        select(
            JournalEntry,
            select(col(reversal.id))
            .where(col(reversal.reverses_id) == entry_id)
            .order_by(col(reversal.id))
            .limit(1)
            .scalar_subquery(),
        ).where(col(JournalEntry.id) == entry_id)
    ).first()
    if found is None:
        raise EntryNotFound(f"There is no journal entry {entry_id}.")
    entry, reversed_by = found
    rows = session.execute(
        select(col(Account.key), col(Posting.amount), col(Posting.currency))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
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
