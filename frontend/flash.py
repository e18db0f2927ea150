"""Notices after a form (a signed flash): the server puts the text in a short-lived signed cookie
on the redirect, and the next page shows it once.

A notice never comes from the address: `?msg=` text in a link could otherwise put any words
("pay every batch to account 6222…") in the page's official notice box. The cookie is signed with
the app's secret key (itsdangerous, its own salt) and expires after two minutes.

    return redirect_with_notice(request, "/staff/payouts", notice=t(MSG_DONE))
    ...
    flash = take_flash(request)   # in the GET handler: flash.notice, flash.error ("" if none)
"""

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer

FLASH_COOKIE = "hezuo_flash"
MAX_AGE_SECONDS = 120
# A cookie is at most ~4 KB; a longer problem text is cut (the page says the rest again).
MAX_TEXT = 1500
_SALT = "hezuo.frontend.flash"


@dataclass(frozen=True)
class Flash:
    notice: str = ""
    error: str = ""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=_SALT)


def redirect_with_notice(
    request: Request, path: str, *, notice: str = "", error: str = ""
) -> RedirectResponse:
    """A 303 to `path` carrying a notice (or an error) for the next page, signed."""
    response = RedirectResponse(path, status_code=303)
    if notice or error:
        value = _serializer(request).dumps({"n": notice[:MAX_TEXT], "e": error[:MAX_TEXT]})
        response.set_cookie(
            FLASH_COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
            path="/",
        )
    return response


def take_flash(request: Request) -> Flash:
    """This request's notice, if a valid one was set; the page's response then drops the cookie."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return Flash()
    request.state.flash_taken = True
    try:
        data = _serializer(request).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadData:
        return Flash()
    if not isinstance(data, dict):
        return Flash()
    notice, error = data.get("n", ""), data.get("e", "")
    return Flash(
        notice=notice if isinstance(notice, str) else "",
        error=error if isinstance(error, str) else "",
    )


def drop_taken_flash(request: Request, response: Response) -> None:
    """Called by render(): a notice is shown once."""
    if getattr(request.state, "flash_taken", False):
        response.delete_cookie(FLASH_COOKIE, path="/")
