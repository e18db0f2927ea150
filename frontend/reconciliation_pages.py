"""Bank reconciliation pages (staff and admin): import a statement with a preview kept on the
server (one upload), map an unknown layout in a form and save it as a preset, match, book a line
against an expense account chosen from a list, explain, close the month; and open a ledger account.

A visitor is sent to sign in, any other role gets the 403 page. Every form carries the CSRF token.
"""

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from api.models import User
from core.errors import DomainError, Invalid
from frontend.csrf import CsrfDep
from frontend.flash import redirect_with_notice, take_flash
from frontend.forms import refuse
from frontend.guards import StaffPageDep
from frontend.i18n import N_, translator
from frontend.rendering import page_router, render
from ledger import bank, reconciliation, service
from ledger.bank.models import StatementPreview
from ledger.models import AccountLimit, AccountType
from orders.bank_codes import payment_codes

router = page_router()

MSG_SAME_FILE = N_("This file was imported before: nothing new (%(lines)s lines).")
MSG_IMPORTED = N_(
    "Imported %(new)s line(s), %(skipped)s already stored; %(matched)s matched automatically."
)
MSG_AUTO_MATCHED = N_("%(matched)s matched automatically.")
MSG_MATCHED = N_("Matched.")
MSG_UNMATCHED = N_("The match is undone.")
MSG_BOOKED = N_("Booked and matched.")
MSG_EXPLAINED = N_("Explained.")
MSG_CLOSED = N_("%(period)s is closed.")
MSG_CHOOSE_ITEMS = N_("Choose the items this action needs.")
MSG_SET_CONFIRMED = N_("The deposit is matched to %(count)s recorded payments.")
MSG_UNKNOWN_FORMAT = N_(
    "This file's layout is not one of the known banks'. Choose which of its columns holds "
    "what, and name the layout: it is saved for the next file."
)
MSG_FILE_REFUSED = N_("The file was not imported; nothing was stored.")
MSG_NO_FILE = N_("Choose the statement file.")
MSG_ACCOUNT_OPENED = N_("Account %(key)s is open.")
MSG_ACCOUNT_REFUSED = N_("The account was not opened.")
MAPPED_FIELDS = (
    ("date", N_("Date")),
    ("amount", N_("Amount (signed)")),
    ("inflow", N_("Money in")),
    ("outflow", N_("Money out")),
    ("direction", N_("In / out (收/支)")),
    ("reference", N_("Reference")),
    ("counterparty", N_("Counterparty")),
    ("description", N_("Description")),
)


def _back(request: Request, path: str, message: str = "", error: str = "") -> RedirectResponse:
    """Back to the page, the notice carried in a signed flash (never in the address)."""
    return redirect_with_notice(request, path, notice=message, error=error)


def problem_text(error: DomainError) -> str:
    parts = [error.detail]
    for item in error.errors or []:
        parts.append(" / ".join(str(p) for p in item.get("loc", [])) + ": " + str(item["msg"]))
    return "\n".join(parts)


def _period(text: str | None) -> str:
    return text if text else date.today().strftime("%Y-%m")


def _here(account: str, period: str) -> str:
    return f"/staff/reconciliation?account={quote(account)}&period={_period(period)}"


@router.get("/staff/reconciliation", response_class=HTMLResponse)
def reconciliation_page(
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    account: Annotated[str, Query(max_length=255)] = "assets:bank",
) -> Response:
    month = _period(period)
    view = None
    flash = take_flash(request)
    error = flash.error
    try:
        view = reconciliation.reconcile(session, account_key=account, period=month)
    except DomainError as problem:
        error = error or problem_text(problem)
    matches = bank.list_matches(session, account)
    return render(
        request,
        "staff/payouts/reconciliation.html",
        {
            "view": view,
            "account": account,
            "period": month,
            "matches": [(m, items) for m, items in matches if m.active],
            "booking_accounts": bank.booking_accounts(session),
            "deposit_sets": bank.deposit_sets(
                session, account_key=account, codes=payment_codes(session)
            )
            if view is not None
            else [],
            "presets": bank.all_presets(session),
            "msg": flash.notice,
            "error": error,
        },
    )


def _preview_page(
    request: Request, session: SessionDep, keep: StatementPreview, period: str
) -> Response:
    parsed = bank.read_file(session, keep.raw, account_key=keep.account_key, mapping=keep.mapping)
    proposals = bank.proposals_for_file(
        session, account_key=keep.account_key, parsed=parsed, codes=payment_codes(session)
    )
    return render(
        request,
        "staff/payouts/preview.html",
        {
            "parsed": parsed,
            "preset_name": bank.preset_name(session, parsed.preset),
            "proposals": proposals,
            "stored": bank.already_stored(session, keep.account_key, parsed),
            "keep": keep,
            "account": keep.account_key,
            "period": _period(period),
        },
    )


