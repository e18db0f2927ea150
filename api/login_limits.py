"""Atomic sign-in limits: at most N password checks per key in a window, claimed before checking.

Three keys are limited at once (all must have room):
- an account from one client address (`login_max_failures`, 5): a stranger's wrong guesses lock
  only their own address out of that account, never the owner signing in from elsewhere;
- a client address over every account (`login_max_failures_per_client`): password spraying;
- an account over every address (`login_max_failures_per_account`): a distributed guesser. This
  one can delay the owner too, but only until the window ends (a short delay, not a lock-out).

Each key is claimed by ONE conditional upsert (INSERT ... ON CONFLICT DO UPDATE ... WHERE checks
< limit RETURNING), so however many requests race, no more than the limit get a slot: PostgreSQL
re-checks the WHERE on the latest row version under its row lock; SQLite holds its write lock.
The claims run in their own short transaction, committed before the (slow) password hash is
checked, so a hash check never holds the row lock. A correct password gives its slots back.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from api.models import LoginThrottle


@dataclass(frozen=True)
class LoginLimits:
    per_account_and_client: int = 5
    per_client: int = 30
    per_account: int = 50
    window_seconds: int = 60


@dataclass(frozen=True)
class LoginKeys:
    pair: str
    client: str
    account: str

    def with_limits(self, limits: LoginLimits) -> list[tuple[str, int]]:
        # Always the same order, so two claims never wait on each other crosswise.
        return sorted(
            [
                (self.pair, limits.per_account_and_client),
                (self.client, limits.per_client),
                (self.account, limits.per_account),
            ]
        )


def keys_for(email: str, client_address: str | None) -> LoginKeys:
    client = client_address or "unknown"
    return LoginKeys(
        pair=f"pair:{email}|{client}"[:400],
        client=f"client:{client}"[:400],
        account=f"account:{email}"[:400],
    )


def claim(engine: Engine, keys: LoginKeys, limits: LoginLimits) -> int | None:
    """Take one password check for every key; None when granted, else the seconds to wait
    (nothing is taken then)."""
    return claim_slots(engine, keys.with_limits(limits), limits.window_seconds)


def claim_slots(
    engine: Engine, slots: Sequence[tuple[str, int]], window_seconds: int
) -> int | None:
    """Take one slot of every (key, limit) in one short transaction of its own; None when all
    were granted, else the seconds until the full key's window ends (nothing is taken then)."""
    now = int(time.time())
    with engine.connect() as connection:
        with connection.begin() as transaction:
            for key, limit in slots:
                if _claim_one(connection, key, limit, now, window_seconds) is None:
                    started = connection.scalar(
                        select(col(LoginThrottle.window_started)).where(
                            col(LoginThrottle.key) == key
                        )
                    )
                    transaction.rollback()
                    return max(1, int(started or now) + window_seconds - now)
    return None


def _claim_one(
    connection: Connection, key: str, limit: int, now: int, window_seconds: int
) -> int | None:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    lapsed = table.c.window_started <= now - window_seconds
    statement = (
        insert(table)
        .values(key=key, window_started=now, checks=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "checks": case((lapsed, 1), else_=table.c.checks + 1),
                "window_started": case((lapsed, now), else_=table.c.window_started),
            },
            where=or_(lapsed, table.c.checks < limit),
        )
        .returning(table.c.checks)
    )
    checks: int | None = connection.scalar(statement)
    return checks


def give_back(connection: Connection, keys: LoginKeys) -> None:
    """A correct password: its checks were not guesses. The pair starts afresh; the address and
    the account get their slot back."""
    connection.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == keys.pair))
    connection.execute(
        update(LoginThrottle)
        .where(
            col(LoginThrottle.key).in_([keys.client, keys.account]),
            col(LoginThrottle.checks) > 0,
        )
        .values(checks=col(LoginThrottle.checks) - 1)
    )
