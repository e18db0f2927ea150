"""Members' account pages (no JavaScript): a manager creates a member's account by phone and
prints a one-time sign-in card with a QR code; the member scans it and sets a password; anyone
resets a forgotten password with a code sent by SMS. Rules in api/accounts.py.
"""

from typing import Annotated

import segno
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api import accounts
from api.deps import SESSION_COOKIE, SessionDep, SettingsDep, actor_of, client_address
from api.errors import WeakPassword
from api.models import User
from api.phone_login import PhoneTaken
from api.policies import reset_policy
from api.service import end_web_session, start_web_session
from api.settings import Settings
from catalog.models import Household
from core.errors import Conflict, Forbidden, Invalid, NotFound
from frontend.csrf import CsrfDep, rotate_csrf_token, set_csrf_cookie
from frontend.forms import refuse
from frontend.guards import SignedInDep
from frontend.i18n import N_, request_locale
from frontend.rendering import WebUserDep, page_router, render

router = page_router()
PASSWORD_MIN = N_("A password needs at least 10 characters and must not be a common one.")
PASSWORDS_DIFFER = N_("The two passwords are not the same.")
NOT_A_MOBILE = N_("This is not a mainland mobile number (11 digits starting 13-19).")
PHONE_TAKEN = N_("This number already belongs to another account.")
CARD_REFUSED = N_(
    "This sign-in card was already used or is out of date. Ask your cooperative for a new one."
)
CODE_REFUSED = N_("The number and code do not match a code sent in the last minutes.")
TOO_MANY = N_("Too many tries. Please wait a while, then try again.")
RESET_SENT = N_("If this number belongs to an account, a code is on its way by SMS.")
NOT_ALLOWED = N_("Only this cooperative's manager or staff print sign-in cards.")


def _sign_in(
    request: Request, session: Session, settings: Settings, user: User, target: str
) -> Response:
    """Start a browser session for `user` (ending any old one) and go to `target`."""
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        end_web_session(session, old_token)
    token = start_web_session(session, user, days=settings.web_session_days)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.web_session_days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    rotate_csrf_token(request)
    set_csrf_cookie(request, response, secure=settings.cookie_secure)
    return response


# --- the manager prints a card ---------------------------------------------------------------


