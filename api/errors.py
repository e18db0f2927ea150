"""Identity errors."""

from core.errors import Conflict, Forbidden, Invalid, TooManyRequests, Unauthorized
from core.text import N_


class BadCredentials(Unauthorized):
    type_slug = "bad-credentials"
    keeps_changes = True  # the failed attempt is recorded for the brute-force limit

    def __init__(self) -> None:
        super().__init__("Incorrect email or password.", headers={"WWW-Authenticate": "Bearer"})


class NotAuthenticated(Unauthorized):
    type_slug = "not-authenticated"

    def __init__(self) -> None:
        super().__init__(
            "Sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class RoleRefused(Forbidden):
    type_slug = "role-refused"


class TooManyLogins(TooManyRequests):
    type_slug = "too-many-logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins for this account. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


class EmailTaken(Conflict):
    type_slug = "email-taken"

    def __init__(self, email: str) -> None:
        super().__init__(f"An account with the email {email!r} already exists.")


class WeakPassword(Invalid):
    type_slug = "weak-password"
    msgid = N_("Choose a longer or less common password (at least 10 characters, not a known one).")

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"loc": ["body", "password"], "msg": detail}])


class CrossSiteRefused(Forbidden):
    type_slug = "cross-site-refused"


class TooManyRegistrations(TooManyRequests):
    type_slug = "too-many-registrations"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many new accounts from this address. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
