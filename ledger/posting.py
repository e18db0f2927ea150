"""Posting journal entries: validation, idempotency by key + content hash, limits.

Reversals (the mirror entry, a person's reversal) are ledger/reversals.py.

Balances are never stored: an entry is one row plus its postings, appended. Hot accounts
(clearing, funds, income) are therefore never locked. Only an entry that lowers an account with a
`non_negative` limit locks that account row (in ascending id order, so never a deadlock) and sums
its postings before inserting.

On PostgreSQL an entry that lowers no such account takes one round trip: a single statement looks
its accounts up by key, checks that they exist, are open and hold the posting's currency and that
the period is open, and inserts the entry and its postings only then. When any check fails it
inserts nothing, and the careful path (lookup, checks, precise error) takes over.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InternalError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col

from ledger.base import utcnow
from ledger.errors import (
    AccountClosed,
    CurrencyMismatch,
    IdempotencyConflict,
    LimitExceeded,
    PeriodClosed,
    UnknownAccount,
)
from ledger.limits import check_limits
from ledger.models import (
    DEBIT_NORMAL,
    Account,
    AccountLimit,
    JournalEntry,
    Posting,
)
from ledger.periods import CLOSED_PERIODS_SQL, CLOSED_THROUGH, closed_through
from ledger.specs import (
    EntrySpec,
    canonical_json,
    signed_amount,
    spec_hash,
    validate_spec,
)

REVERSAL_KEY_PREFIX = "ledger:reversal:"


class PostResult:
    """What ``post`` answers: the entry's id, whether it was a replay, and the entry on demand.

    Most callers need only the id; the ORM object is built the first time ``entry`` is read.
    """

    __slots__ = ("_build", "_entry", "entry_id", "replayed")

    def __init__(
        self,
        *,
        entry_id: int,
        replayed: bool,
        entry: JournalEntry | None = None,
        build: Callable[[], JournalEntry] | None = None,
    ) -> None:
        if entry is None and build is None:
            raise ValueError("PostResult needs the entry or a way to build it")
        self.entry_id = entry_id
        self.replayed = replayed
        self._entry = entry
        self._build = build

    @property
    def entry(self) -> JournalEntry:
        if self._entry is None:
            assert self._build is not None
            self._entry = self._build()
        return self._entry

    def __repr__(self) -> str:
        return f"PostResult(entry_id={self.entry_id}, replayed={self.replayed})"


# Built once: the hot path only binds parameters. The latest closed period rides along with the
# account lookup so that validating an entry is a single round trip.
_ACCOUNTS_AND_PERIOD = select(
    col(Account.id),
    col(Account.key),
    col(Account.type),
    col(Account.currency),
    col(Account.limit),
    col(Account.is_open),
    CLOSED_THROUGH.scalar_subquery().label("closed_period"),
).where(col(Account.key).in_(bindparam("keys", expanding=True)))


# On PostgreSQL the hot path sends plain SQL straight to the driver: building and caching
# SQLAlchemy statements costs more CPU than the database spends on the whole entry.
_PG_ACCOUNTS_AND_PERIOD = (
    'SELECT id, key, type, currency, "limit", is_open, '
    f"(SELECT max(period) FROM ({CLOSED_PERIODS_SQL}) AS closed) AS closed_period "
    "FROM ledger_accounts WHERE key = ANY(%(keys)s)"
)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _load_accounts(session: Session, spec: EntrySpec) -> tuple[dict[str, Row[Any]], str | None]:
    keys = sorted({p.account for p in spec.postings})
    if _is_postgresql(session):
        rows = session.connection().exec_driver_sql(_PG_ACCOUNTS_AND_PERIOD, {"keys": keys}).all()
    else:
        rows = session.execute(_ACCOUNTS_AND_PERIOD, {"keys": keys}).all()
    accounts = {row.key: row for row in rows}
    closed_period = rows[0].closed_period if rows else latest_closed_period(session)
    missing = [key for key in keys if key not in accounts]
    if missing:
        raise UnknownAccount(
            "No such ledger account: " + ", ".join(repr(k) for k in missing) + ".",
            errors=[
                {"loc": ["postings", i, "account"], "msg": "unknown account"}
                for i, p in enumerate(spec.postings)
                if p.account in missing
            ],
        )
    for index, posting in enumerate(spec.postings):
        account = accounts[posting.account]
        if not account.is_open:
            raise AccountClosed(
                f"Account {posting.account!r} is closed to new postings.",
                errors=[{"loc": ["postings", index, "account"], "msg": "account closed"}],
            )
        if account.currency != posting.currency:
            raise CurrencyMismatch(
                f"Posting {index + 1}: account {posting.account!r} holds {account.currency}, "
                f"not {posting.currency}.",
                errors=[
                    {"loc": ["postings", index, "currency"], "msg": f"must be {account.currency}"}
                ],
            )
    return accounts, closed_period


def latest_closed_period(session: Session) -> str | None:
    return closed_through(session)


def _check_open_period(closed: str | None, effective_date: date) -> None:
    if closed is not None and effective_date.strftime("%Y-%m") <= closed:
        raise PeriodClosed(
            f"The books are closed up to and including {closed}; an entry dated "
            f"{effective_date.isoformat()} can no longer be posted. Date it later, or post a "
            "correction in an open period.",
            errors=[{"loc": ["effective_date"], "msg": f"period closed up to {closed}"}],
        )


# --- inserting -----------------------------------------------------------------------------------

_ENTRIES = JournalEntry.__table__  # type: ignore[attr-defined]
_POSTINGS = Posting.__table__  # type: ignore[attr-defined]
_INSERT_ENTRY = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_ENTRIES)
    # A concurrent post with the same key waits here for the first one to commit, then inserts
    # nothing, so the caller answers with the original entry instead of a unique-key error.
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_ENTRIES.c.id)
    for dialect in (postgresql, sqlite)
}

_PG_ENTRY_COLUMNS = """
    INSERT INTO ledger_entries (kind, effective_date, memo, reference, metadata, idempotency_key,
                                content_hash, created_by, created_at, reverses_id)"""
_PG_ENTRY_VALUES = """
    %(kind)s, %(effective_date)s, %(memo)s, %(reference)s, %(metadata)s::json,
    %(idempotency_key)s, %(content_hash)s, %(created_by)s, %(created_at)s, %(reverses_id)s::bigint"""
_PG_POSTINGS_FROM_ENTRY = """
INSERT INTO ledger_postings (entry_id, account_id, effective_date, amount, currency,
                             coop_id, household_id, order_line_id)
