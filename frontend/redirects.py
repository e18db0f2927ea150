"""Safe redirect targets: only a local path of this site, never another host (no open redirect)."""

from urllib.parse import quote, urlsplit

from fastapi.responses import RedirectResponse

MAX_NEXT_LENGTH = 2000


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` when it is a local absolute path ("/me?x=1"), else ``default``.

    Refused: other hosts ("https://evil", "//evil"), backslashes (browsers read "/\\evil" as
    "//evil"), control characters, relative paths and overlong values.
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def sign_in_url(next_path: str) -> str:
    """The sign-in page, coming back to ``next_path`` (a local path) once signed in."""
    return f"/login?next={quote(safe_next(next_path), safe='/')}"


def sign_in_redirect(next_path: str) -> RedirectResponse:
    """The one sign-in redirect (pages use the guards in frontend/guards.py, which answer with it)."""
    return RedirectResponse(sign_in_url(next_path), status_code=303)
