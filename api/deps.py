"""Request dependencies: the database session, settings, the signed-in user and role checks."""

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api.auditing import SAFE_METHODS, refuse_auditor_write
from api.database import declare_writes, get_session
from api.errors import CrossSiteRefused, NotAuthenticated, RoleRefused
from api.models import Role, User
from api.security import read_access_token
from api.service import user_for_web_session
from api.settings import Settings
from core.actor import Actor
from core.errors import Invalid

SESSION_COOKIE = "hezuo_session"
# The pages' double-submit CSRF pair (frontend/csrf.py sets the cookie and checks forms with it).
CSRF_COOKIE = "hezuo_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def writes() -> None:
    """A dependency for a GET route that writes: its transaction takes the write lock up front."""
    declare_writes()


WritesDep = Depends(writes)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def optional_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The user from a bearer token, else from the browser session cookie, else None.

    An auditor's request is remembered for the read log, and refused here if it would write.
    """
    user = _user_of(request, session, settings, token)
    scope_state = request.scope.setdefault("state", {})
    refuse_auditor_write(scope_state, user, request.method, request.url.path, session)
    return user


def _user_of(
    request: Request, session: Session, settings: Settings, token: str | None
) -> User | None:
    if token:
        user_id = read_access_token(token, settings.secret_key)
        user = session.get(User, user_id) if user_id is not None else None
        return user if user is not None and user.is_active else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        user = user_for_web_session(session, cookie)
        if user is not None:
            check_cookie_write(request, settings)
        return user
    return None


def check_cookie_write(request: Request, settings: Settings) -> None:
    """A JSON API write authenticated by the browser's session cookie (not a bearer token) must
    come from our own pages: no foreign Origin, and the CSRF token of the page in X-CSRF-Token."""
    if request.method not in UNSAFE_METHODS or not request.url.path.startswith("/api/"):
        return
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != _origin_of(settings.public_url):
        raise CrossSiteRefused(f"Requests from {origin[:100]} may not use this site's sign-in.")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise CrossSiteRefused(
            f"A change through the API signed in by cookie needs the page's {CSRF_HEADER} "
            "header; scripts and other programs use 'Authorization: Bearer <token>'."
        )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def client_address(request: Request) -> str | None:
    """The address the request came from (uvicorn takes it from X-Forwarded-For only when the
    proxy is trusted: FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else None


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


OptionalUserDep = Annotated[User | None, Depends(optional_user)]
CurrentUserDep = Annotated[User, Depends(current_user)]


def actor_of(user: User | None) -> Actor:
    """The domains' view of the signed-in user (or of the public): role and ownership keys."""
    if user is None:
        return Actor.anonymous()
    return Actor(
        user_id=user.id, role=user.role, coop_id=user.coop_id, household_id=user.household_id
    )


def require_roles(*roles: Role) -> Callable[[Request, User], User]:
    """Only these roles; an auditor also passes a staff check when it only reads (GET, HEAD)."""
    allowed = frozenset(roles)

    def check(request: Request, user: CurrentUserDep) -> User:
        if _auditor_reads(request, user, allowed):
            return user
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise RoleRefused(
                f"This needs one of the roles: {names}; you are signed in as {user.role}."
            )
        return user

    return check


def _auditor_reads(request: Request, user: User, allowed: frozenset[Role]) -> bool:
    return user.role == Role.auditor and Role.staff in allowed and request.method in SAFE_METHODS


AdminDep = Annotated[User, Depends(require_roles(Role.admin))]
StaffDep = Annotated[User, Depends(require_roles(Role.staff, Role.admin))]


class PageParams:
    """`limit` (1–200, default 50) and an opaque `cursor` wrapping the last seen key."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor

    def after(self) -> str | None:
        if self.cursor is None:
            return None
        try:
            return base64.urlsafe_b64decode(self.cursor.encode() + b"==").decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Invalid(
                "The cursor is not one this API gave out.",
                errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
            ) from None

    def after_int(self) -> int | None:
        raw = self.after()
        if raw is None:
            return None
        if not raw.isdigit():
            raise Invalid(
                "The cursor is not one this API gave out.",
                errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
            )
        return int(raw)


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


PageDep = Annotated[PageParams, Depends()]
