"""Payout batches over HTTP (staff and admin): create, read, export for the bank, confirm, fail."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep, StaffDep
from catalog import payee_history, payout_details
from catalog.payee_history import change_read
from catalog.schemas import PayoutChangeRead
from ledger import payouts, reports
from ledger.payout_models import PayoutBatch, PayoutLine

router = APIRouter(prefix="/api/v1/payouts", tags=["payouts"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not staff or admin"},
    404: {"description": "No such batch or line"},
}
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Money(BaseModel):
    amount: int
    currency: str


class BatchCreate(BaseModel):
    coop_id: int
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    # Omitted: HEZUO_PAYOUT_MINIMUM.
    minimum: int | None = Field(default=None, ge=1)
    effective_date: date | None = None


class LineRead(BaseModel):
    id: int
    household_id: int
    member_code: str
    name: str
    # The payee this line pays (kept when the batch was made), not the household's present one.
    payout_method: str
    payout_account: str
    amount: Money
    status: str
    bank_reference: str
    # A change of the household's payout details made since, waiting for staff to accept it.
    held_change: PayoutChangeRead | None = None


class AcceptPayee(BaseModel):
    change_id: int = Field(ge=1, le=2**31 - 1)


class BatchRead(BaseModel):
    id: int
    coop_id: int
    period: str
    status: str
    minimum: Money
    total: Money
    lines: list[LineRead]


class BatchSummary(BaseModel):
    id: int
    coop_id: int
    period: str
    status: str
    currency: str


class BatchList(BaseModel):
    items: list[BatchSummary]
    next_cursor: str | None = None


class Confirm(BaseModel):
    bank_reference: str = Field(min_length=1, max_length=100)
    paid_on: date


class Fail(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class LineStatus(BaseModel):
    id: int
    batch_id: int
    status: str
    amount: Money
    bank_reference: str | None
    paid_on: date | None
    failure_reason: str


def _batch_read(session: SessionDep, batch: PayoutBatch) -> BatchRead:
    assert batch.id is not None
    rows = payout_details.batch_rows(session, batch.id)
    held = payee_history.changes_by_id(
        session, [r.held_change_id for r in rows if r.held_change_id is not None]
    )
    return BatchRead(
        id=batch.id,
        coop_id=batch.coop_id,
        period=batch.period,
        status=batch.status,
        minimum=Money(amount=batch.minimum_amount, currency=batch.currency),
        total=Money(amount=sum(r.amount for r in rows), currency=batch.currency),
        lines=[
            LineRead(
                id=r.line_id,
                household_id=r.household_id,
                member_code=r.member_code,
                name=r.name,
                payout_method=r.payout_method,
                payout_account=r.payout_account,
                amount=Money(amount=r.amount, currency=r.currency),
                status=r.status,
                bank_reference=r.bank_reference,
                held_change=(
                    change_read(held[r.held_change_id]) if r.held_change_id is not None else None
                ),
            )
            for r in rows
        ],
    )


def _line_status(line: PayoutLine) -> LineStatus:
    assert line.id is not None
    return LineStatus(
        id=line.id,
        batch_id=line.batch_id,
        status=line.status,
        amount=Money(amount=line.amount, currency=line.currency),
        bank_reference=line.bank_reference,
        paid_on=line.paid_on,
        failure_reason=line.failure_reason,
    )


@router.post(
    "/batches",
    response_model=BatchRead,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS, 409: {"description": "The batch exists with another minimum"}},
)
def create_batch(
    body: BatchCreate,
    staff: StaffDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> BatchRead:
    """Hold every active household's payable ≥ minimum; asking again returns the same batch."""
    result = payout_details.create_coop_batch(
        session,
        coop_id=body.coop_id,
        period=body.period,
        currency=body.currency or settings.currency,
        minimum=body.minimum or settings.payout_minimum,
        effective_date=body.effective_date or date.today(),
        created_by=f"user:{staff.id}",
    )
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return _batch_read(session, result.batch)


