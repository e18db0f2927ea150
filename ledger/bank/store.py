"""Storing statements: each line once, the same file once, a preview kept for its import, and
layouts staff mapped saved under a name.

The file is read with a built-in preset (detected from its header row), a preset staff saved, or
a mapping given with the upload. A preview keeps the upload server-side under a random token for
`PREVIEW_TTL`, so the import after it needs no second upload; importing consumes the token.
"""

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from core.errors import Conflict, NotFound
from ledger.bank import presets as layouts
from ledger.bank.models import StatementPreset, StatementPreview
from ledger.bank.parsing import mapping_errors, parse_statement
from ledger.bank.reading import bank_account
from ledger.bank.values import FIELDS, ImportResult, ParsedFile, ParsedLine, StatementInvalid
from ledger.base import utcnow
from ledger.payout_models import Statement, StatementLine

PREVIEW_TTL = timedelta(hours=2)


class PreviewExpired(NotFound):
    title = "Preview expired"
    type_slug = "bank-preview-expired"


class PresetConflict(Conflict):
    title = "Preset name taken"
    type_slug = "bank-preset-conflict"


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A column mapping sent as JSON text (the API's form field), or None for detection."""
    if not text or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise StatementInvalid(
            'The mapping must be a JSON object like {"date": "交易日期", "amount": "金额"}.',
            errors=[{"loc": ["body", "mapping"], "msg": "JSON object of column names"}],
        )
    return value


# --- Layouts ---------------------------------------------------------------------------------


def saved_presets(session: Session) -> list[layouts.Preset]:
    return [
        layouts.from_mapping(f"saved:{row.id}", row.name, row.mapping)
        for row in session.scalars(select(StatementPreset).order_by(col(StatementPreset.id)))
    ]


def all_presets(session: Session) -> list[layouts.Preset]:
    """Staff's saved layouts first (they were made for files the built-ins did not read)."""
    return [*saved_presets(session), *layouts.BUILTIN_PRESETS]


def preset_name(session: Session, key: str) -> str:
    return next((p.name for p in all_presets(session) if p.key == key), key)


def save_preset(
    session: Session, *, name: str, mapping: Mapping[str, str], created_by: str | None
) -> StatementPreset:
    """Save a mapping (field → the file's column) under a name for the next file of that bank."""
    name = name.strip()
    wanted = {f: c.strip() for f, c in mapping.items() if f in FIELDS and c.strip()}
    errors = mapping_errors(wanted)
    if not name or len(name) > 100:
        errors.append({"loc": ["body", "name"], "msg": "1–100 characters"})
    if errors:
        raise StatementInvalid("The column choice is not usable.", errors=errors)
    if session.scalars(select(StatementPreset).where(col(StatementPreset.name) == name)).first():
        raise PresetConflict(f"A preset named {name!r} exists already; choose another name.")
    row = StatementPreset(name=name, mapping=wanted, created_by=created_by)
    session.add(row)
    session.flush()
    return row


def read_file(
    session: Session, raw: bytes, *, account_key: str, mapping: Mapping[str, str] | None = None
) -> ParsedFile:
    """The file parsed for this account (which must be an asset account), with its preset."""
    account = bank_account(session, account_key)
    return parse_statement(
        raw, currency=account.currency, mapping=mapping, presets=all_presets(session)
    )


# --- Previews --------------------------------------------------------------------------------


def keep_preview(
    session: Session,
    *,
    raw: bytes,
    account_key: str,
    filename: str,
    mapping: Mapping[str, str] | None,
    created_by: str,
) -> StatementPreview:
    """Keep an upload for its import (expired ones are dropped on the way)."""
    now = utcnow()
    session.execute(delete(StatementPreview).where(col(StatementPreview.expires_at) < now))
    preview = StatementPreview(
        token=secrets.token_urlsafe(32),
        account_key=account_key,
        filename=filename[:255],
        raw=raw,
        mapping=dict(mapping) if mapping else None,
        created_by=created_by,
        expires_at=now + PREVIEW_TTL,
    )
    session.add(preview)
    session.flush()
    return preview


def get_preview(session: Session, token: str, *, created_by: str) -> StatementPreview:
    """The kept upload of this person, unexpired; 404 otherwise (a token is not shared)."""
    preview = session.get(StatementPreview, token)
    if preview is None or preview.created_by != created_by or preview.expires_at < utcnow():
        raise PreviewExpired(
            "This preview is no longer kept (imported, expired after 2 hours, or not yours); "
            "upload the file again."
        )
    return preview


def import_preview(session: Session, token: str, *, created_by: str) -> ImportResult:
    """Import the kept upload of a preview, once; the token is then spent."""
    preview = get_preview(session, token, created_by=created_by)
    result = import_statement(
        session,
        raw=preview.raw,
        account_key=preview.account_key,
        filename=preview.filename,
        mapping=preview.mapping,
        imported_by=created_by,
    )
    session.delete(preview)
    session.flush()
    return result


# --- Import ----------------------------------------------------------------------------------


def _line_hash(account_key: str, line: ParsedLine, ordinal: int) -> str:
    content = [
        account_key,
        line.booked_on.isoformat(),
        line.amount,
        line.currency,
        line.reference,
        line.counterparty,
        line.description,
        ordinal,
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def _hashed(account_key: str, lines: list[ParsedLine]) -> list[tuple[str, ParsedLine]]:
    """Each line with its hash; identical lines of one file are told apart by their ordinal."""
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    hashes = []
    for line in lines:
        identity = (
            line.booked_on,
            line.amount,
            line.reference,
            line.counterparty,
            line.description,
        )
        hashes.append((_line_hash(account_key, line, seen[identity]), line))
        seen[identity] += 1
    return hashes


def already_stored(session: Session, account_key: str, parsed: ParsedFile) -> set[int]:
    """The file line numbers of a parsed file whose lines are stored already (skipped on import)."""
    hashes = _hashed(account_key, parsed.lines)
    stored = set(
        session.scalars(
            select(col(StatementLine.line_hash)).where(
                col(StatementLine.line_hash).in_([h for h, _ in hashes])
            )
        )
    )
    return {line.line_no for digest, line in hashes if digest in stored}


def import_statement(
    session: Session,
    *,
    raw: bytes,
    account_key: str,
    filename: str = "",
    mapping: Mapping[str, str] | None = None,
    imported_by: str | None = None,
    source: str = "bank",
) -> ImportResult:
    """Store a statement file once; lines already stored (from an overlapping file) are skipped."""
    parsed = read_file(session, raw, account_key=account_key, mapping=mapping)
    file_hash = hashlib.sha256(account_key.encode() + b"\0" + raw).hexdigest()
    existing = session.scalars(
        select(Statement).where(col(Statement.file_hash) == file_hash)
    ).first()
    if existing is not None:
        return ImportResult(existing, new_lines=0, skipped_lines=len(parsed.lines), replayed=True)
    statement = Statement(
        source=source,
        account_key=account_key,
        file_hash=file_hash,
        filename=filename[:255],
        encoding=parsed.encoding,
        preset=parsed.preset,
        imported_by=imported_by,
    )
    session.add(statement)
    session.flush()
    assert statement.id is not None
    hashes = _hashed(account_key, parsed.lines)
    stored = set(
        session.scalars(
            select(col(StatementLine.line_hash)).where(
                col(StatementLine.line_hash).in_([h for h, _ in hashes])
            )
        )
    )
    for digest, line in hashes:
        if digest not in stored:
            session.add(
                StatementLine(
                    statement_id=statement.id,
                    account_key=account_key,
                    line_no=line.line_no,
                    booked_on=line.booked_on,
                    amount=line.amount,
                    currency=line.currency,
                    reference=line.reference,
                    counterparty=line.counterparty,
                    description=line.description,
                    line_hash=digest,
                )
            )
    new = sum(1 for digest, _ in hashes if digest not in stored)
    statement.line_count = new
    session.flush()
    return ImportResult(statement, new_lines=new, skipped_lines=len(hashes) - new, replayed=False)
