"""The shell's pages: home, sign-in and sign-out, the signed-in user's page, the language switch."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import service
from api.demo import DEMO_USERS
from api.deps import SESSION_COOKIE, SessionDep, SettingsDep, WritesDep, client_address
from api.errors import BadCredentials, TooManyLogins
from api.policies import login_limits
from core.errors import Invalid
from frontend.catalog_pages import featured_products
from frontend.csrf import CsrfDep, rotate_csrf_token, set_csrf_cookie
from frontend.guards import SignedInDep
from frontend.i18n import LOCALE_COOKIE, N_, SUPPORTED_LOCALES
from frontend.redirects import safe_next
from frontend.rendering import WebUserDep, page_router, render

router = page_router()
locale_router = APIRouter(include_in_schema=False)

LOCALE_COOKIE_SECONDS = 365 * 24 * 3600

# Role names as people read them (translated in templates with _()).
ROLE_NAMES = {
    "buyer": N_("Buyer"),
    "farmer": N_("Farmer"),
    "manager": N_("Cooperative manager"),
    "staff": N_("Staff"),
    "admin": N_("Administrator"),
    "auditor": N_("Auditor"),
    "social_worker": N_("Social worker"),
}

MSG_MISSING = N_("Enter your email and your password.")
MSG_BAD_CREDENTIALS = N_("Incorrect email or password.")
MSG_TOO_MANY = N_("Too many failed sign-ins for this account. Try again in %(seconds)s seconds.")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    return render(request, "home.html", featured_products(request, session, user))


def _login_form(
    request: Request,
    *,
    email: str = "",
    next_path: str = "/",
    error: str | None = None,
    error_values: dict[str, object] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    settings = request.app.state.settings
    demo_users = DEMO_USERS if settings.env == "development" else ()
    context = {
        "email": email,
        "next_path": next_path,
        "error": error,
        "error_values": error_values or {},
        "demo_users": demo_users,
        "role_names": ROLE_NAMES,
    }
    return render(request, "login.html", context, status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    user: WebUserDep,
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    target = safe_next(next_path)
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, next_path=target)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    _csrf: CsrfDep,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    target = safe_next(next_path)
    email = email.strip()
    if not email or not password:
        return _login_form(
            request, email=email, next_path=target, error=MSG_MISSING, status_code=422
        )
    try:
        user = service.sign_in(
            session,
            email,
            password,
            client_address=client_address(request),
            limits=login_limits(settings),
        )
    except TooManyLogins as refused:
        seconds = int(refused.headers["Retry-After"])
        return _login_form(
            request,
            email=email,
            next_path=target,
            error=MSG_TOO_MANY,
            error_values={"seconds": seconds},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    except BadCredentials as refused:
        # sign_in recorded the failure in this request's session; returning normally (not
        # raising) lets SessionDep commit it, so the brute-force count holds.
        return _login_form(
            request,
            email=email,
            next_path=target,
            error=MSG_BAD_CREDENTIALS,
            status_code=401,
            headers=refused.headers,
        )
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        service.end_web_session(session, old_token)
    token = service.start_web_session(session, user, days=settings.web_session_days)
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


@router.post("/logout")
def logout(
    request: Request, _csrf: CsrfDep, session: SessionDep, settings: SettingsDep
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_web_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )
    rotate_csrf_token(request)
    set_csrf_cookie(request, response, secure=settings.cookie_secure)
    return response


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, user: SignedInDep) -> Response:
    return render(request, "me.html", {"role_names": ROLE_NAMES})


@locale_router.get("/locale", dependencies=[WritesDep])  # stores a signed-in user's language
def switch_locale(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: Annotated[str, Query(max_length=10)],
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    """Remember the chosen language in a cookie and go back (works as a plain link, no JS)."""
    if lang not in SUPPORTED_LOCALES:
        raise Invalid(
            f"Unknown language {lang!r}; choose one of: {', '.join(SUPPORTED_LOCALES)}.",
            errors=[{"loc": ["query", "lang"], "msg": "unsupported language"}],
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    user = service.user_for_web_session(session, cookie) if cookie else None
    if user is not None and user.language != lang:  # messages follow the language last chosen
        user.language = lang
        session.add(user)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        lang,
        max_age=LOCALE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response
