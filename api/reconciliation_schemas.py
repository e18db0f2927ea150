"""The reconciliation API's bodies and answers (api/routers/reconciliation.py), and how the
ledger's bank and reconciliation results are shown in them."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from ledger import bank, reconciliation
from ledger.payout_models import Match, MatchItem


class Money(BaseModel):
    amount: int
    currency: str


class ImportRead(BaseModel):
    statement_id: int
    account: str
    encoding: str
    new_lines: int
    skipped_lines: int
    replayed: bool
    preset: str = ""


class LineRead(BaseModel):
    id: int
    line_no: int
    booked_on: date
    amount: int
    currency: str
    reference: str
    counterparty: str
    description: str
    state: str


class SkippedRead(BaseModel):
    line_no: int
    kind: str  # totals | summary | neutral | note
    text: str


class ProposalRead(BaseModel):
    rule: str
    line_nos: list[int]
    posting_ids: list[int]
    confirm: bool = False  # for staff to confirm (one deposit of several payments), never auto


class PreviewRead(BaseModel):
    encoding: str
    lines: list[LineRead]
    preset: str = ""
    preset_name: str = ""
    file_format: str = "csv"
    header_line: int = 1
    skipped: list[SkippedRead] = []
    proposals: list[ProposalRead] = []
    already_stored: list[int] = []  # file line numbers an import would skip
    token: str | None = None  # send it back as `preview_token` to import this upload
    expires_at: datetime | None = None


class AutoMatch(BaseModel):
    account: str = "assets:bank"
    drift_days: int = Field(default=bank.DEFAULT_DRIFT_DAYS, ge=0, le=31)


class MatchCreate(BaseModel):
    account: str = "assets:bank"
    line_ids: list[int] = Field(min_length=1)
    posting_ids: list[int] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500)


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class Adjustment(BaseModel):
    counter_account: str = Field(min_length=1, max_length=255)
    memo: str = Field(min_length=1, max_length=500)


class ExplanationCreate(BaseModel):
    account: str = "assets:bank"
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    statement_line_id: int | None = None
    posting_id: int | None = None
    reason: str = Field(min_length=1, max_length=500)


class MatchRead(BaseModel):
    id: int
    account: str
    rule: str
    reason: str
    active: bool
    line_ids: list[int]
    posting_ids: list[int]


class OpenItemRead(BaseModel):
    side: str
    id: int
    date: date
    amount: int
    reference: str
    description: str
    explanation: str | None


class ReconciliationRead(BaseModel):
    account: str
    period: str
    currency: str
    ledger_balance: int
    statement_balance: int
    difference: int
    matched: dict[str, int]
    open_items: list[OpenItemRead]
    unexplained: int
    closable: bool
    closed: bool


class CloseRequest(BaseModel):
    accounts: list[str] | None = None


class SyncRead(BaseModel):
    fetched: int
    new: int
    fees_posted: int
    payouts_posted: int
    matched: int
    unmatched: list[str]


def view_read(view: reconciliation.Reconciliation) -> ReconciliationRead:
    return ReconciliationRead(
        account=view.account,
        period=view.period,
        currency=view.currency,
        ledger_balance=view.ledger_balance,
        statement_balance=view.statement_balance,
        difference=view.difference,
        matched={
            "ledger": view.matched_ledger,
            "statement": view.matched_statement,
            "lines": view.matched_count,
        },
        open_items=[
            OpenItemRead(
                side=i.side,
                id=i.id,
                date=i.on,
                amount=i.amount,
                reference=i.reference,
                description=i.description,
                explanation=i.explanation,
            )
            for i in view.open_items
        ],
        unexplained=len(view.unexplained),
        closable=view.closable,
        closed=view.closed,
    )


def match_read(match: Match, items: list[MatchItem]) -> MatchRead:
    return MatchRead(
        id=match.id or 0,
        account=match.account_key,
        rule=match.rule,
        reason=match.reason,
        active=match.active,
        line_ids=[i.statement_line_id for i in items if i.statement_line_id is not None],
        posting_ids=[i.posting_id for i in items if i.posting_id is not None],
    )


def import_read(result: bank.ImportResult, account: str) -> ImportRead:
    return ImportRead(
        statement_id=result.statement.id or 0,
        account=account,
        encoding=result.statement.encoding,
        new_lines=result.new_lines,
        skipped_lines=result.skipped_lines,
        replayed=result.replayed,
        preset=result.statement.preset,
    )


class PresetRead(BaseModel):
    key: str
    name: str
    columns: dict[str, list[str]]  # field → the header names it is read from


class PresetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    columns: dict[str, str]  # field (date, amount, inflow, outflow, …) → the file's column name


def preset_read(preset: bank.Preset) -> PresetRead:
    return PresetRead(
        key=preset.key,
        name=preset.name,
        columns={field: list(names) for field, names in preset.columns.items()},
    )