SELECT entry.id, p.account_id, %(effective_date)s, p.amount, p.currency,
       p.coop_id, p.household_id, p.order_line_id
  FROM entry,
       unnest(%(account_ids)s::integer[], %(amounts)s::bigint[], %(currencies)s::varchar[],
              %(coop_ids)s::integer[], %(household_ids)s::integer[], %(line_ids)s::integer[])
       WITH ORDINALITY AS p(account_id, amount, currency, coop_id, household_id, order_line_id, n)
 ORDER BY p.n"""

# One round trip for the entry and its postings; nothing is inserted if the key exists.
_PG_INSERT_ENTRY_WITH_POSTINGS = f"""
WITH entry AS ({_PG_ENTRY_COLUMNS}
    VALUES ({_PG_ENTRY_VALUES})
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
)
{_PG_POSTINGS_FROM_ENTRY}
RETURNING entry_id
"""

# The fast path: one statement that looks the accounts up by key, checks everything the careful
# path checks except the balances of limited accounts, and inserts only if all is well. Answers
# (ok, new entry id): ok false → nothing inserted, the careful path decides and explains; ok and
# no id → the key exists already. An entry lowering a non-negative account is never ok here: that
# needs the lock and sum of `ledger.limits.check_limits`.
_PG_GUARDED_INSERT = f"""
WITH lines AS (
    SELECT * FROM unnest(%(keys)s::varchar[], %(amounts)s::bigint[], %(currencies)s::varchar[],
                         %(coop_ids)s::integer[], %(household_ids)s::integer[],
                         %(line_ids)s::integer[])
                  WITH ORDINALITY AS p(key, amount, currency, coop_id, household_id,
                                       order_line_id, n)
),
accounts AS (
    SELECT a.id, a.key, a.currency, a.type, a."limit", a.is_open
      FROM ledger_accounts a WHERE a.key = ANY(%(keys)s::varchar[])
),
guard AS (
    SELECT (SELECT count(*) FROM accounts WHERE is_open) = %(account_count)s
       AND NOT EXISTS (SELECT 1 FROM lines JOIN accounts USING (key)
                        WHERE accounts.currency <> lines.currency)
       AND NOT EXISTS (SELECT 1 FROM lines JOIN accounts USING (key)
                        WHERE accounts."limit" = %(non_negative)s
                        GROUP BY accounts.key, accounts.type
                       HAVING sum(lines.amount) * CASE WHEN accounts.type = ANY(%(debit_normal)s)
                                                       THEN 1 ELSE -1 END < 0)
       AND NOT EXISTS (SELECT 1 FROM ({CLOSED_PERIODS_SQL}) AS closed
                        WHERE closed.period >= %(period)s) AS ok
),
entry AS ({_PG_ENTRY_COLUMNS}
    SELECT {_PG_ENTRY_VALUES}
      FROM guard WHERE guard.ok
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
),
inserted AS (
    INSERT INTO ledger_postings (entry_id, account_id, effective_date, amount, currency,
                                 coop_id, household_id, order_line_id)
    SELECT entry.id, accounts.id, %(effective_date)s, lines.amount, lines.currency,
           lines.coop_id, lines.household_id, lines.order_line_id
      FROM entry, lines JOIN accounts USING (key)
     ORDER BY lines.n
    RETURNING 1
)
SELECT guard.ok, (SELECT id FROM entry) FROM guard
"""


@contextmanager
def _period_closed_meanwhile(spec: EntrySpec) -> Iterator[None]:
    """Turn the database trigger's refusal (a period closed after our check) into PeriodClosed."""
    try:
        yield
    except (IntegrityError, InternalError) as error:
        if "closed period" in str(error.orig):
            raise PeriodClosed(
                f"The period of {spec.effective_date.isoformat()} was closed meanwhile.",
                errors=[{"loc": ["effective_date"], "msg": "period closed"}],
            ) from None
        raise


