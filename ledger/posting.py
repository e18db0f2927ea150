"""Posting journal entries: validation, idempotency by key + content hash, limits, reversals.

Balances are never stored: an entry is one row plus its postings, appended. Hot accounts
(clearing, funds, income) are therefore never locked. Only an entry that lowers an account with a
`non_negative` limit locks that account row (in ascending id order, so never a deadlock) and sums
its postings before inserting.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InternalError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col

from ledger.base import utcnow
from ledger.errors import (
    AccountClosed,
    AlreadyReversed,
    CurrencyMismatch,
    EntryNotFound,
    IdempotencyConflict,
    LimitExceeded,
    PeriodClosed,
    UnknownAccount,
)
from ledger.models import (
    Account,
    AccountLimit,
    ClosedPeriod,
    JournalEntry,
    Posting,
    Side,
    normal_sign,
)
from ledger.specs import (
    EntrySpec,
    PostingSpec,
    canonical_json,
    signed_amount,
    spec_hash,
    validate_spec,
)

REVERSAL_KEY_PREFIX = "ledger:reversal:"


@dataclass(frozen=True)
class PostResult:
    entry: JournalEntry
    replayed: bool


# Built once: the hot path only binds parameters. The latest closed period rides along with the
# account lookup so that validating an entry is a single round trip.
_ACCOUNTS_AND_PERIOD = select(
    col(Account.id),
    col(Account.key),
    col(Account.type),
    col(Account.currency),
    col(Account.limit),
    col(Account.is_open),
    select(func.max(ClosedPeriod.period)).scalar_subquery().label("closed_period"),
).where(col(Account.key).in_(bindparam("keys", expanding=True)))


# On PostgreSQL the hot path sends plain SQL straight to the driver: building and caching
# SQLAlchemy statements costs more CPU than the database spends on the whole entry.
_PG_ACCOUNTS_AND_PERIOD = (
    'SELECT id, key, type, currency, "limit", is_open, '
    "(SELECT max(period) FROM ledger_closed_periods) AS closed_period "
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
    return session.execute(select(func.max(ClosedPeriod.period))).scalar_one_or_none()


def _check_open_period(closed: str | None, effective_date: date) -> None:
    if closed is not None and effective_date.strftime("%Y-%m") <= closed:
        raise PeriodClosed(
            f"The books are closed up to and including {closed}; an entry dated "
            f"{effective_date.isoformat()} can no longer be posted. Date it later, or post a "
            "correction in an open period.",
            errors=[{"loc": ["effective_date"], "msg": f"period closed up to {closed}"}],
        )


def _check_limits(session: Session, spec: EntrySpec, accounts: Mapping[str, Row[Any]]) -> None:
    """Lock and check every non-negative account this entry lowers."""
    deltas: dict[str, int] = defaultdict(int)
    for posting in spec.postings:
        account = accounts[posting.account]
        if account.limit == AccountLimit.non_negative.value:
            deltas[posting.account] += signed_amount(posting) * normal_sign(account.type)
    lowered = {key: delta for key, delta in deltas.items() if delta < 0}
    if not lowered:
        return
    ids = sorted(accounts[key].id for key in lowered)
    # One global order (ascending id) for every writer: no lock cycles, so no deadlocks here.
    # FOR NO KEY UPDATE serializes the writers that lower the account, but not the inserts that
    # merely reference it (their foreign-key checks take KEY SHARE), so sales crediting a member
    # never wait for that member's payout.
    session.execute(
        select(col(Account.id))
        .where(col(Account.id).in_(ids))
        .order_by(col(Account.id))
        .with_for_update(key_share=True)
    ).all()
    sums = dict(
        session.execute(
            select(col(Posting.account_id), func.sum(Posting.amount))
            .where(col(Posting.account_id).in_(ids))
            .group_by(col(Posting.account_id))
        )
        .tuples()
        .all()
    )
    for key, delta in sorted(lowered.items()):
        account = accounts[key]
        current = int(sums.get(account.id) or 0) * normal_sign(account.type)
        if current + delta < 0:
            raise LimitExceeded(
                f"Account {key!r} may not go below zero: it holds {current} "
                f"{account.currency} and this entry would take {-delta}.",
                errors=[{"loc": ["postings"], "msg": f"{key} would go below zero"}],
            )


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


# One round trip for the entry and its postings; nothing is inserted if the key exists.
_PG_INSERT_ENTRY_WITH_POSTINGS = """
WITH entry AS (
    INSERT INTO ledger_entries (kind, effective_date, memo, reference, metadata, idempotency_key,
                                content_hash, created_by, created_at, reverses_id)
    VALUES (%(kind)s, %(effective_date)s, %(memo)s, %(reference)s, %(metadata)s::json,
            %(idempotency_key)s, %(content_hash)s, %(created_by)s, %(created_at)s,
            %(reverses_id)s::bigint)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
)
INSERT INTO ledger_postings (entry_id, account_id, effective_date, amount, currency)
SELECT entry.id, p.account_id, %(effective_date)s, p.amount, p.currency
  FROM entry,
       unnest(%(account_ids)s::integer[], %(amounts)s::bigint[], %(currencies)s::varchar[])
       WITH ORDINALITY AS p(account_id, amount, currency, n)
 ORDER BY p.n
