"""CSRF protection for every form: a double-submit token (cookie + hidden field), checked on POST.

How to use it in a page (other helpers' forms too):

    from frontend.csrf import CsrfDep

    @router.post("/things")
    def create_thing(_csrf: CsrfDep, ...): ...

and put ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`` in the form
(``render()`` passes ``csrf_token`` and sets the ``hezuo_csrf`` cookie when it is new). A POST whose
field (or ``X-CSRF-Token`` header) does not match the cookie is refused with 403 before the
handler runs, so nothing is changed.
"""

import hmac
import re
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from api.deps import CSRF_COOKIE, CSRF_HEADER
from core.errors import Forbidden

CSRF_FIELD = "csrf_token"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


class CsrfRefused(Forbidden):
    title = "Form expired"
    type_slug = "csrf-refused"

    def __init__(self) -> None:
        super().__init__(
            "This form was not sent from a page of this site, or it has expired. "
            "Go back, reload the page and send it again."
        )


def _well_formed(token: str | None) -> bool:
    return token is not None and _TOKEN_SHAPE.fullmatch(token) is not None


def csrf_token_for(request: Request) -> str:
    """The request's token: the cookie's if well formed, else a new one (remembered as new)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        cookie = request.cookies.get(CSRF_COOKIE)
        if _well_formed(cookie):
            assert cookie is not None
            token = cookie
        else:
            token = secrets.token_urlsafe(32)
            request.state.csrf_is_new = True
        request.state.csrf_token = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A fresh token for this response (after signing in or out)."""
    request.state.csrf_token = secrets.token_urlsafe(32)
    request.state.csrf_is_new = True
    return str(request.state.csrf_token)


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    """Send the cookie when the token was made (or rotated) during this request."""
    if getattr(request.state, "csrf_is_new", False):
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf_token,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )


async def verify_csrf(request: Request) -> None:
    """Refuse (403) an unsafe request whose token does not match the cookie."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not (_well_formed(cookie) and _well_formed(sent)):
        raise CsrfRefused()
    assert cookie is not None
    assert sent is not None
    if not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise CsrfRefused()


CsrfDep = Annotated[None, Depends(verify_csrf)]
