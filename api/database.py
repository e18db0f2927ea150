"""Engine and sessions: SQLite (WAL, foreign keys, immediate transactions) or PostgreSQL via psycopg 3."""

import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.errors import DomainError

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")

logger = logging.getLogger("hezuo.database")
# The test suite sets this, so a read request that writes without declaring it fails its test.
strict_reads = False


@dataclass
class WriteIntent:
    """Whether the current unit of work may write (set per request from its method, see below).

    On SQLite a writing transaction begins ``BEGIN IMMEDIATE`` (it takes the write lock up front,
    so two writers never deadlock upgrading their locks); a reading one begins ``BEGIN`` and so
    never waits behind a writer (WAL readers see the last committed snapshot). A GET route that
    writes declares it with the ``writes`` dependency (api/deps.py).
    """

    writes: bool = True


# Outside a request (commands, jobs, tests) every transaction may write.
_intent: ContextVar[WriteIntent | None] = ContextVar("hezuo_write_intent", default=None)


def begin_request_intent(method: str) -> None:
    """Called once per request: reads (GET, HEAD, OPTIONS) begin read-only transactions."""
    _intent.set(WriteIntent(writes=method not in ("GET", "HEAD", "OPTIONS")))


def declare_writes() -> None:
    """This request writes even though its method reads (e.g. a payment return page)."""
    intent = _intent.get()
    if intent is not None:
        intent.writes = True


def _may_write() -> bool:
    intent = _intent.get()
    return intent is None or intent.writes


class WriteIntentMiddleware:
    """Marks each HTTP request as reading or writing by its method (see WriteIntent)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            begin_request_intent(scope["method"])
        await self.app(scope, receive, send)


def create_db_engine(
    database_url: str, *, sqlite_immediate: bool = True, pool_size: int = 20, **kwargs: Any
) -> Engine:
    """An engine for the URL. ``sqlite_immediate=False`` only for test helpers that mostly read.

    PostgreSQL: no ping before each checkout (one round trip per request saved); a connection
    that died is detected on use, SQLAlchemy then invalidates the whole pool, and the request
    answers 503 with Retry-After. The pool keeps ``pool_size`` connections and opens no
    overflow ones, so a burst waits for a connection instead of opening and closing sessions.
    """
    if database_url.startswith("sqlite"):
        return _create_sqlite_engine(database_url, immediate=sqlite_immediate, **kwargs)
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_recycle", 1800)
    kwargs.setdefault("pool_use_lifo", True)
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
        # IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading locks;
        # a request that only reads begins a deferred transaction and never waits for writers.
        reads_only = immediate and not _may_write()
        connection.info["hezuo_reads_only"] = reads_only
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not reads_only else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(
        connection: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if connection.info.get("hezuo_reads_only") and statement.lstrip().upper().startswith(
            WRITE_STATEMENTS
        ):
            # Upgrading a read transaction can fail at once if another writer committed since
            # it began; the route should declare that it writes.
            if strict_reads:
                raise RuntimeError(f"a read request writes without declaring it: {statement:.60}")
            logger.warning(
                "a read request writes (declare it with api.deps.writes): %.60s", statement
            )
            connection.info["hezuo_reads_only"] = False

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False, autoflush=True)


class RefusedWithAnswer(Exception):
    """A request refused with an answer of its own (a page's form again, with what was typed).

    Raised by a handler instead of returning; ``get_session`` rolls back everything the request
    changed, then calls ``answer`` with the same session in a fresh transaction and keeps its
    response for the exception handler (``frontend/forms.py``) to send. So no handler writes
    a rollback, and a refused form never half-stores what it was doing.
    """

    def __init__(self, answer: Callable[[], Response]) -> None:
        super().__init__("refused with an answer")
        self.answer = answer
        self.response: Response | None = None


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
        except RefusedWithAnswer as refusal:
            session.rollback()
            refusal.response = refusal.answer()
            session.rollback()  # the answer only reads
            raise
        except DomainError as error:
            if error.keeps_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
