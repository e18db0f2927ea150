"""Both sides of a reconciliation as stored: statement lines and ledger postings, and which are open."""

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from core.errors import NotFound
from ledger.bank.values import LedgerItem, NotABankAccount
from ledger.models import Account, AccountType, JournalEntry, Posting
from ledger.payout_models import Explanation, Match, MatchItem, StatementLine


def get_account(session: Session, key: str) -> Account:
    account = session.scalars(select(Account).where(col(Account.key) == key)).first()
    if account is None:
        raise NotFound(f"There is no ledger account {key!r}.")
    return account


def bank_account(session: Session, key: str) -> Account:
    """The account a statement is for: an asset account (a bank, a wallet, a clearing account)."""
    account = get_account(session, key)
    if account.type != AccountType.asset.value:
        raise NotABankAccount(
            f"{key!r} is a {account.type} account: a bank or wallet statement belongs to an "
            "asset account such as assets:bank.",
            errors=[{"loc": ["body", "account"], "msg": "not an asset account"}],
        )
    return account


def account_currency(session: Session, account_key: str) -> str:
    return get_account(session, account_key).currency


def matched_ids(session: Session, account_key: str) -> tuple[set[int], set[int]]:
    rows = session.execute(
        select(col(MatchItem.statement_line_id), col(MatchItem.posting_id))
        .join(Match, col(Match.id) == col(MatchItem.match_id))
        .where(col(Match.account_key) == account_key, col(MatchItem.active).is_(True))
    ).all()
    lines = {r[0] for r in rows if r[0] is not None}
    postings = {r[1] for r in rows if r[1] is not None}
    return lines, postings


def matched_posting_ids(session: Session, posting_ids: list[int]) -> set[int]:
    """Those of these postings in an active match of any account."""
    if not posting_ids:
        return set()
    return set(
        session.scalars(
            select(col(MatchItem.posting_id)).where(
                col(MatchItem.posting_id).in_(posting_ids), col(MatchItem.active).is_(True)
            )
        )
    )


def ledger_items(
    session: Session,
    account_key: str,
    *,
    until: date | None = None,
    since: date | None = None,
) -> list[LedgerItem]:
    query = (
        select(Posting, JournalEntry)
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key) == account_key)
        .order_by(col(Posting.effective_date), col(Posting.id))
    )
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    items = []
    for posting, entry in session.execute(query).tuples():
        assert posting.id is not None
        assert entry.id is not None
        items.append(
            LedgerItem(
                posting_id=posting.id,
                entry_id=entry.id,
                effective_date=posting.effective_date,
                amount=posting.amount,
                currency=posting.currency,
                reference=entry.reference or "",
                memo=entry.memo,
                metadata=dict(entry.meta or {}),
            )
        )
    return items


def statement_lines(
    session: Session,
    account_key: str,
    *,
    until: date | None = None,
    since: date | None = None,
) -> list[StatementLine]:
    query = (
        select(StatementLine)
        .where(col(StatementLine.account_key) == account_key)
        .order_by(col(StatementLine.booked_on), col(StatementLine.id))
    )
    if until is not None:
        query = query.where(col(StatementLine.booked_on) <= until)
    if since is not None:
        query = query.where(col(StatementLine.booked_on) >= since)
    return list(session.scalars(query))


def explained_ids(session: Session, account_key: str) -> tuple[set[int], set[int]]:
    rows = session.execute(
        select(col(Explanation.statement_line_id), col(Explanation.posting_id)).where(
            col(Explanation.account_key) == account_key
        )
    ).all()
    return {r[0] for r in rows if r[0] is not None}, {r[1] for r in rows if r[1] is not None}


def open_items(
    session: Session, account_key: str, *, until: date | None = None
) -> tuple[list[StatementLine], list[LedgerItem]]:
    """Statement lines and ledger postings in no active match (explained ones included)."""
    matched_lines, matched_postings = matched_ids(session, account_key)
    lines = [
        line
        for line in statement_lines(session, account_key, until=until)
        if line.id not in matched_lines
    ]
    items = [
        item
        for item in ledger_items(session, account_key, until=until)
        if item.posting_id not in matched_postings
    ]
    return lines, items


def open_clearing_items(session: Session, clearing_account: str) -> list[LedgerItem]:
    """Money received into a clearing account (debits) not yet matched to a bank line."""
    if (
        session.scalars(select(col(Account.id)).where(col(Account.key) == clearing_account)).first()
        is None
    ):
        return []
    items = [i for i in ledger_items(session, clearing_account) if i.amount > 0]
    taken = matched_posting_ids(session, [i.posting_id for i in items])
    return [i for i in items if i.posting_id not in taken]
