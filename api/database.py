"""Engine and sessions: SQLite (WAL, foreign keys, immediate transactions) or PostgreSQL via psycopg 3."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from ledger.errors import DomainError

SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_db_engine(database_url: str, *, sqlite_immediate: bool = True, **kwargs: Any) -> Engine:
    """An engine for the URL. ``sqlite_immediate=False`` only for test helpers that mostly read."""
    if database_url.startswith("sqlite"):
        return _create_sqlite_engine(database_url, immediate=sqlite_immediate, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)  # survive a database restart; bench turns it off
    return create_engine(database_url, **kwargs)


def _create_sqlite_engine(database_url: str, *, immediate: bool, **kwargs: Any) -> Engine:
    path = database_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        database_url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading locks.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False, autoflush=True)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler returns, rolled back if it raises.

    Used with ``Depends(get_session, scope="function")`` so the commit happens before the
    response is sent: a commit that fails (e.g. a deferred ledger check) is an error answer,
    never a success answer for data that was not stored.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
            session.commit()
        except DomainError as error:
            if error.keeps_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
