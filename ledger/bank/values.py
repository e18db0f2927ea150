"""What the bank package passes around: parsed lines and files, ledger items, and its errors."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.errors import Conflict, Invalid
from ledger.payout_models import Statement

FIELDS = (
    "date",
    "amount",
    "inflow",
    "outflow",
    "direction",
    "currency",
    "reference",
    "counterparty",
    "description",
)
MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_DRIFT_DAYS = 3


class StatementInvalid(Invalid):
    title = "Bank statement refused"
    type_slug = "bank-statement-invalid"


class UnknownFormat(StatementInvalid):
    title = "Bank statement format not recognised"
    type_slug = "bank-statement-unknown-format"


class NotABankAccount(Invalid):
    title = "Not a bank account"
    type_slug = "not-a-bank-account"


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
class SkippedRow:
    """A row of the file that is not a movement: a totals or summary row, or a neutral one."""

    line_no: int
    kind: str  # "totals" | "summary" | "neutral"
    text: str


@dataclass(frozen=True)
class ParsedFile:
    encoding: str
    lines: list[ParsedLine]
    preset: str = "hezuo"
    file_format: str = "csv"
    header_line: int = 1
    skipped: list[SkippedRow] = field(default_factory=list)


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
