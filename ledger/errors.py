"""Domain errors: each carries the HTTP status it maps to; the API renders them as problem+json.

`DomainError` is the base every domain's `errors.py` extends (ledger is the bottom of the import
graph, so the shared base lives here). Services raise these, never HTTP exceptions.
"""

from typing import Any


class DomainError(Exception):
    status_code: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"
    # True when the request's changes must be committed although it answers with this error
    # (a failed sign-in or a declined payment attempt is itself a fact worth keeping).
    keeps_changes: bool = False

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class NotFound(DomainError):
    status_code = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class Invalid(DomainError):
    status_code = 422
    title = "Invalid input"
    type_slug = "invalid"


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"
    type_slug = "too-many-requests"


# --- Ledger errors (each names the rule a person broke, in words they understand) ---------------


class UnbalancedEntry(Invalid):
    title = "Entry does not balance"
    type_slug = "ledger-unbalanced"


class UnknownAccount(Invalid):
    title = "Unknown ledger account"
    type_slug = "ledger-unknown-account"


class AccountClosed(Invalid):
    title = "Ledger account closed"
    type_slug = "ledger-account-closed"


class CurrencyMismatch(Invalid):
    title = "Currency does not match the account"
    type_slug = "ledger-currency-mismatch"


class InvalidPosting(Invalid):
    title = "Invalid posting"
    type_slug = "ledger-invalid-posting"


class LimitExceeded(Conflict):
    title = "Account limit exceeded"
    type_slug = "ledger-limit-exceeded"


class PeriodClosed(Conflict):
    title = "Accounting period closed"
    type_slug = "ledger-period-closed"


class IdempotencyConflict(Conflict):
    title = "Idempotency key reused with different content"
    type_slug = "ledger-idempotency-conflict"


class AlreadyReversed(Conflict):
    title = "Entry already reversed"
    type_slug = "ledger-already-reversed"


class AccountConflict(Conflict):
    title = "Account exists with different settings"
    type_slug = "ledger-account-conflict"


class AccountNotFound(NotFound):
    title = "Ledger account not found"
    type_slug = "ledger-account-not-found"


class EntryNotFound(NotFound):
    title = "Journal entry not found"
    type_slug = "ledger-entry-not-found"