def _entry_values(spec: EntrySpec, digest: str, reverses_id: int | None) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "effective_date": spec.effective_date,
        "memo": spec.memo,
        "reference": spec.reference,
        "metadata": dict(spec.metadata),
        "idempotency_key": spec.idempotency_key,
        "content_hash": digest,
        "created_by": spec.created_by,
        "created_at": utcnow(),
        "reverses_id": reverses_id,
    }


def _attribution_arrays(spec: EntrySpec) -> dict[str, list[int | None]]:
    return {
        "coop_ids": [p.coop_id for p in spec.postings],
        "household_ids": [p.household_id for p in spec.postings],
        "line_ids": [p.order_line_id for p in spec.postings],
    }


def _pg_values(
    spec: EntrySpec, values: dict[str, Any], accounts: Mapping[str, Row[Any]]
) -> dict[str, Any]:
    return {
        **values,
        "metadata": canonical_json(values["metadata"]),
        "account_ids": [accounts[p.account].id for p in spec.postings],
        "amounts": [signed_amount(p) for p in spec.postings],
        "currencies": [p.currency for p in spec.postings],
        **_attribution_arrays(spec),
    }


def _attached_entry(session: Session, entry_id: int, values: Mapping[str, Any]) -> JournalEntry:
    """The inserted row as a persistent object of this session, without reading it back."""
    entry = JournalEntry(
        id=entry_id,
        kind=values["kind"],
        effective_date=values["effective_date"],
        memo=values["memo"],
        reference=values["reference"],
        meta=values["metadata"],
        idempotency_key=values["idempotency_key"],
        content_hash=values["content_hash"],
        created_by=values["created_by"],
        created_at=values["created_at"],
        reverses_id=values["reverses_id"],
    )
    make_transient_to_detached(entry)
    return session.merge(entry, load=False)


def _new_entry(session: Session, entry_id: int, values: dict[str, Any]) -> PostResult:
    return PostResult(
        entry_id=entry_id,
        replayed=False,
        build=lambda: _attached_entry(session, entry_id, values),
    )


_DEBIT_NORMAL = sorted(t.value for t in DEBIT_NORMAL)