def _mapping_page(
    request: Request,
    keep: StatementPreview,
    period: str,
    *,
    chosen: dict[str, str] | None = None,
    name: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    rows, _, _ = bank.read_rows(keep.raw)
    header_index, columns = bank.guess_header(rows)
    return render(
        request,
        "staff/payouts/mapping.html",
        {
            "keep": keep,
            "period": _period(period),
            "account": keep.account_key,
            "columns": [c for c in columns if c],
            "header_line": header_index + 1,
            "first_lines": bank.first_lines(rows, 8),
            "fields": MAPPED_FIELDS,
            "chosen": chosen or {},
            "name": name,
            "error": error,
            "msg": "",
        },
        status_code=status_code,
    )


async def _preview_upload(
    request: Request, session: SessionDep, user: User, file: UploadFile, account: str, period: str
) -> Response:
    """Keep the upload and show its preview; an unknown layout gets the mapping form instead."""
    raw = await file.read(bank.MAX_FILE_BYTES + 1)
    try:
        bank.bank_account(session, account)
        bank.read_rows(raw)  # a file too big, or neither text nor a workbook, is refused here
    except DomainError as error:
        return _back(request, _here(account, period), error=problem_text(error))
    keep = bank.keep_preview(
        session,
        raw=raw,
        account_key=account,
        filename=file.filename or "",
        mapping=None,
        created_by=f"user:{user.id}",
    )
    try:
        return _preview_page(request, session, keep, period)
    except bank.UnknownFormat:
        t = translator(request).gettext
        return _mapping_page(request, keep, period, error=t(MSG_UNKNOWN_FORMAT), status_code=422)
    except DomainError as error:
        problem = translator(request).gettext(MSG_FILE_REFUSED) + "\n" + problem_text(error)
        refuse(lambda: _back(request, _here(account, period), error=problem))


@router.post("/staff/reconciliation/import", response_class=HTMLResponse)
async def import_page(
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    file: UploadFile | None = None,
    account: Annotated[str, Form(max_length=255)] = "assets:bank",
    action: Annotated[str, Form()] = "preview",
    period: Annotated[str, Form()] = "",
    token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    t = translator(request).gettext
    by = f"user:{user.id}"
    if not token and (file is None or not file.filename):
        return _back(request, _here(account, period), error=t(MSG_NO_FILE))
    if action == "preview" and file is not None:
        return await _preview_upload(request, session, user, file, account, period)
    try:
        if token:
            result = bank.import_preview(session, token, created_by=by)
            account = result.statement.account_key
        else:
            assert file is not None
            raw = await file.read(bank.MAX_FILE_BYTES + 1)
            result = bank.import_statement(
                session, raw=raw, account_key=account, filename=file.filename or "", imported_by=by
            )
        made = bank.auto_match(
            session, account_key=account, created_by=by, codes=payment_codes(session)
        )
    except DomainError as error:
        problem = t(MSG_FILE_REFUSED) + "\n" + problem_text(error)
        refuse(lambda: _back(request, _here(account, period), error=problem))
    note = (
        t(MSG_SAME_FILE, lines=result.skipped_lines)
        if result.replayed
        else t(MSG_IMPORTED, new=result.new_lines, skipped=result.skipped_lines, matched=len(made))
    )
    return _back(request, _here(account, period), message=note)


@router.post("/staff/reconciliation/mapping", response_class=HTMLResponse)
def mapping_page(
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    token: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)] = "",
    period: Annotated[str, Form()] = "",
    date_column: Annotated[str, Form(alias="date")] = "",
    amount: Annotated[str, Form()] = "",
    inflow: Annotated[str, Form()] = "",
    outflow: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    counterparty: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """Save the columns chosen for an unknown layout as a named preset, then show the preview."""
    chosen = {
        "date": date_column,
        "amount": amount,
        "inflow": inflow,
        "outflow": outflow,
        "direction": direction,
        "reference": reference,
        "counterparty": counterparty,
        "description": description,
    }
    try:
        keep = bank.get_preview(session, token, created_by=f"user:{user.id}")
    except DomainError as error:
        return _back(request, _here("assets:bank", period), error=problem_text(error))
    try:
        bank.save_preset(session, name=name, mapping=chosen, created_by=f"user:{user.id}")
        return _preview_page(request, session, keep, period)
    except DomainError as error:
        problem, status = problem_text(error), error.status_code
        refuse(
            lambda: _mapping_page(
                request,
                bank.get_preview(session, token, created_by=f"user:{user.id}"),
                period,
                chosen=chosen,
                name=name,
                error=problem,
                status_code=status,
            )
        )


@router.post("/staff/reconciliation/action")
def reconciliation_action(
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    action: Annotated[str, Form()],
    account: Annotated[str, Form()] = "assets:bank",
    period: Annotated[str, Form()] = "",
    line_ids: Annotated[list[int] | None, Form()] = None,
    posting_ids: Annotated[list[int] | None, Form()] = None,
    match_id: Annotated[int | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
    counter_account: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request).gettext
    by = f"user:{user.id}"
    month = _period(period)
    lines, postings = line_ids or [], posting_ids or []
    try:
        message = _act(
            session,
            action=action,
            account=account,
            month=month,
            lines=lines,
            postings=postings,
            match_id=match_id,
            reason=reason,
            counter_account=counter_account,
            by=by,
        )
    except DomainError as error:
        problem = problem_text(error)
        refuse(lambda: _back(request, _here(account, month), error=problem))
    if message is None:
        return _back(request, _here(account, month), error=t(MSG_CHOOSE_ITEMS))
    text, values = message
    return _back(request, _here(account, month), message=t(text, **values))


def _act(
    session: SessionDep,
    *,
    action: str,
    account: str,
    month: str,
    lines: list[int],
    postings: list[int],
    match_id: int | None,
    reason: str,
    counter_account: str,
    by: str,
) -> tuple[str, dict[str, object]] | None:
    """Carry out one reconciliation action; its notice (untranslated), or None if unusable."""
    if action == "auto":
        made = bank.auto_match(
            session, account_key=account, created_by=by, codes=payment_codes(session)
        )
        return MSG_AUTO_MATCHED, {"matched": len(made)}
    if action == "match":
        bank.match_manually(
            session,
            account_key=account,
            line_ids=lines,
            posting_ids=postings,
            reason=reason,
            created_by=by,
        )
        return MSG_MATCHED, {}
    if action == "confirm_set" and len(lines) == 1 and len(postings) >= 2:
        bank.confirm_deposit_set(
            session, line_id=lines[0], posting_ids=postings, reason=reason, created_by=by
        )
        return MSG_SET_CONFIRMED, {"count": len(set(postings))}
    if action == "unmatch" and match_id is not None:
        bank.unmatch(session, match_id=match_id, reason=reason, undone_by=by)
        return MSG_UNMATCHED, {}
    if action == "book" and len(lines) == 1:
        bank.post_line_adjustment(
            session, line_id=lines[0], counter_account=counter_account, memo=reason, created_by=by
        )
        return MSG_BOOKED, {}
    if action == "explain" and len(lines) + len(postings) == 1:
        reconciliation.explain(
            session,
            account_key=account,
            period=month,
            reason=reason,
            statement_line_id=lines[0] if lines else None,
            posting_id=postings[0] if postings else None,
            created_by=by,
        )
        return MSG_EXPLAINED, {}
    if action == "close":
        reconciliation.close_reconciled_period(session, period=month, closed_by=by)
        return MSG_CLOSED, {"period": month}
    return None


# --- Opening a ledger account ----------------------------------------------------------------


def _account_form(
    request: Request, values: dict[str, str], *, error: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "staff/payouts/account_new.html",
        {
            "values": values,
            "types": [t.value for t in AccountType],
            "limits": [limit.value for limit in AccountLimit],
            "error": error,
            "msg": "",
        },
        status_code=status_code,
    )


@router.get("/staff/accounts/new", response_class=HTMLResponse)
def new_account_page(
    request: Request,
    user: StaffPageDep,
    settings: SettingsDep,
    back: Annotated[str, Query(max_length=300)] = "/staff/reconciliation",
) -> Response:
    values = {
        "key": "expenses:bank:",
        "type": "expense",
        "currency": settings.currency,
        "name": "",
        "limit": "none",
        "back": back if back.startswith("/staff/") else "/staff/reconciliation",
    }
    return _account_form(request, values)


@router.post("/staff/accounts/new", response_class=HTMLResponse)
def open_account_page(
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    key: Annotated[str, Form(max_length=300)],
    type: Annotated[str, Form(max_length=20)],
    currency: Annotated[str, Form(max_length=10)],
    name: Annotated[str, Form(max_length=300)] = "",
    limit: Annotated[str, Form(max_length=20)] = "none",
    back: Annotated[str, Form(max_length=300)] = "/staff/reconciliation",
) -> Response:
    """Open an account with the API's rules (POST /api/v1/ledger/accounts): key, type, limit."""
    t = translator(request).gettext
    values = {
        "key": key,
        "type": type,
        "currency": currency,
        "name": name,
        "limit": limit,
        "back": back if back.startswith("/staff/") else "/staff/reconciliation",
    }
    try:
        if type not in {a.value for a in AccountType} or limit not in {
            a.value for a in AccountLimit
        }:
            raise Invalid("Choose a type and a limit from the lists.")
        service.open_account(
            session,
            key=key.strip(),
            type=AccountType(type),
            currency=currency.strip().upper(),
            name=name.strip(),
            limit=AccountLimit(limit),
        )
    except DomainError as error:
        message, status = t(MSG_ACCOUNT_REFUSED) + "\n" + problem_text(error), error.status_code
        refuse(lambda: _account_form(request, values, error=message, status_code=status))
    target = values["back"]
    return redirect_with_notice(request, target, notice=t(MSG_ACCOUNT_OPENED, key=key.strip()))


def install_reconciliation_pages(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["install_reconciliation_pages", "problem_text", "router"]
