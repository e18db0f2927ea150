"""Closing and reopening accounting months: entries dated in a closed month, or before it, are refused.

Closes and reopenings are appended to `ledger_period_events`, never changed or deleted: a month is
closed while its latest event is a close. Only a month that has ended, in a plausible year, can be
closed (a typo such as 9999-12 would otherwise freeze the books for good); an administrator can
reopen a closed month, with a reason, and every event records who, when and why.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ledger.errors import PeriodClosedLater, PeriodInvalid, PeriodNotClosed, PeriodNotEnded
from ledger.models import PeriodAction, PeriodEvent

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# No books of this system predate it: an earlier year is a typo, not a period.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
MAX_REASON_LENGTH = 1000

# The months whose latest event is a close (the same rule as the database triggers').
_later = aliased(PeriodEvent)
_IS_CLOSED_NOW = (col(PeriodEvent.action) == PeriodAction.close.value) & ~exists().where(
    col(_later.period) == col(PeriodEvent.period), col(_later.id) > col(PeriodEvent.id)
)
CLOSED_THROUGH = select(func.max(PeriodEvent.period)).where(_IS_CLOSED_NOW)

# The same as plain SQL, for the PostgreSQL hot path of posting.
CLOSED_PERIODS_SQL = (
    "SELECT e.period FROM ledger_period_events e WHERE e.action = 'close' AND NOT EXISTS "
    "(SELECT 1 FROM ledger_period_events l WHERE l.period = e.period AND l.id > e.id)"
)


@dataclass(frozen=True)
class PeriodState:
    """A month that has been closed at least once, with its latest event."""

    period: str
    closed: bool
    latest: PeriodEvent


def closed_through(session: Session) -> str | None:
    """The latest closed month: it and every month before it refuse entries."""
    return session.execute(CLOSED_THROUGH).scalar_one_or_none()


def is_closed(session: Session, period: str) -> bool:
    """True when entries dated in `period` are refused (it, or a later month, is closed)."""
    through = closed_through(session)
    return through is not None and period <= through


def _require_period(period: str, *, loc: Sequence[str] = ("period",)) -> None:
    if not PERIOD_PATTERN.match(period):
        raise PeriodInvalid(
            f"{period!r} is not a period; write the month as YYYY-MM, e.g. 2026-11.",
            errors=[{"loc": list(loc), "msg": "YYYY-MM"}],
        )


def require_plausible_period(period: str, *, loc: Sequence[str] = ("period",)) -> None:
    """A well-formed month of a year this system can have books for (2000 to 2100)."""
    _require_period(period, loc=loc)
    if not plausible_year(int(period[:4])):
        raise PeriodInvalid(
            f"{period} is not a plausible period: the year must be between {EARLIEST_YEAR} "
            f"and {LATEST_YEAR}.",
            errors=[{"loc": list(loc), "msg": f"year {EARLIEST_YEAR}-{LATEST_YEAR}"}],
        )


def plausible_year(year: int) -> bool:
    """Books, payouts and declared income of this system lie between 2000 and 2100."""
    return EARLIEST_YEAR <= year <= LATEST_YEAR


def require_closable(period: str, *, today: date | None = None) -> None:
    """A plausible month that has ended by `today` (the caller's day in its time zone)."""
    require_plausible_period(period)
    today = today or date.today()
    if period >= today.strftime("%Y-%m"):
        raise PeriodNotEnded(
            f"{period} has not ended yet (today is {today.isoformat()}): only a past month "
            "can be closed.",
            errors=[{"loc": ["period"], "msg": "month not ended"}],
        )


def _latest_event(session: Session, period: str) -> PeriodEvent | None:
    return session.scalars(
        select(PeriodEvent)
        .where(col(PeriodEvent.period) == period)
        .order_by(col(PeriodEvent.id).desc())
        .limit(1)
    ).first()


def close_period(
    session: Session,
    period: str,
    *,
    closed_by: str | None = None,
    today: date | None = None,
    reason: str = "",
) -> PeriodEvent:
    """Close a month that has ended (idempotent: closing a closed month returns its close)."""
    require_closable(period, today=today)
    if session.get_bind().dialect.name == "postgresql":
        # SHARE conflicts with the ROW EXCLUSIVE lock every inserting transaction holds: we wait
        # for in-flight posts to finish, and new ones wait for us, then see the closed period
        # (the database trigger re-checks it). Closing is rare, so the pause is harmless.
        session.execute(text("LOCK TABLE ledger_entries IN SHARE MODE"))
    latest = _latest_event(session, period)
    if latest is not None and latest.action == PeriodAction.close.value:
        return latest
    return _append(session, period, PeriodAction.close, by=closed_by, reason=reason)


def reopen_period(
    session: Session, period: str, *, reopened_by: str | None, reason: str
) -> PeriodEvent:
    """Reopen a closed month (an administrator's decision, with the reason recorded).

    Any closed month can be reopened, even an implausible one closed before the checks existed.
    A month stays covered while a later month is closed, so that one must be reopened first.
    """
    _require_period(period)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise PeriodInvalid(
            f"Say why {period} is reopened (1 to {MAX_REASON_LENGTH} characters).",
            errors=[{"loc": ["reason"], "msg": "required"}],
        )
    latest = _latest_event(session, period)
    if latest is None or latest.action != PeriodAction.close.value:
        raise PeriodNotClosed(
            f"{period} is not closed; there is nothing to reopen.",
            errors=[{"loc": ["period"], "msg": "not closed"}],
        )
    through = closed_through(session)
    if through is not None and through > period:
        raise PeriodClosedLater(
            f"{through} is closed and keeps every earlier month closed; reopen {through} first.",
            errors=[{"loc": ["period"], "msg": f"reopen {through} first"}],
        )
    return _append(session, period, PeriodAction.reopen, by=reopened_by, reason=reason)


def _append(
    session: Session, period: str, action: PeriodAction, *, by: str | None, reason: str
) -> PeriodEvent:
    event = PeriodEvent(
        period=period, action=action.value, by=by, reason=reason[:MAX_REASON_LENGTH]
    )
    session.add(event)
    session.flush()
    return event


def period_states(session: Session) -> list[PeriodState]:
    """Every month ever closed, newest month first, with its latest event."""
    later = aliased(PeriodEvent)
    latest = session.scalars(
        select(PeriodEvent)
        .where(
            ~exists().where(
                col(later.period) == col(PeriodEvent.period), col(later.id) > col(PeriodEvent.id)
            )
        )
        .order_by(col(PeriodEvent.period).desc())
    ).all()
    return [
        PeriodState(period=e.period, closed=e.action == PeriodAction.close.value, latest=e)
        for e in latest
    ]


def period_history(session: Session, period: str | None = None) -> list[PeriodEvent]:
    """The audit trail of closes and reopenings, newest first."""
    query = select(PeriodEvent).order_by(col(PeriodEvent.id).desc())
    if period is not None:
        query = query.where(col(PeriodEvent.period) == period)
    return list(session.scalars(query))


__all__ = [
    "CLOSED_PERIODS_SQL",
    "CLOSED_THROUGH",
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "PeriodState",
    "close_period",
    "closed_through",
    "plausible_year",
    "is_closed",
    "period_history",
    "period_states",
    "reopen_period",
    "require_closable",
    "require_plausible_period",
]