def _try_fast_post(
    session: Session, spec: EntrySpec, digest: str, reverses_id: int | None
) -> PostResult | None:
    """Post in one round trip; None when the careful path must decide (and explain)."""
    values = _entry_values(spec, digest, reverses_id)
    params = {
        **values,
        "metadata": canonical_json(values["metadata"]),
        "keys": [p.account for p in spec.postings],
        "amounts": [signed_amount(p) for p in spec.postings],
        "currencies": [p.currency for p in spec.postings],
        **_attribution_arrays(spec),
        "account_count": len({p.account for p in spec.postings}),
        "non_negative": AccountLimit.non_negative.value,
        "debit_normal": _DEBIT_NORMAL,
        "period": spec.effective_date.strftime("%Y-%m"),
    }
    with _period_closed_meanwhile(spec):
        ok, entry_id = session.connection().exec_driver_sql(_PG_GUARDED_INSERT, params).one()
    if not ok:
        return None
    if entry_id is None:
        return _existing(session, spec, digest)
    return _new_entry(session, entry_id, values)


def _insert_entry(
    session: Session,
    spec: EntrySpec,
    digest: str,
    reverses_id: int | None,
    accounts: Mapping[str, Row[Any]],
) -> PostResult | None:
    """Insert the entry and its postings; None when an entry with this key already exists."""
    values = _entry_values(spec, digest, reverses_id)
    with _period_closed_meanwhile(spec):
        if _is_postgresql(session):
            params = _pg_values(spec, values, accounts)
            entry_id = (
                session.connection()
                .exec_driver_sql(_PG_INSERT_ENTRY_WITH_POSTINGS, params)
                .scalars()
                .first()
            )
        else:
            entry_id = _insert_portably(session, spec, values, accounts)
    if entry_id is None:
        return None
    return _new_entry(session, entry_id, values)


def _insert_portably(
    session: Session,
    spec: EntrySpec,
    values: dict[str, Any],
    accounts: Mapping[str, Row[Any]],
) -> int | None:
    entry_id: int | None = session.execute(
        _INSERT_ENTRY[session.get_bind().dialect.name], values
    ).scalar_one_or_none()
    if entry_id is None:
        return None
    session.execute(
        _POSTINGS.insert(),
        [
            {
                "entry_id": entry_id,
                "account_id": accounts[p.account].id,
                "effective_date": spec.effective_date,
                "amount": signed_amount(p),
                "currency": p.currency,
                "coop_id": p.coop_id,
                "household_id": p.household_id,
                "order_line_id": p.order_line_id,
            }
            for p in spec.postings
        ],
    )
    return entry_id


def _existing(session: Session, spec: EntrySpec, digest: str) -> PostResult | None:
    entry = session.scalars(
        select(JournalEntry).where(col(JournalEntry.idempotency_key) == spec.idempotency_key)
    ).first()
    if entry is None:
        return None
    if entry.content_hash != digest:
        raise IdempotencyConflict(
            f"Idempotency key {spec.idempotency_key!r} was already used for entry {entry.id} "
            "with different content. Use a new key for a new entry.",
            errors=[{"loc": ["idempotency_key"], "msg": "reused with different content"}],
        )
    assert entry.id is not None
    return PostResult(entry_id=entry.id, replayed=True, entry=entry)


def post(session: Session, spec: EntrySpec) -> PostResult:
    """Append a balanced entry, or return the one already posted under this idempotency key."""
    return _post(session, spec, reverses_id=None)


def _post(session: Session, spec: EntrySpec, *, reverses_id: int | None) -> PostResult:
    validate_spec(spec)
    digest = spec_hash(spec)
    if _is_postgresql(session):
        fast = _try_fast_post(session, spec, digest, reverses_id)
        if fast is not None:
            return fast
    try:
        accounts, closed_period = _load_accounts(session, spec)
        _check_open_period(closed_period, spec.effective_date)
        check_limits(session, spec, accounts)
    except (UnknownAccount, AccountClosed, CurrencyMismatch, PeriodClosed, LimitExceeded):
        # A retry of an entry that was accepted before must still get its original answer,
        # even if the books have moved on (period closed, balance spent) since.
        replay = _existing(session, spec, digest)
        if replay is not None:
            return replay
        raise
    entry = _insert_entry(session, spec, digest, reverses_id, accounts)
    if entry is None:
        replay = _existing(session, spec, digest)
        assert replay is not None
        return replay
    return entry
