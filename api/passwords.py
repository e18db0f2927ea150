"""Rules for a new password: long enough and not on a list of the most common passwords.

The list is zxcvbn's (30,000 passwords most often seen in breaches, shipped inside the package),
so no password file is kept here and nothing is fetched. The rules apply when a password is set
(registration, an admin creating a user, `hezuo user create`), not at sign-in: an old password
keeps working until it is changed.
"""

from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from api.errors import WeakPassword

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """On the breached-passwords list, ignoring case and surrounding spaces."""
    return password.strip().lower() in _common_passwords()


def check_new_password(password: str, *, email: str = "") -> None:
    """Refuse (422) a password that is too short, common, or the e-mail address itself."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    local_part = email.split("@", 1)[0].lower()
    if is_common(password) or password.lower() in {email.lower(), local_part}:
        raise WeakPassword(
            "This password is one of the most common (breached) passwords, or your e-mail "
            "address; choose another."
        )
