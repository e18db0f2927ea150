"""Bank statements: parse a CSV (UTF-8 or GBK), store each line once, and match lines to postings.

Default format (a header row, then one line per movement, any column order):

    date,amount,currency,reference,counterparty,description
    2026-11-30,-1234.50,CNY,PAY-2026-11-SJ,Songjiang members,Payout batch 3

`amount` is signed as the bank account moves (money in > 0, out < 0) in major units; thousands
separators (`1,234.50`), full-width digits (`１２３４．５０`) and a leading ¥/￥ are accepted.
`currency` may be left out (the account's currency is used). Dates: `2026-11-30`, `2026/11/30`,
`20261130` or `2026年11月30日`. Other layouts map their headers to these names with a column
mapping, e.g. `{"date": "交易日期", "inflow": "收入金额", "outflow": "支出金额", "reference": "摘要"}`
(`inflow`/`outflow` instead of one signed `amount`). A file with any bad line is refused whole,
each error naming its line and column.

Matching puts statement lines and ledger postings of the same money in one `Match`: by exact
reference (any number of lines to any number of postings whose sums agree), by amount and date
within a drift, and a batch paid in one transfer (one line = the sum of a payout batch's postings).
"""

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import select
from sqlmodel import Session, col

from core.errors import Conflict, Invalid, NotFound
from ledger.base import utcnow
from ledger.models import Account, JournalEntry, Posting, Side
from ledger.payout_models import (
    Explanation,
    LineState,
    Match,
    MatchItem,
    Statement,
    StatementLine,
)
from ledger.service import EntrySpec, PostingSpec, post

FIELDS = (
    "date",
    "amount",
    "inflow",
    "outflow",
    "currency",
    "reference",
    "counterparty",
    "description",
)
MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_DRIFT_DAYS = 3
AMOUNT_PATTERN = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


class StatementInvalid(Invalid):
    title = "Bank statement refused"
    type_slug = "bank-statement-invalid"


class MatchConflict(Conflict):
    title = "Match refused"
    type_slug = "bank-match-conflict"


@dataclass(frozen=True)
class ParsedLine:
    line_no: int
    booked_on: date
    amount: int
    currency: str
    reference: str
    counterparty: str
    description: str


@dataclass(frozen=True)
class ParsedFile:
    encoding: str
    lines: list[ParsedLine]


@dataclass(frozen=True)
class ImportResult:
    statement: Statement
    new_lines: int
    skipped_lines: int  # already stored from an earlier file
    replayed: bool  # the very same file again


@dataclass(frozen=True)
class LedgerItem:
    posting_id: int
    entry_id: int
    effective_date: date
    amount: int  # signed like the statement: debit to the account > 0
    currency: str
    reference: str
    memo: str
    metadata: dict[str, Any] = field(default_factory=dict)


# --- Parsing -------------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); else refused."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise StatementInvalid(
            "The file is neither UTF-8 nor GBK text; export the statement as CSV again.",
            errors=[{"loc": ["file"], "msg": "unknown encoding"}],
        ) from None


def parse_amount(text: str, currency: str) -> int:
    """Major units as written by a bank → integer minor units; ValueError says why not."""
    value = unicodedata.normalize("NFKC", text).strip()
    for symbol in ("¥", "￥", "CNY", "RMB", "元", " "):
        value = value.replace(symbol, "")
    if not value:
        raise ValueError("empty")
    if not AMOUNT_PATTERN.match(value):
        raise ValueError(f"{text!r} is not an amount like -1,234.50")
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    scale = get_currency_precision(currency)
    minor = number.scaleb(scale)
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more than {scale} decimals")
    return int(minor)


def parse_date(text: str) -> date:
    value = unicodedata.normalize("NFKC", text).strip()
    for pattern in DATE_PATTERNS:
        found = pattern.match(value)
        if found:
            year, month, day = (int(part) for part in found.groups())
            return date(year, month, day)  # ValueError for 2026-02-30
    raise ValueError(f"{text!r} is not a date like 2026-11-30")


