"""Page rendering for every server-rendered page: ``render()`` and the router that feeds it.

How other pages use it (ledger staff pages, catalog pages, ...):

    from frontend.rendering import page_router, render
    from frontend.csrf import CsrfDep

    router = page_router()            # an APIRouter whose routes load the signed-in user

    @router.get("/things")
    def things(request: Request, _staff: StaffPageDep, session: SessionDep) -> Response:
        return render(request, "things.html", {"things": ...})

    @router.post("/things")
    def add_thing(request: Request, _csrf: CsrfDep, staff: StaffPageDep, ...) -> Response: ...

Who may open a page: the guards of ``frontend/guards.py``; a refused form: ``frontend/forms.refuse``.

Register the router from ``frontend/web.py`` (``install_frontend``). Templates live in
``frontend/templates`` and extend ``base.html`` (blocks ``title`` and ``content``). Every template
gets:

- ``request``, ``user`` (the signed-in ``api.models.User`` or None), ``locale`` ("zh-CN"/"en"),
  ``current_path`` (path and query, for ``next=`` links);
- ``_`` / ``gettext`` (``_("Hello %(name)s", name=n)``), ``ngettext`` and ``pgettext(context, text)``
  (one English word with two meanings) in the request's locale;
- ``T(value)``: the reader's half of stored bilingual text (``zh``/``en``, see ``core/text.py``);
  write source strings in English and run ``pybabel extract/update`` (README, Translations);
- ``csrf_token`` for the hidden ``csrf_token`` field of every form;
- ``format_money(amount_minor, currency)`` (Babel, e.g. ¥12.50), ``format_date(value)``,
  ``format_datetime(moment)`` (or the filter ``{{ moment | localtime }}``: in settings.timezone,
  never "UTC"), ``word(kind, code)`` and ``memo_words(memo)`` (codes and ledger memos as words,
  frontend/words.py),
  ``format_number(n)``, and ``static_url("css/site.css")`` (a cache-busted URL).

The user is looked up through the request's own database session (SessionDep) by the router's
dependency, so use ``page_router()`` (or add ``WebUserDep`` to the route): ``render()`` refuses to
guess, because opening a second session inside a request would wait on SQLite's write lock.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from sqlmodel import Session, col

from api.auditing import refuse_auditor_write
from api.deps import SESSION_COOKIE, SessionDep
from api.models import User
from api.service import web_session_user
from catalog.prices import parse_major
from core.text import in_locale
from frontend import redirects
from frontend.csrf import csrf_token_for, set_csrf_cookie
from frontend.flash import drop_taken_flash
from frontend.i18n import Translator, translator
from frontend.words import memo_words, word_lookup
from notify import inbox

FRONTEND_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = FRONTEND_DIR / "templates"
STATIC_DIR = FRONTEND_DIR / "static"
STATIC_PREFIX = "/static"

# Pages carry a CSRF token and the signed-in state: never shared caches; no inline script at all.
PAGE_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Vary": "Cookie, Accept-Language",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates are compiled once per process, with no stat of every template file on each
    # render; development re-reads changed templates (see `reload_templates`).
    auto_reload=False,
)
templates = Jinja2Templates(env=_environment)


def reload_templates(reload: bool) -> None:
    """Whether a changed template file is picked up without a restart (development only)."""
    _environment.auto_reload = reload


def load_web_user(request: Request, session: SessionDep) -> User | None:
    """The user signed in by the ``hezuo_session`` cookie (or None), remembered for render()."""
    cookie = request.cookies.get(SESSION_COOKIE)
    user, unread = _session_user_and_unread(session, cookie) if cookie else (None, 0)
    request.state.web_user = user
    request.state.unread_count = unread
    refuse_auditor_write(
        request.scope.setdefault("state", {}), user, request.method, request.url.path, session
    )
    return user


def _session_user_and_unread(session: Session, cookie: str) -> tuple[User | None, int]:
    """The session's user and their unread inbox count, in one statement."""
    row = session.execute(
        web_session_user(cookie).add_columns(inbox.unread_count_of(col(User.id)))
    ).first()
    if row is None or not row[0].is_active:
        return None, 0
    return row[0], int(row[1] or 0)


WebUserDep = Annotated[User | None, Depends(load_web_user)]


def to_minor(text: str, currency: str) -> int | None:
    """'68.50' yuan (or '¥1,280', full-width digits) → fen, exactly; None when not an amount."""
    return parse_major(text, currency)


def to_major(amount: int, currency: str) -> str:
    """6850 fen → '68.50', for a form's value."""
    return str(Decimal(amount).scaleb(-get_currency_precision(currency)))


