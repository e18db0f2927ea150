"""Running a unit of work in its own transaction, retrying serialization failures and deadlocks.

The request dependency commits once and cannot retry; jobs, the CLI and benchmarks that post to
the ledger wrap each unit of work here instead. The unit must be safe to run again (ledger posts
are, by their idempotency keys).
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

T = TypeVar("T")

# serialization_failure, deadlock_detected, lock_not_available
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_retryable(error: DBAPIError) -> bool:
    """True for errors that a fresh attempt of the same transaction can succeed past."""
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(original)


def run_in_transaction(
    session_factory: Callable[[], Session],
    fn: Callable[[Session], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.01,
) -> T:
    """Run ``fn(session)`` and commit; on a retryable database error, start over in a new session."""
    for attempt in range(1, attempts + 1):
        with session_factory() as session:
            try:
                result = fn(session)
                session.commit()
                return result
            except DBAPIError as error:
                session.rollback()
                if attempt == attempts or not is_retryable(error):
                    raise
        # Jittered exponential backoff so retrying writers don't collide again in lockstep.
        time.sleep(base_delay * (2 ** (attempt - 1)) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
