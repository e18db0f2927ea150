"""Ledger test helpers: a small chart of accounts and a terse way to write entries."""

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from ledger import service
from ledger.models import AccountLimit, AccountType, JournalEntry, Posting, Side

TODAY = date(2026, 11, 29)

CHART = [
    ("assets:bank", AccountType.asset, "CNY", AccountLimit.none),
    ("assets:bank:usd", AccountType.asset, "USD", AccountLimit.none),
    ("assets:clearing:stripe", AccountType.asset, "CNY", AccountLimit.none),
    ("liabilities:buyers:deposits", AccountType.liability, "CNY", AccountLimit.none),
    ("liabilities:members:1:payable", AccountType.liability, "CNY", AccountLimit.non_negative),
    ("liabilities:members:2:payable", AccountType.liability, "CNY", AccountLimit.non_negative),
    ("equity:coops:1:collective-fund", AccountType.equity, "CNY", AccountLimit.none),
    ("equity:opening:usd", AccountType.equity, "USD", AccountLimit.none),
    ("income:enterprise:service-fees", AccountType.income, "CNY", AccountLimit.none),
    ("expenses:payments:processing-fees", AccountType.expense, "CNY", AccountLimit.none),
]

Line = tuple[str, str, int] | tuple[str, str, int, str]


def spec(
    *lines: Line,
    key: str | None = None,
    on: date = TODAY,
    kind: str = "adjustment",
    memo: str = "",
    reference: str | None = None,
    metadata: dict[str, object] | None = None,
) -> service.EntrySpec:
    """`spec(("assets:bank", "debit", 100), ("income:...", "credit", 100))`; CNY unless given."""
    postings = tuple(
        service.PostingSpec(
            account=line[0],
            side=Side(line[1]),
            amount=line[2],
            currency=line[3] if len(line) == 4 else "CNY",
        )
        for line in lines
    )
    return service.EntrySpec(
        kind=kind,
        effective_date=on,
        postings=postings,
        idempotency_key=key or uuid.uuid4().hex,
        memo=memo,
        reference=reference,
        metadata=metadata or {},
    )


def transfer(
    debit: str, credit: str, amount: int, *, currency: str = "CNY", **fields: object
) -> service.EntrySpec:
    return spec((debit, "debit", amount, currency), (credit, "credit", amount, currency), **fields)  # type: ignore[arg-type]


def count_rows(session: Session) -> tuple[int, int]:
    """(entries, postings) as committed: ends the session's transaction first."""
    session.rollback()
    entries = session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
    postings = session.execute(select(func.count()).select_from(Posting)).scalar_one()
    session.rollback()
    return entries, postings


@pytest.fixture
def chart(session: Session) -> Callable[[], None]:
    for key, account_type, currency, limit in CHART:
        service.open_account(session, key=key, type=account_type, currency=currency, limit=limit)
    session.commit()
    return lambda: None


@pytest.fixture
def post(session: Session, chart: object) -> Callable[[service.EntrySpec], service.PostResult]:
    """Post and commit in the test session."""

    def do(entry: service.EntrySpec) -> service.PostResult:
        result = service.post(session, entry)
        session.commit()
        return result

    return do
