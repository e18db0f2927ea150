"""Who may open a page: the page guards, as typed dependencies, and the one sign-in redirect.

A page states who it is for in its signature and gets the user (or actor) it needs:

    @router.get("/staff/things")
    def things(request: Request, staff: StaffPageDep, session: SessionDep) -> Response: ...

Every guard answers the same way:
- an anonymous visitor is sent to the sign-in page, coming back here (``?next=``);
- a signed-in user of the wrong role gets the 403 page (a translated ``PageForbidden``);
- an auditor passes the staff guards only to read (the edge refuses its writes before any route).
A page open to everyone takes ``WebUserDep`` (the user or None) instead.
"""

from dataclasses import dataclass
from typing import Annotated, NoReturn
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from api.deps import actor_of
from api.models import READ_ALL_ROLES, Role, User
from core.actor import Actor
from core.errors import Forbidden
from core.text import N_
from frontend.redirects import safe_next, sign_in_redirect
from frontend.rendering import WebUserDep


class SignInRequired(Exception):
    """An anonymous visitor asked for a page that needs an account (answered by a redirect)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Forbidden):
    """A signed-in user whose role may not open this page."""

    type_slug = "page-forbidden"
    msgid = N_("Your account may not open this page.")


def return_path(request: Request) -> str:
    """Where to come back after signing in: this page (with its query); for a form sent with
    POST, the page the form was on (the Referer when it is ours, else the parent path)."""
    query = request.url.query
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    parent = request.url.path.rstrip("/").rsplit("/", 1)[0] or "/"
    return parent + (f"?{query}" if query else "")


def require_sign_in(request: Request, path: str | None = None) -> NoReturn:
    """For a page open to some visitors (an order with its link): send this one to sign in,
    coming back to ``path`` (default: this page, see return_path)."""
    raise SignInRequired(path or return_path(request))


def signed_in(request: Request, user: WebUserDep) -> User:
    """Any signed-in user."""
    if user is None:
        raise SignInRequired(return_path(request))
    return user


SignedInDep = Annotated[User, Depends(signed_in)]


def _wrong_role(detail: str) -> PageForbidden:
    return PageForbidden(detail)


def staff_page(user: SignedInDep) -> User:
    """Staff and administrators; the auditor too (it only reads)."""
    if user.role not in READ_ALL_ROLES:
        raise _wrong_role("This page is for staff and administrators.")
    return user


@dataclass(frozen=True)
class Farmer:
    """A signed-in farmer and the member household they belong to."""

    user: User
    household_id: int

    @property
    def actor(self) -> Actor:
        return actor_of(self.user)


def farmer_page(user: SignedInDep) -> Farmer:
    """A farmer linked to a member household (their income, plan, products, training)."""
    if user.role != Role.farmer or user.household_id is None:
        raise _wrong_role("This page is for farmers linked to a member household.")
    return Farmer(user, user.household_id)


def manager_or_staff_page(user: SignedInDep) -> User:
    """A cooperative's manager (for their own cooperative) or staff; the auditor too (it only reads)."""
    actor = actor_of(user)
    if not (actor.role == Role.manager and actor.coop_id is not None) and not actor.reads_all:
        raise _wrong_role("This page is for cooperative managers and staff.")
    return user


def social_worker_page(user: SignedInDep) -> User:
    """A social worker of a partner institution (their assigned households)."""
    if user.role != Role.social_worker:
        raise _wrong_role("This page is for social workers.")
    return user


StaffPageDep = Annotated[User, Depends(staff_page)]
FarmerPageDep = Annotated[Farmer, Depends(farmer_page)]
ManagerOrStaffPageDep = Annotated[User, Depends(manager_or_staff_page)]
SocialWorkerPageDep = Annotated[User, Depends(social_worker_page)]


async def _answer_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return sign_in_redirect(exc.next_path)


def install_guards(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _answer_sign_in)
