"""Password hashing (Argon2 through pwdlib) and short-lived access tokens (PyJWT)."""

import hashlib
import secrets
from datetime import timedelta

import jwt
from pwdlib import PasswordHash

from ledger.base import utcnow

_password_hash = PasswordHash.recommended()
JWT_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


# Verifying against this keeps the time of a login for an unknown email close to a known one.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    _password_hash.verify(password, _DUMMY_HASH)


def create_access_token(user_id: int, secret_key: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret_key, algorithm=JWT_ALGORITHM)


def read_access_token(token: str, secret_key: str) -> int | None:
    """The user id in a valid, unexpired token, else None."""
    try:
        claims = jwt.decode(
            token, secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]}
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
