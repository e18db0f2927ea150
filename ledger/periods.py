"""Closing accounting periods: once `YYYY-MM` is closed, entries dated in it or before are refused."""

import re

from sqlalchemy import text
from sqlmodel import Session

from core.errors import Invalid
from ledger.models import ClosedPeriod

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def close_period(session: Session, period: str, *, closed_by: str | None = None) -> ClosedPeriod:
    """Close a month (idempotent: closing it again returns the first closing)."""
    if not PERIOD_PATTERN.match(period):
        raise Invalid(
            f"{period!r} is not a period; write the month as YYYY-MM, e.g. 2026-11.",
            errors=[{"loc": ["period"], "msg": "YYYY-MM"}],
        )
    if session.get_bind().dialect.name == "postgresql":
        # SHARE conflicts with the ROW EXCLUSIVE lock every inserting transaction holds: we wait
        # for in-flight posts to finish, and new ones wait for us, then see the closed period
        # (the database trigger re-checks it). Closing is rare, so the pause is harmless.
        session.execute(text("LOCK TABLE ledger_entries IN SHARE MODE"))
    existing = session.get(ClosedPeriod, period)
    if existing is not None:
        return existing
    closed = ClosedPeriod(period=period, closed_by=closed_by)
    session.add(closed)
    session.flush()
    return closed
