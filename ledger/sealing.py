"""Tamper evidence: sealing committed entries into hash-chained blocks, and verifying the chain.

A block's hash is sha256(previous block's hash + the hashes of its entries' canonical forms, in id
order). Sealing only reads entries and appends seal rows, so it never blocks posting; on
PostgreSQL an advisory lock keeps two sealers from forking the chain.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlmodel import Session, col

from ledger.base import utcnow
from ledger.models import Account, JournalEntry, Posting, SealBlock, SealedEntry
from ledger.specs import canonical_json, content_hash

GENESIS_HASH = "0" * 64
SEALER_LOCK_ID = 0x4E5A_5345_414C  # arbitrary, constant: "HZSEAL"


@dataclass(frozen=True)
class EntryRecord:
    """An entry as stored, with its postings (id, account key, signed amount, currency)."""

    entry: dict[str, Any]
    effective_date: date
    postings: list[tuple[int, str, int, str]]

    def canonical(self) -> str:
        return canonical_json({**self.entry, "postings": [list(p) for p in self.postings]})

    def seal_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def recomputed_content_hash(self) -> str:
        return content_hash(
            kind=self.entry["kind"],
            effective_date=self.effective_date,
            memo=self.entry["memo"],
            reference=self.entry["reference"],
            metadata=self.entry["metadata"],
            postings=[
                (key, "debit" if amount > 0 else "credit", abs(amount), currency)
                for _id, key, amount, currency in self.postings
            ],
        )


# Entries are read by id range, ID_CHUNK at most per statement: a range is one cheap index scan,
# where a list of thousands of bound ids costs more to build, send and plan than to read.
ID_CHUNK = 1000


def _id_ranges(entry_ids: Sequence[int]) -> Iterator[tuple[int, int, set[int]]]:
    """Sorted ids cut into (first, last, ids) runs of at most ID_CHUNK ids spanning at most
    2 × ID_CHUNK, so that reading a range never reads much that was not asked for."""
    run: list[int] = []
    for entry_id in sorted(set(entry_ids)):
        if run and (len(run) == ID_CHUNK or entry_id - run[0] >= 2 * ID_CHUNK):
            yield run[0], run[-1], set(run)
            run = []
        run.append(entry_id)
    if run:
        yield run[0], run[-1], set(run)


def load_records(session: Session, entry_ids: Sequence[int]) -> list[EntryRecord]:
    """The entries with these ids and their postings, in id order (plain rows, no ORM objects)."""
    records: list[EntryRecord] = []
    for first, last, wanted in _id_ranges(entry_ids):
        records.extend(_load_range(session, first, last, wanted))
    return records


def _load_range(session: Session, first: int, last: int, wanted: set[int]) -> list[EntryRecord]:
    postings: dict[int, list[tuple[int, str, int, str]]] = defaultdict(list)
    for posting_id, entry_id, key, amount, currency in session.execute(
        select(
            col(Posting.id),
            col(Posting.entry_id),
            col(Account.key),
            col(Posting.amount),
            col(Posting.currency),
        )
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id).between(first, last))
        .order_by(col(Posting.entry_id), col(Posting.id))
    ):
        if entry_id in wanted:
            postings[entry_id].append((posting_id, key, amount, currency))
    rows = session.execute(
        select(
            col(JournalEntry.id),
            col(JournalEntry.kind),
            col(JournalEntry.effective_date),
            col(JournalEntry.memo),
            col(JournalEntry.reference),
            col(JournalEntry.meta),
            col(JournalEntry.idempotency_key),
            col(JournalEntry.content_hash),
            col(JournalEntry.created_by),
            col(JournalEntry.created_at),
            col(JournalEntry.reverses_id),
        )
        .where(col(JournalEntry.id).between(first, last))
        .order_by(col(JournalEntry.id))
    )
    return [
        EntryRecord(
            entry={
                "id": row.id,
                "kind": row.kind,
                "effective_date": row.effective_date.isoformat(),
                "memo": row.memo,
                "reference": row.reference,
                "metadata": row.meta,
                "idempotency_key": row.idempotency_key,
                "content_hash": row.content_hash,
                "created_by": row.created_by,
                "created_at": row.created_at.isoformat(),
                "reverses_id": row.reverses_id,
            },
            effective_date=row.effective_date,
            postings=postings[row.id],
        )
        for row in rows
        if row.id in wanted
    ]


def block_hash(prev_hash: str, entry_hashes: Sequence[str]) -> str:
    digest = hashlib.sha256(prev_hash.encode())
    for entry_hash in entry_hashes:
        digest.update(entry_hash.encode())
    return digest.hexdigest()


def seal_pending(
    session: Session, *, min_age_seconds: float = 0.0, max_entries: int = 10_000
) -> SealBlock | None:
    """Seal committed, unsealed entries (oldest id first) into one new block; None if none."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SEALER_LOCK_ID})
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    sealed = exists().where(col(SealedEntry.entry_id) == col(JournalEntry.id))
    entry_ids = [
        int(entry_id)
        for entry_id in session.scalars(
            select(col(JournalEntry.id))
            .where(~sealed, col(JournalEntry.created_at) <= cutoff)
            .order_by(col(JournalEntry.id))
            .limit(max_entries)
        ).all()
        if entry_id is not None
    ]
    if not entry_ids:
        return None
    previous = session.scalars(select(SealBlock).order_by(col(SealBlock.id).desc())).first()
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    records = load_records(session, entry_ids)
    hashes = [r.seal_hash() for r in records]
    block = SealBlock(
        prev_hash=prev_hash,
        hash=block_hash(prev_hash, hashes),
        entry_count=len(records),
        first_entry_id=entry_ids[0],
        last_entry_id=entry_ids[-1],
    )
    session.add(block)
    session.flush()
    assert block.id is not None
    session.execute(
        SealedEntry.__table__.insert(),  # type: ignore[attr-defined]
        [
            {"entry_id": r.entry["id"], "block_id": block.id, "entry_hash": h}
            for r, h in zip(records, hashes, strict=True)
        ],
    )
    return block


