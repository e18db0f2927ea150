"""Reconciliation over HTTP (staff and admin): bank statement import, matching, explanations, the
per-account view, period close, and the Stripe sync button."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from api.deps import SessionDep, SettingsDep, StaffDep
from api.reconciliation_schemas import (
    Adjustment,
    AutoMatch,
    CloseRequest,
    ExplanationCreate,
    ImportRead,
    LineRead,
    MatchCreate,
    MatchRead,
    PresetCreate,
    PresetRead,
    PreviewRead,
    ProposalRead,
    Reason,
    ReconciliationRead,
    SkippedRead,
    SyncRead,
    import_read,
    match_read,
    preset_read,
    view_read,
)
from core.errors import Invalid
from ledger import bank, reconciliation
from ledger.bank.models import StatementPreview
from orders import stripe_sync
from orders.bank_codes import payment_codes
from orders.stripe_gateway import StripeGateway

router = APIRouter(prefix="/api/v1/reconciliation", tags=["reconciliation"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not staff or admin"},
}


def _preview_read(
    session: SessionDep, parsed: bank.ParsedFile, account: str, keep: StatementPreview
) -> PreviewRead:
    proposals = bank.proposals_for_file(
        session, account_key=account, parsed=parsed, codes=payment_codes(session)
    )
    return PreviewRead(
        encoding=parsed.encoding,
        lines=[
            LineRead(
                id=0,
                line_no=line.line_no,
                booked_on=line.booked_on,
                amount=line.amount,
                currency=line.currency,
                reference=line.reference,
                counterparty=line.counterparty,
                description=line.description,
                state="preview",
            )
            for line in parsed.lines
        ],
        preset=parsed.preset,
        preset_name=bank.preset_name(session, parsed.preset),
        file_format=parsed.file_format,
        header_line=parsed.header_line,
        skipped=[SkippedRead(**row.__dict__) for row in parsed.skipped],
        proposals=[
            ProposalRead(
                rule=p.rule,
                line_nos=list(p.line_keys),
                posting_ids=list(p.posting_ids),
                confirm=p.confirm,
            )
            for p in {id(p): p for p in proposals.values()}.values()
        ],
        already_stored=sorted(bank.already_stored(session, account, parsed)),
        token=keep.token,
        expires_at=keep.expires_at,
    )


@router.post(
    "/statements",
    response_model=ImportRead | PreviewRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        **PROBLEMS,
        404: {"description": "No such account, or the preview token expired"},
        422: {
            "description": "Bad file (every bad line and column named), unknown format, or "
            "not an asset account"
        },
    },
)
async def import_statement(
    staff: StaffDep,
    session: SessionDep,
    response: Response,
    file: Annotated[UploadFile | None, File()] = None,
    account: Annotated[str, Form()] = "assets:bank",
    mapping: Annotated[str | None, Form()] = None,
    preview: Annotated[bool, Form()] = False,
    preview_token: Annotated[str | None, Form(max_length=64)] = None,
) -> ImportRead | PreviewRead:
    """Import a bank or wallet export (ledger/bank/); the same file twice is stored once.

    `preview=true` parses it, keeps the upload and answers its lines, skipped rows, preset and
    proposed matches with a `token`; sending `preview_token` instead of a file imports that upload.
    """
    by = f"user:{staff.id}"
    if preview_token:
        result = bank.import_preview(session, preview_token, created_by=by)
        if result.replayed:
            response.status_code = status.HTTP_200_OK
        return import_read(result, result.statement.account_key)
    if file is None:
        raise Invalid(
            "Send the statement file, or the token of its preview.",
            errors=[{"loc": ["body", "file"], "msg": "file or preview_token"}],
        )
    raw = await file.read(bank.MAX_FILE_BYTES + 1)
    columns = bank.parse_mapping(mapping)
    if preview:
        parsed = bank.read_file(session, raw, account_key=account, mapping=columns)
        keep = bank.keep_preview(
            session,
            raw=raw,
            account_key=account,
            filename=file.filename or "",
            mapping=columns,
            created_by=by,
        )
        response.status_code = status.HTTP_200_OK
        return _preview_read(session, parsed, account, keep)
    result = bank.import_statement(
        session,
        raw=raw,
        account_key=account,
        filename=file.filename or "",
        mapping=columns,
        imported_by=by,
    )
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return import_read(result, account)


@router.get("/presets", response_model=list[PresetRead], responses=PROBLEMS)
def list_presets(_staff: StaffDep, session: SessionDep) -> list[PresetRead]:
    """The statement layouts recognised from a file's header: staff's saved ones, then built-in."""
    return [preset_read(p) for p in bank.all_presets(session)]


@router.post(
    "/presets",
    response_model=PresetRead,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS, 409: {"description": "Name taken"}, 422: {"description": "Unusable"}},
)
def create_preset(body: PresetCreate, staff: StaffDep, session: SessionDep) -> PresetRead:
    """Save a layout (field → column name) for a bank whose export is not built in."""
    row = bank.save_preset(
        session, name=body.name, mapping=body.columns, created_by=f"user:{staff.id}"
    )
    return preset_read(
        bank.Preset(f"saved:{row.id}", row.name, {f: (c,) for f, c in row.mapping.items()})
    )


@router.get("/lines", response_model=list[LineRead], responses=PROBLEMS)
def list_lines(
    _staff: StaffDep,
    session: SessionDep,
    account: Annotated[str, Query()] = "assets:bank",
) -> list[LineRead]:
    return [
        LineRead(
            id=line.id or 0,
            line_no=line.line_no,
            booked_on=line.booked_on,
            amount=line.amount,
            currency=line.currency,
            reference=line.reference,
            counterparty=line.counterparty,
            description=line.description,
            state=line.state,
        )
        for line in bank.statement_lines(session, account)
    ]


@router.post("/auto-match", response_model=list[MatchRead], responses=PROBLEMS)
def auto_match(body: AutoMatch, staff: StaffDep, session: SessionDep) -> list[MatchRead]:
    made = bank.auto_match(
        session,
        account_key=body.account,
        drift_days=body.drift_days,
        created_by=f"user:{staff.id}",
        codes=payment_codes(session),
    )
    return [match_read(m, items) for m, items in bank.match_items(session, made)]


@router.get("/matches", response_model=list[MatchRead], responses=PROBLEMS)
def list_matches(
    _staff: StaffDep, session: SessionDep, account: Annotated[str, Query()] = "assets:bank"
) -> list[MatchRead]:
    return [match_read(m, items) for m, items in bank.list_matches(session, account)]


@router.post(
    "/matches",
    response_model=MatchRead,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS, 409: {"description": "Already matched, or the sums differ"}},
)
def create_match(body: MatchCreate, staff: StaffDep, session: SessionDep) -> MatchRead:
    match = bank.match_manually(
        session,
        account_key=body.account,
        line_ids=body.line_ids,
        posting_ids=body.posting_ids,
        reason=body.reason,
        created_by=f"user:{staff.id}",
    )
    ((_, items),) = bank.match_items(session, [match])
    return match_read(match, items)


@router.post(
    "/matches/{match_id}/unmatch",
    response_model=MatchRead,
    responses={**PROBLEMS, 404: {"description": "No such match"}, 409: {"description": "Undone"}},
)
def unmatch(match_id: int, body: Reason, staff: StaffDep, session: SessionDep) -> MatchRead:
    match = bank.unmatch(
        session, match_id=match_id, reason=body.reason, undone_by=f"user:{staff.id}"
    )
    ((_, items),) = bank.match_items(session, [match])
    return match_read(match, items)


@router.post(
    "/lines/{line_id}/adjustment",
    response_model=MatchRead,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS, 404: {"description": "No such line"}, 409: {"description": "Matched"}},
)
def book_line(line_id: int, body: Adjustment, staff: StaffDep, session: SessionDep) -> MatchRead:
    """Book an unexpected bank line (a fee, interest) against an account, and match it."""
    match = bank.post_line_adjustment(
        session,
        line_id=line_id,
        counter_account=body.counter_account,
        memo=body.memo,
        created_by=f"user:{staff.id}",
    )
    ((_, items),) = bank.match_items(session, [match])
    return match_read(match, items)


@router.post(
    "/explanations",
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS, 404: {"description": "Not an open item"}},
)
def explain(body: ExplanationCreate, staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    explanation = reconciliation.explain(
        session,
        account_key=body.account,
        period=body.period,
        reason=body.reason,
        statement_line_id=body.statement_line_id,
        posting_id=body.posting_id,
        created_by=f"user:{staff.id}",
    )
    return {
        "id": explanation.id,
        "account": explanation.account_key,
        "period": explanation.period,
        "statement_line_id": explanation.statement_line_id,
        "posting_id": explanation.posting_id,
        "reason": explanation.reason,
    }


@router.get("", response_model=ReconciliationRead, responses=PROBLEMS)
def read_reconciliation(
    _staff: StaffDep,
    session: SessionDep,
    period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    account: Annotated[str, Query()] = "assets:bank",
) -> ReconciliationRead:
    """Ledger balance, statement balance, matched, open items on each side, the difference."""
    return view_read(reconciliation.reconcile(session, account_key=account, period=period))


@router.post(
    "/periods/{period}/close",
    response_model=list[ReconciliationRead],
    responses={
        **PROBLEMS,
        409: {"description": "Unexplained differences (listed)"},
        422: {"description": "Not a plausible month, or it has not ended"},
    },
)
def close_period(
    period: str,
    staff: StaffDep,
    session: SessionDep,
    settings: SettingsDep,
    body: CloseRequest | None = None,
) -> list[ReconciliationRead]:
    views = reconciliation.close_reconciled_period(
        session,
        period=period,
        accounts=body.accounts if body else None,
        closed_by=f"user:{staff.id}",
        today=settings.local_today(),
    )
    return [view_read(v) for v in views]


@router.post(
    "/stripe/sync",
    response_model=SyncRead,
    responses={**PROBLEMS, 409: {"description": "Stripe is not configured"}},
)
def sync_stripe(staff: StaffDep, session: SessionDep, settings: SettingsDep) -> SyncRead:
    """Fetch Stripe balance transactions since the last sync; post fees and payouts; match."""
    if not settings.stripe_secret_key:
        raise stripe_sync.StripeNotConfigured("Stripe is not configured (HEZUO_STRIPE_SECRET_KEY).")
    gateway = StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
    result = stripe_sync.sync(session, gateway=gateway, created_by=f"user:{staff.id}")
    return SyncRead(**result.__dict__)