def page_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for HTML pages: hidden from OpenAPI, the signed-in user loaded per request."""
    kwargs.setdefault("include_in_schema", False)
    dependencies = list(kwargs.pop("dependencies", [])) + [Depends(load_web_user)]
    return APIRouter(dependencies=dependencies, **kwargs)


def _missing_user_loader() -> User | None:
    raise RuntimeError(
        "render() needs the signed-in user loaded through the request's session: "
        "declare the route on frontend.rendering.page_router() or add WebUserDep to it"
    )


@lru_cache(maxsize=256)
def _static_digest(path: str) -> str:
    file = (STATIC_DIR / path).resolve()
    if STATIC_DIR not in file.parents or not file.is_file():
        raise ValueError(f"no static file {path!r}")
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: safe to cache for a year (see web.CachedStatic)."""
    return f"{STATIC_PREFIX}/{path}?v={_static_digest(path)}"


def money_formatter(translate: Translator) -> Callable[[int, str], str]:
    locale = translate.babel_locale

    def format_money(amount_minor: int, currency: str) -> str:
        """Integer minor units (fen) → '¥12.50' in the page's locale; never through a float."""
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
            raise TypeError("format_money takes integer minor units")
        amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
        return str(format_currency(amount, currency, locale=locale))

    return format_money


def date_formatter(translate: Translator, zone: str = "Asia/Shanghai") -> Callable[..., str]:
    locale = translate.babel_locale
    tzinfo = ZoneInfo(zone)

    def format_date(value: date | datetime, format: str = "medium") -> str:
        """A date, or a stored (UTC) moment's date in the reader's zone."""
        day = local(value, tzinfo).date() if isinstance(value, datetime) else value
        return str(babel_format_date(day, format=format, locale=locale))

    return format_date


def local(moment: datetime, tzinfo: ZoneInfo) -> datetime:
    """A stored moment in `tzinfo`; a naive one is taken as UTC (how Hezuo stores them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tzinfo)


def datetime_formatter(translate: Translator, zone: str = "Asia/Shanghai") -> Callable[..., str]:
    """Moments in the reader's zone (settings.timezone), never "UTC": 2026年12月5日 08:30."""
    locale = translate.babel_locale
    tzinfo = ZoneInfo(zone)

    def format_datetime(value: datetime, seconds: bool = False) -> str:
        moment = local(value, tzinfo)
        day = babel_format_date(moment.date(), format="medium", locale=locale)
        return f"{day} {moment.strftime('%H:%M:%S' if seconds else '%H:%M')}"

    return format_datetime


@pass_context
def localtime_filter(context: Context, value: datetime, seconds: bool = False) -> str:
    """``{{ event.at | localtime }}``: the same as ``format_datetime(event.at)``."""
    return str(context["format_datetime"](value, seconds))


_environment.filters["localtime"] = localtime_filter


def number_formatter(translate: Translator) -> Callable[[int | Decimal], str]:
    locale = translate.babel_locale

    def format_number(value: int | Decimal) -> str:
        return str(format_decimal(value, locale=locale))

    return format_number


def page_context(request: Request, user: User | None) -> dict[str, Any]:
    """The variables every template gets (see the module docstring)."""
    translate = translator(request)
    query = request.url.query
    zone = request.app.state.settings.timezone
    return {
        "request": request,
        "user": user,
        "locale": translate.locale,
        "_": translate.gettext,
        "gettext": translate.gettext,
        "ngettext": translate.ngettext,
        "pgettext": translate.pgettext,
        "T": lambda value: in_locale(value, translate.locale),
        "csrf_token": csrf_token_for(request),
        "format_money": money_formatter(translate),
        "format_date": date_formatter(translate, zone),
        "format_datetime": datetime_formatter(translate, zone),
        "word": word_lookup(translate),
        "memo_words": memo_words(translate),
        "format_number": number_formatter(translate),
        "static_url": static_url,
        "current_path": request.url.path + (f"?{query}" if query else ""),
        "sign_in_url": redirects.sign_in_url,
        "env": request.app.state.settings.env,
        "unread_count": getattr(request.state, "unread_count", 0),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a template from frontend/templates as a page in the request's locale."""
    if hasattr(request.state, "web_user"):
        user: User | None = request.state.web_user
    else:
        user = _missing_user_loader()
    full_context = page_context(request, user)
    full_context.update(context or {})
    response = templates.TemplateResponse(
        request, template, full_context, status_code=status_code, headers=headers
    )
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Content-Language"] = full_context["locale"]
    set_csrf_cookie(request, response, secure=request.app.state.settings.cookie_secure)
    drop_taken_flash(request, response)
    return response
