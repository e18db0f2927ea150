"""The auditor: reads what staff read, changes nothing, and every read is logged.

A township government or funder auditor signs in like anyone else. The edges let the auditor
through staff checks only on safe methods (GET, HEAD) and refuse every other method before any
route runs (`refuse_auditor_write`), so nothing is stored. Each request an auditor makes is
written to `auditor_reads` (who, when, method, path) by `AuditorReadLogMiddleware` *after* the
response, in its own short transaction: the read itself stays a read (on SQLite a deferred
transaction that never takes the write lock).
"""

import logging
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import Column, Index, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlmodel import Field, Session, SQLModel, col, select

from api.database import declare_writes
from api.errors import RoleRefused
from api.models import Role, User
from ledger.base import UTCDateTime, utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Posts an auditor may still make: leaving (the session is theirs, no record of the project).
AUDITOR_MAY_POST = frozenset({"/logout", "/api/v1/auth/logout"})
STATE_KEY = "hezuo_auditor_id"
READ_ONLY = "hezuo_read_only"  # in Session.info: this unit of work belongs to an auditor
logger = logging.getLogger("hezuo.auditing")


class AuditorRead(SQLModel, table=True):
    """One request by an auditor: who, when, method and path (with the query)."""

    __tablename__ = "auditor_reads"
    __table_args__ = (Index("ix_auditor_reads_user_id_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)


def is_auditor(user: User | None) -> bool:
    return user is not None and user.role == Role.auditor


def refuse_auditor_write(
    state: dict[str, object],
    user: User | None,
    method: str,
    path: str,
    session: Session | None = None,
) -> None:
    """Remember an auditor for the read log; refuse any unsafe method (403 role-refused); make
    the request's session refuse to store anything (a third line behind the domains' checks)."""
    if user is None or not is_auditor(user):
        return
    state[STATE_KEY] = user.id
    if session is not None:
        session.info[READ_ONLY] = True
    if method not in SAFE_METHODS and path not in AUDITOR_MAY_POST:
        raise RoleRefused("An auditor reads only: this change is refused and nothing was stored.")


@event.listens_for(OrmSession, "before_flush")
def _refuse_auditor_changes(session: OrmSession, _context: object, _instances: object) -> None:
    """An auditor's session stores nothing, whatever route or service a change came through."""
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RoleRefused("An auditor reads only: this change is refused and nothing was stored.")


def log_read(factory: sessionmaker[Session], *, user_id: int, method: str, path: str) -> None:
    declare_writes()  # this short transaction (after the response) is the only one that writes
    with factory.begin() as session:
        session.add(AuditorRead(user_id=user_id, method=method[:8], path=path[:500]))


def reads_of(
    session: Session, *, user_id: int | None = None, before_id: int | None = None, limit: int = 200
) -> list[AuditorRead]:
    """Newest first; `before_id` continues an earlier page."""
    query = select(AuditorRead).order_by(col(AuditorRead.id).desc()).limit(limit)
    if before_id is not None:
        query = query.where(col(AuditorRead.id) < before_id)
    if user_id is not None:
        query = query.where(col(AuditorRead.user_id) == user_id)
    return list(session.scalars(query))


class AuditorReadLogMiddleware:
    """After each response to an auditor, one `auditor_reads` row in its own transaction."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        await self.app(scope, receive, send)
        user_id = state.get(STATE_KEY)
        if not isinstance(user_id, int):
            return
        query: bytes = scope.get("query_string") or b""
        path = str(scope["path"]) + (f"?{query.decode('latin-1')}" if query else "")
        factory = scope["app"].state.session_factory
        method = str(scope["method"])
        try:
            await anyio.to_thread.run_sync(
                lambda: log_read(factory, user_id=user_id, method=method, path=path)
            )
        except SQLAlchemyError:  # the answer is already sent: say so loudly, do not hide it
            logger.exception("could not log auditor %s's read of %s %s", user_id, method, path)
