"""Identity rules: accounts, sign-in with atomic brute-force limits, web sessions."""

from datetime import timedelta

from sqlalchemy import Select, delete, select
from sqlmodel import Session, col

from api import login_limits
from api.errors import BadCredentials, EmailTaken, TooManyLogins
from api.login_limits import LoginLimits
from api.models import LoginAttempt, Role, User, WebSession
from api.passwords import check_new_password
from api.phone_login import login_email
from api.security import (
    burn_password_check,
    hash_password,
    new_opaque_token,
    token_digest,
    verify_password,
)
from ledger.base import utcnow


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(col(User.email) == normalize_email(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    coop_id: int | None = None,
    household_id: int | None = None,
) -> User:
    email = normalize_email(email)
    check_new_password(password, email=email)
    if get_user_by_email(session, email) is not None:
        raise EmailTaken(email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role.value,
        coop_id=coop_id,
        household_id=household_id,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, *, after_id: int | None, limit: int) -> list[User]:
    query = select(User).order_by(col(User.id)).limit(limit)
    if after_id is not None:
        query = query.where(col(User.id) > after_id)
    return list(session.scalars(query))


def record_login_failure(session: Session, email: str) -> None:
    session.add(LoginAttempt(email=normalize_email(email)))
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with these credentials, or BadCredentials. Does not count failures."""
    user = get_user_by_email(session, email)
    if user is None:
        burn_password_check(password)
        raise BadCredentials()
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise BadCredentials()
    return user


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    client_address: str | None,
    limits: LoginLimits,
) -> User:
    """Claim a password check (atomic limits per account and address, api/login_limits.py),
    then check the credentials; a failure is recorded (and kept), a success gives the claim back.

    `email` may also be a user's mainland mobile number (api/phone_login.py)."""
    engine = session.get_bind().engine
    # A short session of its own, like the claim below: on SQLite the request's own transaction
    # would take the write lock at its first statement, and the claim would then wait for it.
    with Session(engine) as lookup:
        email = login_email(lookup, email)
    keys = login_limits.keys_for(normalize_email(email), client_address)
    retry_after = login_limits.claim(engine, keys, limits)
    if retry_after is not None:
        raise TooManyLogins(retry_after)
    try:
        user = authenticate(session, email, password)
    except BadCredentials:
        record_login_failure(session, email)
        raise
    login_limits.give_back(session.connection(), keys)
    return user


def start_web_session(session: Session, user: User, *, days: int) -> str:
    """Create a browser session; returns the token for the cookie (only its digest is stored)."""
    assert user.id is not None
    token = new_opaque_token()
    session.add(
        WebSession(
            token_hash=token_digest(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_web_session(session: Session, token: str) -> User | None:
    row = session.execute(web_session_user(token)).first()
    if row is None or not row[0].is_active:
        return None
    user: User = row[0]
    return user


def web_session_user(token: str) -> Select[User]:
    """The statement reading the user of an unexpired browser session (check `is_active`);
    a caller may add columns to read along with it."""
    return (
        select(User)
        .join(WebSession, col(WebSession.user_id) == col(User.id))
        .where(
            col(WebSession.token_hash) == token_digest(token),
            col(WebSession.expires_at) > utcnow(),
        )
    )


def end_web_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.token_hash) == token_digest(token)))
