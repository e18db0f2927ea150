"""The ledger over HTTP (staff and admin only): accounts, entries, balances, periods, verify."""

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response, status
from sqlmodel import Session

from api.deps import AdminDep, PageDep, SessionDep, SettingsDep, StaffDep, encode_cursor
from core.errors import Invalid
from ledger import exports, periods, service
from ledger.models import PeriodAction, PeriodEvent
from ledger.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    BalanceRead,
    EntryCreate,
    EntryRead,
    EntryReverse,
    Money,
    PeriodEventRead,
    PeriodRead,
    PeriodReopen,
    PostingRead,
    StatementLineRead,
    StatementPage,
    TrialBalanceRead,
    VerifyRead,
)

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

IDEMPOTENCY_HEADER = re.compile(r"^[\x20-\x7e]{1,255}$")
# Keys from this API live in their own namespace, apart from the keys other domains derive.
API_KEY_PREFIX = "api:"

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not staff or admin"},
}


def _account_read(account: service.Account, balance: int) -> AccountRead:
    return AccountRead(
        key=account.key,
        type=service.AccountType(account.type),
        currency=account.currency,
        name=account.name,
        limit=service.AccountLimit(account.limit),
        balance=Money(amount=balance, currency=account.currency),
    )


def _entry_read(session: Session, entry_id: int) -> EntryRead:
    view = service.get_entry(session, entry_id)
    assert view.entry.id is not None
    return EntryRead(
        id=view.entry.id,
        kind=view.entry.kind,
        effective_date=view.entry.effective_date,
        memo=view.entry.memo,
        reference=view.entry.reference,
        postings=[
            PostingRead(account=p.account, side=p.side, amount=p.amount, currency=p.currency)
            for p in view.postings
        ],
        reversed_by=view.reversed_by,
        reverses=view.entry.reverses_id,
        created_at=view.entry.created_at,
    )


@router.post(
    "/accounts",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        **PROBLEMS,
        200: {"description": "The account already existed, exactly so", "model": AccountRead},
        409: {"description": "Key exists with another type, currency, limit or party"},
    },
)
def open_account(
    body: AccountCreate, _staff: StaffDep, session: SessionDep, response: Response
) -> AccountRead:
    if service.find_account(session, body.key) is not None:
        response.status_code = status.HTTP_200_OK  # a repeated open is a replay, like entries
    account = service.open_account(
        session,
        key=body.key,
        type=body.type,
        currency=body.currency,
        name=body.name,
        limit=body.limit,
        party=body.party,
    )
    assert account.id is not None
    return _account_read(account, service.balances_of(session, [account])[account.id])


@router.get("/accounts", response_model=AccountPage, responses=PROBLEMS)
def list_accounts(
    _staff: StaffDep,
    session: SessionDep,
    page: PageDep,
    prefix: Annotated[str | None, Query(max_length=255)] = None,
) -> AccountPage:
    accounts = service.list_accounts(
        session, prefix=prefix, after_key=page.after(), limit=page.limit + 1
    )
    shown = accounts[: page.limit]
    balances = service.balances_of(session, shown)
    items = [_account_read(a, balances.get(a.id or 0, 0)) for a in shown]
    next_cursor = encode_cursor(shown[-1].key) if len(accounts) > page.limit else None
    return AccountPage(items=items, next_cursor=next_cursor)


@router.post(
    "/entries",
    response_model=EntryRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        **PROBLEMS,
        200: {"description": "A replay: the entry first posted with this Idempotency-Key"},
        409: {"description": "Key reused with other content, limit breached, period closed"},
        422: {"description": "Unbalanced, unknown account, wrong currency, bad amount"},
    },
)
def post_entry(
    body: EntryCreate,
    staff: StaffDep,
    session: SessionDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> EntryRead:
    if idempotency_key is None or not IDEMPOTENCY_HEADER.match(idempotency_key):
        raise Invalid(
            "Send an Idempotency-Key header of 1–255 printable characters, so a retry of this "
            "request can never post the entry twice.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "1–255 printable characters"}],
        )
    spec = service.EntrySpec(
        kind=body.kind,
        effective_date=body.effective_date,
        memo=body.memo,
        reference=body.reference,
        metadata=body.metadata,
        postings=tuple(
            service.PostingSpec(
                account=p.account, side=p.side, amount=p.amount, currency=p.currency
            )
            for p in body.postings
        ),
        idempotency_key=API_KEY_PREFIX + idempotency_key,
        created_by=f"user:{staff.id}",
    )
    result = service.post(session, spec)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return _entry_read(session, result.entry_id)


@router.get("/entries/{entry_id}", response_model=EntryRead, responses=PROBLEMS)
def get_entry(entry_id: int, _staff: StaffDep, session: SessionDep) -> EntryRead:
    return _entry_read(session, entry_id)


@router.post(
    "/entries/{entry_id}/reverse",
    response_model=EntryRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        **PROBLEMS,
        404: {"description": "No such entry"},
        409: {
            "description": "Already reversed, or the entry belongs to an order, payout or "
            "enrolment (correct it through that flow, e.g. the order's refund)"
        },
    },
)
def reverse_entry(
    entry_id: int,
    staff: StaffDep,
    session: SessionDep,
    body: EntryReverse | None = None,
) -> EntryRead:
    reversal = service.reverse_by_hand(
        session, entry_id, created_by=f"user:{staff.id}", memo=body.memo if body else ""
    )
    assert reversal.id is not None
    return _entry_read(session, reversal.id)