def _card_form(
    request: Request,
    session: Session,
    user: User,
    household_id: int,
    *,
    phone: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(f"No household {household_id}.")
    actor = actor_of(user)
    if not (actor.is_staff or (actor.role == "manager" and actor.coop_id == household.coop_id)):
        raise Forbidden(NOT_ALLOWED)
    member = accounts.member_of(session, household_id)
    context = {
        "household": household,
        "member_phone": accounts.phone_of(session, member.id) if member and member.id else None,
        "has_member": member is not None,
        "phone": phone,
        "error": error,
    }
    return render(request, "account/card_form.html", context, status_code=status_code)


@router.get("/manage/households/{household_id}/sign-in-card", response_class=HTMLResponse)
def card_form(
    household_id: int, request: Request, user: SignedInDep, session: SessionDep
) -> Response:
    return _card_form(request, session, user, household_id)


@router.post("/manage/households/{household_id}/sign-in-card", response_class=HTMLResponse)
def print_card(
    household_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    settings: SettingsDep,
    phone: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    actor = actor_of(user)
    try:
        member = accounts.member_of(session, household_id)
        if member is None:
            accounts.create_member_account(
                session, actor=actor, household_id=household_id, phone_text=phone
            )
        elif phone.strip():  # an older account without a number: record it for signing in
            accounts.add_member_phone(
                session, actor=actor, household_id=household_id, phone_text=phone
            )
        card, token = accounts.issue_card(
            session, actor=actor, household_id=household_id, minutes=settings.sign_in_card_minutes
        )
    except (Invalid, Conflict) as refused:
        message = PHONE_TAKEN if isinstance(refused, (PhoneTaken, Conflict)) else NOT_A_MOBILE
        refuse(
            lambda: _card_form(
                request, session, user, household_id, phone=phone, error=message, status_code=422
            )
        )
    url = accounts.card_url(settings.public_url, token)
    qr = segno.make(url, error="m", micro=False).svg_inline(scale=1, omitsize=True, title="QR")
    household = session.get(Household, household_id)
    context = {"household": household, "url": url, "qr": qr, "expires_at": card.expires_at}
    return render(request, "account/card.html", context)


# --- the member scans the card ----------------------------------------------------------------


def _card_page(
    request: Request, token: str, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "account/set_password.html",
        {"action": f"/card/{token}", "error": error, "fields": {}},
        status_code=status_code,
    )


def _card_refused(request: Request) -> HTMLResponse:
    return render(request, "account/refused.html", {"message": CARD_REFUSED}, status_code=410)


@router.get("/card/{token}", response_class=HTMLResponse)
def open_card(token: str, request: Request, _user: WebUserDep, session: SessionDep) -> Response:
    """Checks the card only: a link preview or a second look does not spend it."""
    try:
        accounts.card_holder(session, token[:100])
    except accounts.CardRefused:
        return _card_refused(request)
    return _card_page(request, token)


@router.post("/card/{token}", response_class=HTMLResponse)
def spend_card(
    token: str,
    request: Request,
    _csrf: CsrfDep,
    _user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if password != password_again:
        return _card_page(request, token, error=PASSWORDS_DIFFER, status_code=422)
    try:
        member = accounts.redeem_card(session, token=token[:100], password=password)
    except accounts.CardRefused:
        refuse(lambda: _card_refused(request))
    except WeakPassword:
        refuse(lambda: _card_page(request, token, error=PASSWORD_MIN, status_code=422))
    return _sign_in(request, session, settings, member, "/plan")


# --- password reset by SMS ---------------------------------------------------------------------


def _end_read(session: Session) -> None:
    """End what this request read so far (the signed-in user, if any): on SQLite its transaction
    holds the write lock, and the reset limits are claimed in a transaction of their own."""
    session.commit()


def _reset_page(
    request: Request,
    template: str,
    *,
    fields: dict[str, str],
    error: str | None = None,
    note: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"fields": fields, "error": error, "note": note}
    return render(request, template, context, status_code=status_code)


@router.get("/password-reset", response_class=HTMLResponse)
def reset_form(request: Request, _user: WebUserDep) -> Response:
    return _reset_page(request, "account/reset_request.html", fields={"phone": ""})


@router.post("/password-reset", response_class=HTMLResponse)
def send_reset_code(
    request: Request,
    _csrf: CsrfDep,
    _user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    phone: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    fields = {"phone": phone}
    _end_read(session)
    try:
        accounts.request_reset(
            session,
            phone_text=phone,
            client_address=client_address(request),
            policy=reset_policy(settings),
            language=request_locale(request),
        )
    except accounts.TooManyResets:
        return _reset_page(
            request, "account/reset_request.html", fields=fields, error=TOO_MANY, status_code=429
        )
    except Invalid:
        return _reset_page(
            request,
            "account/reset_request.html",
            fields=fields,
            error=NOT_A_MOBILE,
            status_code=422,
        )
    return _reset_page(request, "account/reset_code.html", fields=fields, note=RESET_SENT)


@router.post("/password-reset/code", response_class=HTMLResponse)
def reset_with_code(  # noqa: PLR0913 - form fields
    request: Request,
    _csrf: CsrfDep,
    _user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    phone: Annotated[str, Form(max_length=20)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    fields = {"phone": phone, "code": code}
    template = "account/reset_code.html"
    if password != password_again:
        return _reset_page(
            request, template, fields=fields, error=PASSWORDS_DIFFER, status_code=422
        )
    _end_read(session)
    try:
        member = accounts.confirm_reset(
            session,
            phone_text=phone,
            code=code,
            password=password,
            client_address=client_address(request),
            policy=reset_policy(settings),
        )
    except accounts.TooManyResets:
        return _reset_page(request, template, fields=fields, error=TOO_MANY, status_code=429)
    except WeakPassword:
        refuse(
            lambda: _reset_page(
                request, template, fields=fields, error=PASSWORD_MIN, status_code=422
            )
        )
    except Invalid:
        refuse(
            lambda: _reset_page(
                request, template, fields=fields, error=CODE_REFUSED, status_code=422
            )
        )
    return _sign_in(request, session, settings, member, "/")


def install_account_pages(app: FastAPI) -> None:
    app.include_router(router)