RETURNING entry_id
"""


def _insert_entry(
    session: Session,
    spec: EntrySpec,
    digest: str,
    reverses_id: int | None,
    accounts: Mapping[str, Row[Any]],
) -> JournalEntry | None:
    """Insert the entry and its postings; None when an entry with this key already exists."""
    entry = JournalEntry(
        kind=spec.kind,
        effective_date=spec.effective_date,
        memo=spec.memo,
        reference=spec.reference,
        meta=dict(spec.metadata),
        idempotency_key=spec.idempotency_key,
        content_hash=digest,
        created_by=spec.created_by,
        created_at=utcnow(),
        reverses_id=reverses_id,
    )
    values = {
        "kind": entry.kind,
        "effective_date": entry.effective_date,
        "memo": entry.memo,
        "reference": entry.reference,
        "metadata": entry.meta,
        "idempotency_key": entry.idempotency_key,
        "content_hash": entry.content_hash,
        "created_by": entry.created_by,
        "created_at": entry.created_at,
        "reverses_id": entry.reverses_id,
    }
    try:
        if _is_postgresql(session):
            values["metadata"] = canonical_json(entry.meta)
            values["account_ids"] = [accounts[p.account].id for p in spec.postings]
            values["amounts"] = [signed_amount(p) for p in spec.postings]
            values["currencies"] = [p.currency for p in spec.postings]
            entry_id = (
                session.connection()
                .exec_driver_sql(_PG_INSERT_ENTRY_WITH_POSTINGS, values)
                .scalars()
                .first()
            )
        else:
            entry_id = _insert_portably(session, spec, values, accounts)
    except (IntegrityError, InternalError) as error:
        if "closed period" in str(error.orig):
            # The database trigger caught a period closed after our own check.
            raise PeriodClosed(
                f"The period of {spec.effective_date.isoformat()} was closed meanwhile.",
                errors=[{"loc": ["effective_date"], "msg": "period closed"}],
            ) from None
        raise
    if entry_id is None:
        return None
    entry.id = entry_id
    # The row exists: make the object persistent in this session without reading it back.
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


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
    return PostResult(entry=entry, replayed=True)


def post(session: Session, spec: EntrySpec) -> PostResult:
    """Append a balanced entry, or return the one already posted under this idempotency key."""
    return _post(session, spec, reverses_id=None)


def _post(session: Session, spec: EntrySpec, *, reverses_id: int | None) -> PostResult:
    validate_spec(spec)
    digest = spec_hash(spec)
    try:
        accounts, closed_period = _load_accounts(session, spec)
        _check_open_period(closed_period, spec.effective_date)
        _check_limits(session, spec, accounts)
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
    return PostResult(entry=entry, replayed=False)


def reverse(
    session: Session, entry_id: int, *, created_by: str | None = None, memo: str = ""
) -> JournalEntry:
    """Post the mirror image of an entry, linked to it; an entry is reversed at most once."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise EntryNotFound(f"There is no journal entry {entry_id}.")
    already = session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.reverses_id) == entry_id)
    ).first()
    if already is not None:
        raise AlreadyReversed(f"Entry {entry_id} was already reversed by entry {already}.")
    lines = session.execute(
        select(col(Account.key), col(Posting.amount), col(Posting.currency))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
    spec = EntrySpec(
        kind="reversal",
        effective_date=max(original.effective_date, utcnow().date()),
        postings=tuple(
            PostingSpec(
                account=key,
                side=Side.credit if amount > 0 else Side.debit,
                amount=abs(amount),
                currency=currency,
            )
            for key, amount, currency in lines
        ),
        idempotency_key=f"{REVERSAL_KEY_PREFIX}{entry_id}",
        memo=memo or f"Reversal of entry {entry_id}",
        reference=original.reference,
        metadata={"reverses": entry_id},
        created_by=created_by,
    )
    try:
        result = _post(session, spec, reverses_id=entry_id)
    except IdempotencyConflict:
        result = PostResult(entry=original, replayed=True)
    if result.replayed:
        # Another request reversed it between our check and our insert.
        raise AlreadyReversed(f"Entry {entry_id} was already reversed.")
    return result.entry