@router.get("/accounts/{key}/balance", response_model=BalanceRead, responses=PROBLEMS)
def account_balance(
    key: str, _staff: StaffDep, session: SessionDep, as_of: date | None = None
) -> BalanceRead:
    found = service.balance(session, key, as_of=as_of)
    return BalanceRead(
        account=found.account,
        balance=Money(amount=found.amount, currency=found.currency),
        debits=found.debits,
        credits=found.credits,
        as_of=found.as_of,
    )


@router.get("/accounts/{key}/statement", response_model=StatementPage, responses=PROBLEMS)
def account_statement(
    key: str, _staff: StaffDep, session: SessionDep, page: PageDep
) -> StatementPage:
    found = service.statement(session, key, after=page.after(), limit=page.limit)
    return StatementPage(
        items=[
            StatementLineRead(
                entry_id=line.entry_id,
                effective_date=line.effective_date,
                side=line.side,
                amount=line.amount,
                running_balance=line.running_balance,
                memo=line.memo,
            )
            for line in found.lines
        ],
        next_cursor=encode_cursor(found.next_cursor) if found.next_cursor else None,
    )


@router.get("/trial-balance", response_model=TrialBalanceRead, responses=PROBLEMS)
def trial_balance(
    _staff: StaffDep, session: SessionDep, as_of: date | None = None
) -> TrialBalanceRead:
    return TrialBalanceRead.model_validate(
        service.trial_balance(session, as_of=as_of), from_attributes=True
    )


PERIOD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    422: {"description": "Not a plausible month (YYYY-MM, 2000–2100), or it has not ended"},
}


def _event_read(event: PeriodEvent) -> PeriodEventRead:
    assert event.id is not None
    return PeriodEventRead(
        id=event.id,
        period=event.period,
        action=PeriodAction(event.action).value,
        at=event.at,
        by=event.by,
        reason=event.reason,
    )


@router.post("/periods/{period}/close", response_model=PeriodRead, responses=PERIOD_PROBLEMS)
def close_period(
    period: Annotated[str, Path(max_length=7)],
    staff: StaffDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PeriodRead:
    """Close a month that has ended: entries dated in it or before are refused from then on."""
    closed = service.close_period(
        session, period, closed_by=f"user:{staff.id}", today=settings.local_today()
    )
    return PeriodRead(
        period=closed.period, closed_at=closed.at, closed_by=closed.by, reason=closed.reason
    )


@router.post(
    "/periods/{period}/reopen",
    response_model=PeriodEventRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        401: {"description": "Not signed in"},
        403: {"description": "Not an administrator"},
        409: {"description": "The month is not closed, or a later month is closed"},
        422: {"description": "Not a month, or no reason given"},
    },
)
def reopen_period(
    period: Annotated[str, Path(max_length=7)],
    body: PeriodReopen,
    admin: AdminDep,
    session: SessionDep,
) -> PeriodEventRead:
    """Reopen a closed month (administrators only); the reason is kept with who and when."""
    event = service.reopen_period(
        session, period, reopened_by=f"user:{admin.id}", reason=body.reason
    )
    return _event_read(event)


@router.get("/periods", response_model=list[PeriodEventRead], responses=PROBLEMS)
def period_history(_staff: StaffDep, session: SessionDep) -> list[PeriodEventRead]:
    """Every close and reopening, newest first."""
    return [_event_read(e) for e in periods.period_history(session)]


@router.get("/verify", response_model=VerifyRead, responses=PROBLEMS)
def verify(_staff: StaffDep, session: SessionDep) -> VerifyRead:
    return VerifyRead.model_validate(service.verify(session))


EXPORT_MEDIA_TYPES = {
    "beancount": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/export",
    response_class=Response,
    responses={
        **PROBLEMS,
        200: {
            "description": "The journal as a file",
            "content": {media: {} for media in EXPORT_MEDIA_TYPES.values()},
        },
    },
)
def export(
    _staff: StaffDep,
    session: SessionDep,
    export_format: Annotated[Literal["beancount", "csv", "xlsx"], Query(alias="format")],
    as_of: date | None = None,
) -> Response:
    """The journal (up to `as_of`, inclusive) as Beancount text, CSV or an XLSX workbook."""
    content: str | bytes
    if export_format == "beancount":
        content = exports.to_beancount(session, as_of=as_of)
    elif export_format == "csv":
        content = exports.to_csv(session, as_of=as_of)
    else:
        content = exports.to_xlsx(session, as_of=as_of)
    suffix = f"-{as_of.isoformat()}" if as_of else ""
    return Response(
        content,
        media_type=EXPORT_MEDIA_TYPES[export_format],
        headers={
            "Content-Disposition": f'attachment; filename="hezuo-ledger{suffix}.{export_format}"'
        },
    )