def _resolve_columns(
    header: list[str], mapping: Mapping[str, str] | None
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    names = [unicodedata.normalize("NFKC", h).strip() for h in header]
    wanted = dict(mapping) if mapping else {f: f for f in FIELDS}
    errors: list[dict[str, Any]] = []
    unknown = set(wanted) - set(FIELDS)
    for name in sorted(unknown):
        errors.append({"loc": ["mapping", name], "msg": f"not a field; use {', '.join(FIELDS)}"})
    columns: dict[str, int] = {}
    for target, source in wanted.items():
        if target in unknown:
            continue
        source = unicodedata.normalize("NFKC", source).strip()
        if source in names:
            columns[target] = names.index(source)
        elif mapping:
            errors.append({"loc": ["line", 1, "column", source], "msg": "column not in the file"})
    if "date" not in columns:
        errors.append({"loc": ["line", 1, "column", wanted.get("date", "date")], "msg": "missing"})
    has_amount = "amount" in columns
    has_flows = "inflow" in columns or "outflow" in columns
    if not has_amount and not has_flows:
        errors.append(
            {"loc": ["line", 1, "column", wanted.get("amount", "amount")], "msg": "missing"}
        )
    if has_amount and has_flows:
        errors.append({"loc": ["mapping"], "msg": "map either amount or inflow/outflow, not both"})
    return columns, errors


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A column mapping sent as JSON text (a form field), or None for the default format."""
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


def parse_statement(
    raw: bytes, *, currency: str, mapping: Mapping[str, str] | None = None
) -> ParsedFile:
    """Every line parsed, or `StatementInvalid` listing each bad line and column."""
    if len(raw) > MAX_FILE_BYTES:
        raise StatementInvalid(
            "The file is larger than 5 MB; split the statement by month.",
            errors=[{"loc": ["file"], "msg": "larger than 5 MB"}],
        )
    text, encoding = decode(raw)
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise StatementInvalid(
            "The file is empty.", errors=[{"loc": ["file"], "msg": "no header row"}]
        )
    columns, errors = _resolve_columns(rows[0], mapping)
    if errors:
        raise StatementInvalid(
            "The statement's columns are not the expected ones: nothing was imported.",
            errors=errors,
        )
    header = [h.strip() for h in rows[0]]

    def column_name(name: str) -> str:
        return header[columns[name]]

    lines: list[ParsedLine] = []
    for offset, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        line_errors: list[dict[str, Any]] = []
        line_currency = (_cell(row, columns, "currency") or currency).upper()
        if line_currency != currency:
            line_errors.append(
                {
                    "loc": ["line", offset, "column", column_name("currency")],
                    "msg": f"{line_currency} is not the account's currency {currency}",
                }
            )
        booked: date | None = None
        try:
            booked = parse_date(_cell(row, columns, "date"))
        except ValueError as exc:
            line_errors.append(
                {"loc": ["line", offset, "column", column_name("date")], "msg": str(exc)}
            )
        amount = 0
        names = ["amount"] if "amount" in columns else ["inflow", "outflow"]
        for name in names:
            if name not in columns:
                continue
            cell = _cell(row, columns, name)
            if not cell and name != "amount":
                continue
            try:
                value = parse_amount(cell, currency)
            except ValueError as exc:
                line_errors.append(
                    {"loc": ["line", offset, "column", column_name(name)], "msg": str(exc)}
                )
                continue
            amount += (
                -abs(value) if name == "outflow" else (abs(value) if name == "inflow" else value)
            )
        if not line_errors and amount == 0:
            line_errors.append(
                {"loc": ["line", offset, "column", column_name(names[0])], "msg": "amount is zero"}
            )
        if line_errors:
            errors.extend(line_errors)
            continue
        assert booked is not None
        lines.append(
            ParsedLine(
                line_no=offset,
                booked_on=booked,
                amount=amount,
                currency=currency,
                reference=_cell(row, columns, "reference")[:255],
                counterparty=_cell(row, columns, "counterparty")[:255],
                description=_cell(row, columns, "description")[:500],
            )
        )
    if errors:
        raise StatementInvalid(
            f"Nothing was imported: {len(errors)} problem(s) in the file; fix them and upload "
            "again.",
            errors=errors,
        )
    if not lines:
        raise StatementInvalid(
            "The file has a header but no lines.", errors=[{"loc": ["file"], "msg": "no lines"}]
        )
    return ParsedFile(encoding=encoding, lines=lines)


# --- Storing -------------------------------------------------------------------------------


def _account(session: Session, key: str) -> Account:
    account = session.scalars(select(Account).where(col(Account.key) == key)).first()
    if account is None:
        raise NotFound(f"There is no ledger account {key!r}.")
    return account


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
    account = _account(session, account_key)
    parsed = parse_statement(raw, currency=account.currency, mapping=mapping)
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
        imported_by=imported_by,
    )
    session.add(statement)
    session.flush()
    assert statement.id is not None
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    hashes: list[tuple[str, ParsedLine]] = []
    for line in parsed.lines:
        identity = (
            line.booked_on,
            line.amount,
            line.reference,
            line.counterparty,
            line.description,
        )
        hashes.append((_line_hash(account_key, line, seen[identity]), line))
        seen[identity] += 1
    stored = set(
        session.scalars(
            select(col(StatementLine.line_hash)).where(
                col(StatementLine.line_hash).in_([h for h, _ in hashes])
            )
        )
    )
    new = 0
    for digest, line in hashes:
        if digest in stored:
            continue
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
        new += 1
    statement.line_count = new
    session.flush()
    return ImportResult(statement, new_lines=new, skipped_lines=len(hashes) - new, replayed=False)


# --- Reading both sides ----------------------------------------------------------------------


def _matched_ids(session: Session, account_key: str) -> tuple[set[int], set[int]]:
    rows = session.execute(
        select(col(MatchItem.statement_line_id), col(MatchItem.posting_id))
        .join(Match, col(Match.id) == col(MatchItem.match_id))
        .where(col(Match.account_key) == account_key, col(MatchItem.active).is_(True))
    ).all()
    lines = {r[0] for r in rows if r[0] is not None}
    postings = {r[1] for r in rows if r[1] is not None}
    return lines, postings


def ledger_items(
    session: Session,
    account_key: str,
    *,
    until: date | None = None,
    since: date | None = None,
) -> list[LedgerItem]:
    query = (
        select(Posting, JournalEntry)
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key) == account_key)
        .order_by(col(Posting.effective_date), col(Posting.id))
    )
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    items = []
    for posting, entry in session.execute(query).tuples():
        assert posting.id is not None
        assert entry.id is not None
        items.append(
            LedgerItem(
                posting_id=posting.id,
                entry_id=entry.id,
                effective_date=posting.effective_date,
                amount=posting.amount,
                currency=posting.currency,
                reference=entry.reference or "",
                memo=entry.memo,
                metadata=dict(entry.meta or {}),
            )
        )
    return items


def statement_lines(
    session: Session,
    account_key: str,
    *,
    until: date | None = None,
    since: date | None = None,
) -> list[StatementLine]:
    query = (
        select(StatementLine)
        .where(col(StatementLine.account_key) == account_key)
        .order_by(col(StatementLine.booked_on), col(StatementLine.id))
    )
    if until is not None:
        query = query.where(col(StatementLine.booked_on) <= until)
    if since is not None:
        query = query.where(col(StatementLine.booked_on) >= since)
    return list(session.scalars(query))


def _explained_ids(session: Session, account_key: str) -> tuple[set[int], set[int]]:
    rows = session.execute(
        select(col(Explanation.statement_line_id), col(Explanation.posting_id)).where(
            col(Explanation.account_key) == account_key
        )
    ).all()
    return {r[0] for r in rows if r[0] is not None}, {r[1] for r in rows if r[1] is not None}


def open_items(
    session: Session, account_key: str, *, until: date | None = None
) -> tuple[list[StatementLine], list[LedgerItem]]:
    """Statement lines and ledger postings in no active match (explained ones included)."""
    matched_lines, matched_postings = _matched_ids(session, account_key)
    lines = [
        line
        for line in statement_lines(session, account_key, until=until)
        if line.id not in matched_lines
    ]
    items = [
        item
        for item in ledger_items(session, account_key, until=until)
        if item.posting_id not in matched_postings
    ]
    return lines, items


# --- Matching --------------------------------------------------------------------------------


def _record_match(
    session: Session,
    *,
    account_key: str,
    rule: str,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    reason: str = "",
    created_by: str | None = None,
) -> Match:
    match = Match(account_key=account_key, rule=rule, reason=reason, created_by=created_by)
    session.add(match)
    session.flush()
    assert match.id is not None
    for line_id in line_ids:
        session.add(MatchItem(match_id=match.id, statement_line_id=line_id))
        line = session.get(StatementLine, line_id)
        assert line is not None
        line.state = LineState.matched.value
        session.add(line)
    for posting_id in posting_ids:
        session.add(MatchItem(match_id=match.id, posting_id=posting_id))
    session.flush()
    return match


def auto_match(
    session: Session,
    *,
    account_key: str,
    drift_days: int = DEFAULT_DRIFT_DAYS,
    created_by: str | None = None,
) -> list[Match]:
    """Apply the rules in order (reference, batch transfer, amount + date); returns new matches."""
    if drift_days < 0 or drift_days > 31:
        raise Invalid(
            "The date drift must be 0–31 days.",
            errors=[{"loc": ["body", "drift_days"], "msg": "0–31"}],
        )
    _account(session, account_key)
    lines, items = open_items(session, account_key)
    explained_lines, explained_postings = _explained_ids(session, account_key)
    lines = [line for line in lines if line.id not in explained_lines]
    items = [item for item in items if item.posting_id not in explained_postings]
    made: list[Match] = []

    # 1. Exact reference: all open lines and postings sharing a reference, when their sums agree.
    lines_by_ref: dict[str, list[StatementLine]] = defaultdict(list)
    items_by_ref: dict[str, list[LedgerItem]] = defaultdict(list)
    for line in lines:
        if line.reference:
            lines_by_ref[line.reference].append(line)
    for item in items:
        if item.reference:
            items_by_ref[item.reference].append(item)
    used_lines: set[int] = set()
    used_postings: set[int] = set()
    for reference, group in lines_by_ref.items():
        candidates = items_by_ref.get(reference, [])
        if candidates and sum(line.amount for line in group) == sum(i.amount for i in candidates):
            line_ids = [line.id for line in group if line.id is not None]
            posting_ids = [i.posting_id for i in candidates]
            made.append(
                _record_match(
                    session,
                    account_key=account_key,
                    rule="reference",
                    line_ids=line_ids,
                    posting_ids=posting_ids,
                    created_by=created_by,
                )
            )
            used_lines.update(line_ids)
            used_postings.update(posting_ids)
    lines = [line for line in lines if line.id not in used_lines]
    items = [item for item in items if item.posting_id not in used_postings]

    # 2. One transfer for a payout batch: a line equal to the sum of the batch's postings of a day.
    by_batch: dict[Any, list[LedgerItem]] = defaultdict(list)
    for item in items:
        if "payout_batch" in item.metadata:
            by_batch[(item.metadata["payout_batch"], item.effective_date)].append(item)
    for batch_items in by_batch.values():
        total = sum(i.amount for i in batch_items)
        newest = max(i.effective_date for i in batch_items)
        for line in lines:
            if (
                line.id not in used_lines
                and len(batch_items) > 1
                and line.amount == total
                and abs((line.booked_on - newest).days) <= drift_days
            ):
                assert line.id is not None
                posting_ids = [i.posting_id for i in batch_items]
                made.append(
                    _record_match(
                        session,
                        account_key=account_key,
                        rule="batch",
                        line_ids=[line.id],
                        posting_ids=posting_ids,
                        created_by=created_by,
                    )
                )
                used_lines.add(line.id)
                used_postings.update(posting_ids)
                break
    lines = [line for line in lines if line.id not in used_lines]
    items = [item for item in items if item.posting_id not in used_postings]

    # 3. Same amount, nearest date within the drift; a tie is left for a person to decide.
    for line in lines:
        near = [
            item
            for item in items
            if item.posting_id not in used_postings
            and item.amount == line.amount
            and abs((item.effective_date - line.booked_on).days) <= drift_days
        ]
        if not near:
            continue
        near.sort(key=lambda i: abs((i.effective_date - line.booked_on).days))
        best = abs((near[0].effective_date - line.booked_on).days)
        if len(near) > 1 and abs((near[1].effective_date - line.booked_on).days) == best:
            continue
        assert line.id is not None
        made.append(
            _record_match(
                session,
                account_key=account_key,
                rule="amount_date",
                line_ids=[line.id],
                posting_ids=[near[0].posting_id],
                created_by=created_by,
            )
        )
        used_postings.add(near[0].posting_id)
    return made


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise Invalid(
            "Give a reason (1–500 characters): it is kept with the match.",
            errors=[{"loc": ["body", "reason"], "msg": "1–500 characters"}],
        )
    return reason


def match_manually(
    session: Session,
    *,
    account_key: str,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    reason: str,
    created_by: str | None = None,
) -> Match:
    """Staff link lines and postings by hand; their sums must agree (else post an adjustment)."""
    reason = _require_reason(reason)
    if not line_ids or not posting_ids:
        raise Invalid(
            "A match needs at least one statement line and one ledger posting.",
            errors=[
                {"loc": ["body", "line_ids" if not line_ids else "posting_ids"], "msg": "empty"}
            ],
        )
    lines, items = open_items(session, account_key)
    open_lines = {line.id: line for line in lines}
    open_postings = {item.posting_id: item for item in items}
    for line_id in line_ids:
        if line_id not in open_lines:
            raise MatchConflict(
                f"Statement line {line_id} is not an open line of {account_key} "
                "(unknown, or already matched)."
            )
    for posting_id in posting_ids:
        if posting_id not in open_postings:
            raise MatchConflict(
                f"Posting {posting_id} is not an open posting of {account_key} "
                "(unknown, or already matched)."
            )
    line_total = sum(open_lines[i].amount for i in set(line_ids))
    posting_total = sum(open_postings[i].amount for i in set(posting_ids))
    if line_total != posting_total:
        raise MatchConflict(
            f"The lines sum to {line_total} and the postings to {posting_total} (minor units); "
            "a match must agree to the fen. Post an adjustment for the difference first.",
            errors=[
                {"loc": ["body", "posting_ids"], "msg": f"off by {line_total - posting_total}"}
            ],
        )
    return _record_match(
        session,
        account_key=account_key,
        rule="manual",
        line_ids=sorted(set(line_ids)),
        posting_ids=sorted(set(posting_ids)),
        reason=reason,
        created_by=created_by,
    )


def unmatch(session: Session, *, match_id: int, reason: str, undone_by: str | None = None) -> Match:
    """Undo a match (kept, with who undid it and why); its lines and postings are open again."""
    reason = _require_reason(reason)
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound(f"There is no match {match_id}.")
    if not match.active:
        raise MatchConflict(f"Match {match_id} was already undone.")
    match.active = False
    match.undone_by = undone_by
    match.undone_at = utcnow()
    match.undo_reason = reason
    session.add(match)
    items = session.scalars(select(MatchItem).where(col(MatchItem.match_id) == match_id))
    for item in items:
        item.active = False
        session.add(item)
        if item.statement_line_id is not None:
            line = session.get(StatementLine, item.statement_line_id)
            assert line is not None
            line.state = LineState.unmatched.value
            session.add(line)
    session.flush()
    return match


def post_line_adjustment(
    session: Session,
    *,
    line_id: int,
    counter_account: str,
    memo: str,
    created_by: str | None = None,
) -> Match:
    """Book an unexpected line (a bank fee, interest) against `counter_account`, and match it."""
    memo = _require_reason(memo)
    line = session.get(StatementLine, line_id)
    if line is None:
        raise NotFound(f"There is no statement line {line_id}.")
    matched_lines, _ = _matched_ids(session, line.account_key)
    if line_id in matched_lines:
        raise MatchConflict(f"Statement line {line_id} is already matched.")
    _account(session, counter_account)
    amount = abs(line.amount)
    into_account = Side.debit if line.amount > 0 else Side.credit
    other = Side.credit if into_account == Side.debit else Side.debit
    entry = post(
        session,
        EntrySpec(
            kind="adjustment",
            effective_date=line.booked_on,
            postings=(
                PostingSpec(line.account_key, into_account, amount, line.currency),
                PostingSpec(counter_account, other, amount, line.currency),
            ),
            idempotency_key=f"bank-line-adjustment:{line_id}",
            memo=memo,
            reference=line.reference or None,
            metadata={"statement_line": line_id},
            created_by=created_by,
        ),
    ).entry
    posting_id = session.scalars(
        select(col(Posting.id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry.id, col(Account.key) == line.account_key)
    ).one()
    assert posting_id is not None
    return _record_match(
        session,
        account_key=line.account_key,
        rule="adjustment",
        line_ids=[line_id],
        posting_ids=[posting_id],
        reason=memo,
        created_by=created_by,
    )


def account_currency(session: Session, account_key: str) -> str:
    return _account(session, account_key).currency


def match_items(session: Session, matches: Sequence[Match]) -> list[tuple[Match, list[MatchItem]]]:
    """Each match with its items, in the order given."""
    items: dict[int, list[MatchItem]] = defaultdict(list)
    ids = [m.id for m in matches if m.id is not None]
    if ids:
        for item in session.scalars(select(MatchItem).where(col(MatchItem.match_id).in_(ids))):
            items[item.match_id].append(item)
    return [(m, items[m.id or 0]) for m in matches]


def list_matches(session: Session, account_key: str) -> list[tuple[Match, list[MatchItem]]]:
    matches = list(
        session.scalars(
            select(Match).where(col(Match.account_key) == account_key).order_by(col(Match.id))
        )
    )
    return match_items(session, matches)


__all__ = [
    "DEFAULT_DRIFT_DAYS",
    "FIELDS",
    "ImportResult",
    "LedgerItem",
    "MatchConflict",
    "ParsedFile",
    "ParsedLine",
    "StatementInvalid",
    "account_currency",
    "auto_match",
    "decode",
    "import_statement",
    "ledger_items",
    "list_matches",
    "match_items",
    "match_manually",
    "open_items",
    "parse_amount",
    "parse_date",
    "parse_mapping",
    "parse_statement",
    "post_line_adjustment",
    "statement_lines",
    "unmatch",
]