def _unbalanced_entries(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Entries whose postings don't sum to zero per currency, or with fewer than 2 postings."""
    off = session.execute(
        select(col(Posting.entry_id), col(Posting.currency), func.sum(Posting.amount))
        .group_by(col(Posting.entry_id), col(Posting.currency))
        .having(func.sum(Posting.amount) != 0)
        .order_by(col(Posting.entry_id))
        .limit(limit)
    ).all()
    found = [
        {"entry_id": entry_id, "currency": currency, "off_by": int(total)}
        for entry_id, currency, total in off
    ]
    count = func.count(col(Posting.id))
    thin = session.execute(
        select(col(JournalEntry.id), count)
        .outerjoin(Posting, col(Posting.entry_id) == col(JournalEntry.id))
        .group_by(col(JournalEntry.id))
        .having(count < 2)
        .order_by(col(JournalEntry.id))
        .limit(limit)
    ).all()
    found += [{"entry_id": entry_id, "postings": int(n)} for entry_id, n in thin]
    return sorted(found, key=lambda item: int(item["entry_id"]))


def _blocks(session: Session) -> Iterator[SealBlock]:
    yield from session.scalars(select(SealBlock).order_by(col(SealBlock.id)))


def verify(session: Session) -> dict[str, Any]:
    """Recompute the seal chain and every entry's content hash; report the first mismatch.

    `first_mismatch` names the first sealed entry (or block) that no longer matches its seal;
    `unbalanced_entries` lists entries whose postings don't balance (possible on SQLite, which
    has no deferred triggers, or after tampering); `content_mismatches` lists entries whose stored
    content hash no longer matches their rows.
    """
    first_mismatch: dict[str, Any] | None = None
    sealed_entries = 0
    prev_hash = GENESIS_HASH
    content_mismatches: list[int] = []
    blocks = list(_blocks(session))
    for block in blocks:
        members = session.execute(
            select(col(SealedEntry.entry_id), col(SealedEntry.entry_hash))
            .where(col(SealedEntry.block_id) == block.id)
            .order_by(col(SealedEntry.entry_id))
        ).all()
        sealed_entries += len(members)
        if first_mismatch is None:
            first_mismatch = _check_block(session, block, members, prev_hash, content_mismatches)
        prev_hash = block.hash
    unsealed_ids = [
        int(entry_id)
        for entry_id in session.scalars(
            select(col(JournalEntry.id))
            .where(~exists().where(col(SealedEntry.entry_id) == col(JournalEntry.id)))
            .order_by(col(JournalEntry.id))
        ).all()
        if entry_id is not None
    ]
    for start in range(0, len(unsealed_ids), ID_CHUNK):
        for record in load_records(session, unsealed_ids[start : start + ID_CHUNK]):
            if record.recomputed_content_hash() != record.entry["content_hash"]:
                content_mismatches.append(int(record.entry["id"]))
    unbalanced = _unbalanced_entries(session)
    return {
        "ok": first_mismatch is None and not unbalanced and not content_mismatches,
        "sealed_entries": sealed_entries,
        "blocks": len(blocks),
        "unsealed_entries": len(unsealed_ids),
        "first_mismatch": first_mismatch,
        "unbalanced_entries": unbalanced,
        "content_mismatches": sorted(content_mismatches)[:100],
    }


def _check_block(
    session: Session,
    block: SealBlock,
    members: Sequence[Any],
    prev_hash: str,
    content_mismatches: list[int],
) -> dict[str, Any] | None:
    if block.prev_hash != prev_hash:
        return {
            "entry_id": None,
            "block": block.id,
            "reason": "block does not follow the previous one",
        }
    stored = {int(entry_id): entry_hash for entry_id, entry_hash in members}
    records = {int(r.entry["id"]): r for r in load_records(session, list(stored))}
    mismatch: dict[str, Any] | None = None
    for entry_id, sealed_hash in stored.items():
        record = records.get(entry_id)
        if record is None:
            mismatch = mismatch or {
                "entry_id": entry_id,
                "block": block.id,
                "reason": "entry is missing",
            }
            continue
        if record.recomputed_content_hash() != record.entry["content_hash"]:
            content_mismatches.append(entry_id)
        actual = record.seal_hash()
        if actual != sealed_hash and mismatch is None:
            mismatch = {
                "entry_id": entry_id,
                "block": block.id,
                "reason": "entry changed since it was sealed",
                "sealed_hash": sealed_hash,
                "actual_hash": actual,
            }
    if mismatch is not None:
        return mismatch
    if block_hash(prev_hash, list(stored.values())) != block.hash:
        return {"entry_id": None, "block": block.id, "reason": "block hash does not match"}
    return None
