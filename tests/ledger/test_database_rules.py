"""The database itself refuses edits, deletes and (on PostgreSQL) unbalanced entries."""

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from tests.ledger.conftest import count_rows, transfer


def _raw(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_entries SET memo = 'changed'",
        "DELETE FROM ledger_entries",
        "DELETE FROM ledger_period_events",
        "UPDATE ledger_period_events SET action = 'reopen'",
    ],
)
def test_entries_and_postings_refuse_update_and_delete(
    session: Session, engine: Engine, post, statement: str
) -> None:
    from ledger import service

    post(transfer("assets:bank", "income:enterprise:service-fees", 100, memo="kept"))
    service.close_period(session, "2020-01")
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(engine, statement)
    assert count_rows(session) == (1, 2)
    entry = service.get_entry(session, 1)
    assert entry.entry.memo == "kept"
    assert entry.postings[0].amount == 100


def _ids(session: Session) -> tuple[int, int]:
    from sqlmodel import select

    from ledger.models import Account

    bank = session.exec(select(Account).where(Account.key == "assets:bank")).one()
    fees = session.exec(
        select(Account).where(Account.key == "income:enterprise:service-fees")
    ).one()
    session.rollback()
    assert bank.id is not None
    assert fees.id is not None
    return bank.id, fees.id


ENTRY = (
    "INSERT INTO ledger_entries (id, kind, effective_date, memo, metadata, idempotency_key, "
    "content_hash, created_at) VALUES (900, 'adjustment', '2026-11-29', '', '{}', 'raw', 'x', "
    "CURRENT_TIMESTAMP)"
)


def _posting(account: int, amount: int) -> str:
    return (
        "INSERT INTO ledger_postings (entry_id, account_id, effective_date, amount, currency) "
        f"VALUES (900, {account}, '2026-11-29', {amount}, 'CNY')"
    )


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "amounts",
    [(100, -99), (100,), ()],
    ids=["unbalanced", "one-posting", "no-posting"],
)
def test_raw_unbalanced_entry_fails_at_commit(
    session: Session, engine: Engine, chart, amounts: tuple[int, ...]
) -> None:
    bank, fees = _ids(session)
    accounts = [bank, fees]
    with engine.connect() as connection:
        connection.execute(text(ENTRY))
        for account, amount in zip(accounts, amounts, strict=False):
            # Each statement alone is accepted: the check is deferred to COMMIT.
            connection.execute(text(_posting(account, amount)))
        with pytest.raises(DBAPIError, match="does not balance|at least 2"):
            connection.commit()
    assert count_rows(session) == (0, 0)


@pytest.mark.postgres_only
def test_raw_balanced_entry_commits_and_later_postings_are_checked(
    session: Session, engine: Engine, chart
) -> None:
    bank, fees = _ids(session)
    _raw(engine, ENTRY, _posting(bank, 100), _posting(fees, -100))
    assert count_rows(session) == (1, 2)
    # Adding one more posting to the committed entry unbalances it: refused at commit.
    with pytest.raises(DBAPIError, match="does not balance"):
        _raw(engine, _posting(bank, 5))
    assert count_rows(session) == (1, 2)


def test_closed_period_is_enforced_by_the_database_too(
    session: Session, engine: Engine, chart
) -> None:
    from ledger import service

    service.close_period(session, "2026-11")
    session.commit()
    with pytest.raises(DBAPIError, match="closed period"):
        _raw(engine, ENTRY)
    assert count_rows(session) == (0, 0)


def test_the_database_follows_a_reopening_and_a_second_close(
    session: Session, engine: Engine, chart
) -> None:
    """The trigger reads the latest event of each month, as the service does."""
    from ledger import service

    bank, fees = _ids(session)
    service.close_period(session, "2026-11")
    service.reopen_period(session, "2026-11", reopened_by="user:1", reason="bank line missed")
    session.commit()
    # Open again: a raw entry dated in November goes in (on PostgreSQL, balanced at commit).
    _raw(engine, ENTRY, _posting(bank, 100), _posting(fees, -100))
    assert count_rows(session) == (1, 2)
    service.close_period(session, "2026-11")
    session.commit()
    with pytest.raises(DBAPIError, match="closed period"):
        _raw(engine, ENTRY.replace("900", "901").replace("'raw'", "'raw-2'"))
    assert count_rows(session) == (1, 2)
