"""The one-statement post on PostgreSQL, and the answers it must share with the careful path.

An entry that lowers no limited account goes out as one statement that checks its accounts and
period in the database and inserts nothing unless all is well; every refusal must still be the
precise error of the careful path, with nothing stored. These tests run on both databases.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from ledger import service
from ledger.errors import (
    AccountClosed,
    CurrencyMismatch,
    IdempotencyConflict,
    LimitExceeded,
    PeriodClosed,
    UnknownAccount,
)
from tests.ledger.conftest import TODAY, count_rows, transfer

PostFn = Callable[[service.EntrySpec], service.PostResult]


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends while the block runs."""
    sent: list[str] = []
    engine = session.get_bind()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.postgres_only
def test_an_entry_raising_balances_is_one_statement(session: Session, chart: object) -> None:
    with statements(session) as sent:
        result = service.post(
            session, transfer("assets:bank", "liabilities:members:1:payable", 250)
        )
    session.commit()
    assert len(sent) == 1, sent
    assert "WITH lines AS" in sent[0]
    assert not result.replayed
    assert service.balance(session, "liabilities:members:1:payable").amount == 250


@pytest.mark.postgres_only
def test_an_entry_lowering_a_limited_account_takes_the_locking_path(
    session: Session, post: PostFn
) -> None:
    post(transfer("assets:bank", "liabilities:members:1:payable", 500))
    with statements(session) as sent:
        service.post(session, transfer("liabilities:members:1:payable", "assets:bank", 200))
    session.commit()
    assert any("FOR NO KEY UPDATE" in statement for statement in sent), sent
    with pytest.raises(LimitExceeded):
        service.post(session, transfer("liabilities:members:1:payable", "assets:bank", 301))
    assert count_rows(session) == (2, 4)


def test_unknown_accounts_and_wrong_currencies_store_nothing(
    session: Session, post: PostFn
) -> None:
    with pytest.raises(UnknownAccount):
        service.post(session, transfer("assets:bank", "income:nowhere", 5))
    session.rollback()
    with pytest.raises(CurrencyMismatch):
        service.post(
            session, transfer("assets:bank", "income:enterprise:service-fees", 5, currency="USD")
        )
    assert count_rows(session) == (0, 0)


def test_an_account_closed_after_it_was_used_refuses_entries(
    session: Session, post: PostFn
) -> None:
    post(transfer("assets:bank", "income:enterprise:service-fees", 100))
    service.close_account(session, "income:enterprise:service-fees")
    session.commit()
    with pytest.raises(AccountClosed):
        service.post(session, transfer("assets:bank", "income:enterprise:service-fees", 5))
    assert count_rows(session) == (1, 2)


def test_a_period_closed_after_the_accounts_were_used_refuses_entries(
    session: Session, post: PostFn
) -> None:
    post(transfer("assets:bank", "income:enterprise:service-fees", 100))
    service.close_period(session, TODAY.strftime("%Y-%m"), today=date(2026, 12, 1))
    session.commit()
    with pytest.raises(PeriodClosed):
        service.post(session, transfer("assets:bank", "income:enterprise:service-fees", 5))
    assert count_rows(session) == (1, 2)


def test_replays_and_conflicts_on_known_accounts(session: Session, post: PostFn) -> None:
    first = post(transfer("assets:bank", "income:enterprise:service-fees", 100, key="k-1"))
    again = post(transfer("assets:bank", "income:enterprise:service-fees", 100, key="k-1"))
    assert again.replayed
    assert again.entry_id == first.entry_id
    with pytest.raises(IdempotencyConflict):
        service.post(
            session, transfer("assets:bank", "income:enterprise:service-fees", 99, key="k-1")
        )
    assert count_rows(session) == (1, 2)


def test_the_entry_of_a_fresh_post_is_built_on_demand(session: Session, post: PostFn) -> None:
    post(transfer("assets:bank", "income:enterprise:service-fees", 100))
    result = post(transfer("assets:bank", "income:enterprise:service-fees", 7, key="k-lazy"))
    assert result.entry.id == result.entry_id
    assert result.entry.idempotency_key == "k-lazy"
    assert result.entry is service.get_entry(session, result.entry_id).entry
