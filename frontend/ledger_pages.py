"""Staff ledger pages: trial balance, accounts and statements, entries with reversal, seal status,
closing months (staff) and reopening them with a reason (administrators).

Staff and administrators only: a visitor who is not signed in is sent to the sign-in page (and
back), any other role gets the 403 page. Every page works without JavaScript; the two forms that
change something (reverse an entry, seal now) carry the CSRF token, and reversing needs a ticked
confirmation box, checked again on the server.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, NoReturn
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import exists, func, select
from sqlmodel import Session, col

from api.deps import SessionDep, SettingsDep
from api.models import Role
from api.settings import Settings
from core.errors import Conflict, DomainError, Forbidden
from frontend.csrf import CsrfDep
from frontend.flash import redirect_with_notice, take_flash
from frontend.forms import refuse
from frontend.guards import StaffPageDep
from frontend.i18n import N_, translator
from frontend.problems import problem_message
from frontend.rendering import page_router, render
from ledger import periods, service
from ledger.errors import AlreadyReversed
from ledger.models import JournalEntry, SealBlock, SealedEntry

PREFIX = "/staff/ledger"
router = page_router(prefix=PREFIX)

ACCOUNTS_PER_PAGE = 100
STATEMENT_LINES_PER_PAGE = 50
RECENT_BLOCKS = 10

TYPE_NAMES = {
    "asset": N_("Asset"),
    "liability": N_("Liability"),
    "equity": N_("Equity"),
    "income": N_("Income"),
    "expense": N_("Expense"),
}
KIND_NAMES = {
    "adjustment": N_("Adjustment"),
    "fee": N_("Fee"),
    "payment": N_("Payment"),
    "payout": N_("Payout"),
    "refund": N_("Refund"),
    "reversal": N_("Reversal"),
    "sale": N_("Sale"),
    "settlement": N_("Settlement"),
    "training": N_("Training"),
}
MSG_BAD_DATE = N_("Enter the date as YYYY-MM-DD, for example 2026-11-30.")
MSG_CONFIRM = N_("Tick the box to confirm the reversal.")
MSG_ALREADY_REVERSED = N_("This entry has already been reversed; nothing was posted.")
MSG_PERIOD_CLOSED = N_("%(period)s is closed.")
MSG_PERIOD_REOPENED = N_("%(period)s is reopened.")


def _parse_day(text: str) -> tuple[date | None, str | None]:
    """'' → no date; 'YYYY-MM-DD' → that day; anything else → an error message to show."""
    text = text.strip()
    if not text:
        return None, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, MSG_BAD_DATE


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    names = {"type_names": TYPE_NAMES, "kind_names": KIND_NAMES}
    return render(
        request, f"staff/ledger/{template}", {**names, **context}, status_code=status_code
    )


def _query(**params: str | None) -> str:
    kept = {name: value for name, value in params.items() if value}
    return f"?{urlencode(kept)}" if kept else ""


# Trial balance


@dataclass(frozen=True)
class CurrencySection:
    total: service.CurrencyTotal
    accounts: list[service.TrialBalanceLine]
    hidden: int  # accounts of this currency with no postings (up to the date)


def _sections(found: service.TrialBalance) -> list[CurrencySection]:
    sections = []
    for total in found.totals:
        lines = [a for a in found.accounts if a.currency == total.currency]
        active = [a for a in lines if a.debits or a.credits]
        sections.append(CurrencySection(total, active, len(lines) - len(active)))
    return sections


@router.get("", response_class=HTMLResponse)
def trial_balance_page(
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    day, error = _parse_day(as_of)
    sections = [] if error else _sections(service.trial_balance(session, as_of=day))
    return _page(
        request,
        "trial_balance.html",
        {"as_of": as_of.strip(), "day": day, "error": error, "sections": sections},
        status_code=422 if error else 200,
    )


# Accounts and statements


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    prefix: Annotated[str, Query(max_length=255)] = "",
    after: Annotated[str | None, Query(max_length=255)] = None,
) -> Response:
    prefix = prefix.strip()
    found = service.list_accounts(
        session, prefix=prefix or None, after_key=after, limit=ACCOUNTS_PER_PAGE + 1
    )
    shown = found[:ACCOUNTS_PER_PAGE]
    balances = service.balances_of(session, shown)
    rows = [(account, balances.get(account.id or 0, 0)) for account in shown]
    next_link = (
        _query(prefix=prefix, after=shown[-1].key) if len(found) > ACCOUNTS_PER_PAGE else None
    )
    return _page(
        request,
        "accounts.html",
        {"prefix": prefix, "rows": rows, "next_link": next_link, "paged": after is not None},
    )


@router.get("/accounts/{key}", response_class=HTMLResponse)
def statement_page(
    key: str,
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    after: Annotated[str | None, Query(max_length=100)] = None,
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    account = service.get_account(session, key)
    day, error = _parse_day(as_of)
    found = service.statement(session, key, after=after, limit=STATEMENT_LINES_PER_PAGE)
    lines = found.lines
    next_cursor = found.next_cursor
    if day is not None:
        # Lines come in date order: the first one after the date ends the statement.
        lines = [line for line in lines if line.effective_date <= day]
        if len(lines) < len(found.lines):
            next_cursor = None
    return _page(
        request,
        "statement.html",
        {
            "account": account,
            "balance": service.balance(session, key, as_of=day),
            "lines": lines,
            "as_of": as_of.strip(),
            "day": day,
            "error": error,
            "next_link": _query(after=next_cursor, as_of=as_of.strip()) if next_cursor else None,
            "first_link": _query(as_of=as_of.strip()) if after else None,
        },
        status_code=422 if error else 200,
    )


# Entries and reversal


def _sealed_in(session: Session, entry_id: int) -> int | None:
    return session.scalars(
        select(col(SealedEntry.block_id)).where(col(SealedEntry.entry_id) == entry_id)
    ).first()


def _entry_page(
    request: Request,
    session: Session,
    entry_id: int,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = service.get_entry(session, entry_id)
    return _page(
        request,
        "entry.html",
        {
            "view": view,
            "entry": view.entry,
            "metadata": json.dumps(view.entry.meta, ensure_ascii=False, indent=2, sort_keys=True),
            "sealed_in": _sealed_in(session, entry_id),
            "problem": problem,
        },
        status_code=status_code,
    )


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
def entry_page(
    entry_id: int, request: Request, user: StaffPageDep, session: SessionDep
) -> Response:
    return _entry_page(request, session, entry_id)


@router.post("/entries/{entry_id}/reverse", response_class=HTMLResponse)
def reverse_entry(
    entry_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
    memo: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if confirm != "yes":
        return _entry_page(request, session, entry_id, problem=MSG_CONFIRM, status_code=422)
    created_by = f"user:{user.id}"
    try:
        reversal = service.reverse_by_hand(
            session, entry_id, created_by=created_by, memo=memo.strip()
        )
    except AlreadyReversed:
        refuse(
            lambda: _entry_page(
                request, session, entry_id, problem=MSG_ALREADY_REVERSED, status_code=409
            )
        )
    except Conflict as refused_reversal:
        # Already reversed, a limit, a closed period: nothing was posted; say why on the page.
        problem = problem_message(request, refused_reversal)
        refuse(lambda: _entry_page(request, session, entry_id, problem=problem, status_code=409))
    return RedirectResponse(f"{PREFIX}/entries/{reversal.id}", status_code=303)


# Seals


@dataclass(frozen=True)
class SealStatus:
    blocks: int
    unsealed: int
    recent: list[SealBlock]

    @property
    def last_sealed_entry(self) -> int | None:
        return self.recent[0].last_entry_id if self.recent else None


def seal_status(session: Session) -> SealStatus:
    """How far the chain reaches: block count, the latest blocks, entries not yet sealed."""
    sealed = exists().where(col(SealedEntry.entry_id) == col(JournalEntry.id))
    return SealStatus(
        blocks=int(session.scalar(select(func.count()).select_from(SealBlock)) or 0),
        unsealed=int(
            session.scalar(select(func.count()).select_from(JournalEntry).where(~sealed)) or 0
        ),
        recent=list(
            session.scalars(
                select(SealBlock).order_by(col(SealBlock.id).desc()).limit(RECENT_BLOCKS)
            )
        ),
    )


@router.get("/seals", response_class=HTMLResponse)
def seals_page(
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    verify: bool = False,
    sealed: int | None = None,
) -> Response:
    return _page(
        request,
        "seals.html",
        {
            "status": seal_status(session),
            "verified": service.verify(session) if verify else None,
            "sealed": sealed,
        },
    )


@router.post("/seals", response_class=HTMLResponse)
def seal_now(request: Request, _csrf: CsrfDep, user: StaffPageDep, session: SessionDep) -> Response:
    block = service.seal_pending(session)
    sealed = block.id if block is not None else 0
    return RedirectResponse(f"{PREFIX}/seals?sealed={sealed}", status_code=303)


# Periods: close a month that has ended (staff), reopen a closed one with a reason (admin)


def _local_time(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def _periods_page(
    request: Request,
    session: Session,
    settings: Settings,
    *,
    typed: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    flash = take_flash(request)
    history = periods.period_history(session)
    return _page(
        request,
        "periods.html",
        {
            "states": periods.period_states(session),
            "history": [(event, _local_time(settings, event.at)) for event in history],
            "last_month": _last_month(settings.local_today()),
            "typed": typed or {},
            "problem": problem,
            "notice": flash.notice,
            "error": flash.error,
        },
        status_code=status_code,
    )


def _refuse_periods(
    request: Request,
    session: Session,
    settings: Settings,
    typed: dict[str, str],
    error: DomainError,
) -> NoReturn:
    """The periods page again with what was typed and why; nothing was closed or reopened."""
    problem, status = problem_message(request, error), error.status_code
    refuse(
        lambda: _periods_page(
            request, session, settings, typed=typed, problem=problem, status_code=status
        )
    )


def _last_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@router.get("/periods", response_class=HTMLResponse)
def periods_page(
    request: Request, user: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return _periods_page(request, session, settings)


@router.post("/periods/close", response_class=HTMLResponse)
def close_period_form(
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    period = period.strip()
    try:
        periods.close_period(
            session, period, closed_by=f"user:{user.id}", today=settings.local_today()
        )
    except DomainError as error:
        _refuse_periods(request, session, settings, {"close_period": period}, error)
    notice = translator(request).gettext(MSG_PERIOD_CLOSED, period=period)
    return redirect_with_notice(request, f"{PREFIX}/periods", notice=notice)


@router.post("/periods/reopen", response_class=HTMLResponse)
def reopen_period_form(
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if user.role != Role.admin:
        raise Forbidden("Only an administrator can reopen a closed month.")
    period = period.strip()
    try:
        periods.reopen_period(session, period, reopened_by=f"user:{user.id}", reason=reason)
    except DomainError as error:
        _refuse_periods(
            request, session, settings, {"reopen_period": period, "reason": reason}, error
        )
    notice = translator(request).gettext(MSG_PERIOD_REOPENED, period=period)
    return redirect_with_notice(request, f"{PREFIX}/periods", notice=notice)


def install_ledger_pages(app: FastAPI) -> None:
    app.include_router(router)