@router.get("/batches", response_model=BatchList, responses=PROBLEMS)
def list_batches(
    _staff: StaffDep, session: SessionDep, coop_id: Annotated[int | None, Query()] = None
) -> BatchList:
    batches = payouts.list_batches(session, coop_id=coop_id)
    return BatchList(
        items=[
            BatchSummary(
                id=b.id or 0,
                coop_id=b.coop_id,
                period=b.period,
                status=b.status,
                currency=b.currency,
            )
            for b in batches
        ]
    )


@router.get("/batches/{batch_id}", response_model=BatchRead, responses=PROBLEMS)
def read_batch(batch_id: int, _staff: StaffDep, session: SessionDep) -> BatchRead:
    return _batch_read(session, payouts.get_batch(session, batch_id))


def batch_export(session: SessionDep, batch_id: int, export_format: str) -> Response:
    batch = payouts.get_batch(session, batch_id)
    rows = payout_details.batch_rows(session, batch_id)
    header = ["member_code", "name", "payout_method", "account", "amount", "currency", "line_id"]
    table = [
        [r.member_code, r.name, r.payout_method, r.payout_account, r.amount, r.currency, r.line_id]
        for r in rows
        if r.status != "failed"
    ]
    name = f"payout-batch-{batch.id}-{batch.period}.{export_format}"
    content = (
        reports.table_csv(header, table)
        if export_format == "csv"
        else reports.table_xlsx(f"batch {batch.id}", header, table)
    )
    return Response(
        content=content,
        media_type=EXPORT_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/batches/{batch_id}/export",
    responses={**PROBLEMS, 200: {"content": {t: {} for t in EXPORT_TYPES.values()}}},
)
def export_batch(
    batch_id: int,
    _staff: StaffDep,
    session: SessionDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    """The bank file: member code, name, method, account, amount (integer minor units)."""
    return batch_export(session, batch_id, format)


@router.post(
    "/batches/{batch_id}/confirm",
    response_model=list[LineStatus],
    responses={**PROBLEMS, 409: {"description": "A household left"}},
)
def confirm_batch(
    batch_id: int, body: Confirm, staff: StaffDep, session: SessionDep
) -> list[LineStatus]:
    """Every pending line paid in one transfer with one bank reference."""
    lines = payout_details.confirm_payout_batch(
        session,
        batch_id=batch_id,
        bank_reference=body.bank_reference,
        paid_on=body.paid_on,
        decided_by=f"user:{staff.id}",
    )
    return [_line_status(line) for line in lines]


@router.post(
    "/lines/{line_id}/confirm",
    response_model=LineStatus,
    responses={**PROBLEMS, 409: {"description": "Confirmed otherwise, failed, or left"}},
)
def confirm_line(line_id: int, body: Confirm, staff: StaffDep, session: SessionDep) -> LineStatus:
    line = payout_details.confirm_payout_line(
        session,
        line_id=line_id,
        bank_reference=body.bank_reference,
        paid_on=body.paid_on,
        decided_by=f"user:{staff.id}",
    )
    return _line_status(line)


@router.post(
    "/lines/{line_id}/accept-payee",
    response_model=LineRead,
    responses={
        **PROBLEMS,
        409: {"description": "No change waiting, or it changed again since"},
    },
)
def accept_payee(line_id: int, body: AcceptPayee, staff: StaffDep, session: SessionDep) -> LineRead:
    """Accept the household's changed payout details for this pending line (staff): the bank file
    pays the new details from now on. Until then it pays the details kept with the batch."""
    line = payee_history.accept_held_change(
        session, line_id=line_id, change_id=body.change_id, accepted_by=f"user:{staff.id}"
    )
    read = _batch_read(session, payouts.get_batch(session, line.batch_id))
    return next(item for item in read.lines if item.id == line_id)


@router.post(
    "/lines/{line_id}/fail",
    response_model=LineStatus,
    responses={**PROBLEMS, 409: {"description": "Already paid"}},
)
def fail_line(line_id: int, body: Fail, staff: StaffDep, session: SessionDep) -> LineStatus:
    """The transfer failed: the money goes back to the member's payable."""
    line = payout_details.fail_payout_line(
        session, line_id=line_id, reason=body.reason, decided_by=f"user:{staff.id}"
    )
    return _line_status(line)
