"""The retry helper, and concurrent posts of one idempotency key answering with one entry."""

import threading

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from api.database import create_db_engine, create_session_factory
from ledger import service
from tests.ledger.conftest import count_rows, transfer


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def _failing(times: int, sqlstate: str):
    calls = {"n": 0}

    def fn(session: Session) -> str:
        calls["n"] += 1
        service.post(
            session, transfer("assets:bank", "income:enterprise:service-fees", 5, key="retry-1")
        )
        if calls["n"] <= times:
            raise OperationalError("COMMIT", {}, FakeDriverError(sqlstate))
        return "done"

    return fn, calls


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_serialization_failures_and_deadlocks_are_retried(
    session: Session, engine: Engine, chart, sqlstate: str
) -> None:
    fn, calls = _failing(2, sqlstate)
    factory = create_session_factory(engine)
    assert service.run_in_transaction(factory, fn, attempts=5, base_delay=0) == "done"
    assert calls["n"] == 3
    assert count_rows(session) == (1, 2)  # the failed attempts left nothing behind


def test_other_errors_and_exhausted_attempts_are_raised(
    session: Session, engine: Engine, chart
) -> None:
    factory = create_session_factory(engine)
    fn, calls = _failing(1, "23505")
    with pytest.raises(OperationalError):
        service.run_in_transaction(factory, fn, base_delay=0)
    assert calls["n"] == 1
    fn, calls = _failing(9, "40001")
    with pytest.raises(OperationalError):
        service.run_in_transaction(factory, fn, attempts=3, base_delay=0)
    assert calls["n"] == 3
    assert count_rows(session) == (0, 0)
    assert not service.is_retryable(IntegrityError("INSERT", {}, FakeDriverError("23505")))


@pytest.mark.postgres_only
def test_concurrent_posts_with_one_key_store_one_entry(
    session: Session, chart, database_url: str
) -> None:
    engine = create_db_engine(database_url, pool_size=8)
    factory = create_session_factory(engine)
    barrier = threading.Barrier(6)
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def post_once() -> None:
        try:
            barrier.wait()
            result = service.run_in_transaction(
                factory,
                lambda s: service.post(
                    s, transfer("assets:bank", "income:enterprise:service-fees", 70, key="same")
                ),
            )
            answers.append((int(result.entry.id or 0), result.replayed))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=post_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert errors == []
    assert len({entry_id for entry_id, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * 5
    assert count_rows(session) == (1, 2)


@pytest.mark.postgres_only
def test_closing_a_period_while_an_entry_is_in_flight(
    session: Session, chart, database_url: str
) -> None:
    """The period closes between the entry's own check and its insert: the database refuses it."""
    from datetime import date

    from ledger.errors import PeriodClosed

    engine = create_db_engine(database_url, pool_size=4)
    factory = create_session_factory(engine)
    outcome: list[object] = []
    closer = factory()
    service.close_period(closer, "2026-11")  # holds the lock until it commits

    def post_in_november() -> None:
        try:
            service.run_in_transaction(
                factory,
                lambda s: service.post(
                    s,
                    transfer(
                        "assets:bank", "income:enterprise:service-fees", 5, on=date(2026, 11, 15)
                    ),
                ),
            )
            outcome.append("posted")
        except PeriodClosed as error:
            outcome.append(error)

    thread = threading.Thread(target=post_in_november)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the post should wait for the closing to finish"
    closer.commit()
    closer.close()
    thread.join(timeout=30)
    engine.dispose()
    assert len(outcome) == 1
    assert isinstance(outcome[0], PeriodClosed)
    assert count_rows(session) == (0, 0)
