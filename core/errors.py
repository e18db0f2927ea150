"""The error hierarchy every domain shares: each kind carries the HTTP status it maps to.

Services raise these (or a domain's subclass from its own ``errors.py``), never HTTP exceptions;
the API renders them as problem+json (``api/problems.py``) and the pages as a message in the
reader's language. The kernel imports no domain, so every domain may extend these.
"""

from typing import Any

from core.text import N_


class DomainError(Exception):
    status_code: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"
    # True when the request's changes must be committed although it answers with this error
    # (a failed sign-in or a declined payment attempt is itself a fact worth keeping).
    keeps_changes: bool = False
    # What a page tells the reader: a message id (marked with core.text.N_ so pybabel extracts
    # it) formatted with ``params`` after translation into the reader's language. The API keeps
    # answering with the English ``detail``. None: the page says what the status means.
    msgid: str = N_("This request could not be completed.")

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        msgid: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if msgid is not None:
            self.msgid = msgid
        self.params: dict[str, Any] = params or {}


class NotFound(DomainError):
    status_code = 404
    title = "Not found"
    type_slug = "not-found"
    msgid = N_("Nothing was found here: check the link.")


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"
    msgid = N_("This clashes with something that changed meanwhile.")


class Invalid(DomainError):
    status_code = 422
    title = "Invalid input"
    type_slug = "invalid"
    msgid = N_("Some details are not right.")


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"
    msgid = N_("You may not do this.")


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"
    msgid = N_("Please sign in first.")


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"
    type_slug = "too-many-requests"
    msgid = N_("Too many tries: wait a little, then try again.")
