"""Members' accounts by phone: a manager creates one, prints a one-time sign-in card, and a member
resets a forgotten password with a code sent by SMS.

- A sign-in card holds a random token (only its SHA-256 is stored) valid for
  `HEZUO_SIGN_IN_CARD_MINUTES`. It is spent by ONE conditional UPDATE (`used_at IS NULL AND
  expires_at > now`), so two scans racing each other cannot both sign in. Opening the card's page
  only checks it (a GET writes nothing: link previews do not spend it); setting the password spends
  it. A new card for the same member voids the older ones.
- A password reset is asked for with a mobile number. The answer is the same whether or not the
  number belongs to an account (no enumeration). A six-digit code (its HMAC stored) goes out through
  the notification outbox as an SMS; it lives `HEZUO_PASSWORD_RESET_MINUTES`. Requests per number
  and per client address, and code guesses per number, are claimed atomically in their own
  transaction (api/login_limits.claim_slots), so refused guesses count even though the request
  answers with an error.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Integer, update
from sqlmodel import Field, Session, SQLModel, col, select

from api.login_limits import claim_slots
from api.models import Role, User, WebSession
from api.passwords import check_new_password
from api.phone_login import PhoneTaken, UserPhone, normalize_mobile, set_phone
from api.security import burn_password_check, hash_password, new_opaque_token, token_digest
from catalog.models import Household
from catalog.permissions import require_coop_manager
from core.actor import Actor
from core.errors import Conflict, Invalid, NotFound, TooManyRequests
from ledger.base import UTCDateTime, utcnow
from notify.kinds import Kind
from notify.outbox import record, to_guest

MEMBER_EMAIL_DOMAIN = "members.hezuo.invalid"  # a member known by phone only has no real address
RESET_CODE_DIGITS = 6
HOUR = 3600


class SignInCard(SQLModel, table=True):
    """A printed one-time sign-in card: the token's digest, who printed it, until when it works."""

    __tablename__ = "sign_in_cards"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    )
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PasswordReset(SQLModel, table=True):
    """A reset code sent by SMS: its keyed digest, until when it works, when it was used."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    )
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


@dataclass(frozen=True)
class ResetPolicy:
    minutes: int = 10
    max_guesses: int = 5  # wrong codes per number while a code lives
    max_per_phone: int = 3  # codes sent per number an hour
    max_per_client: int = 10  # reset requests per client address an hour
    secret: str = ""


class CardRefused(Invalid):
    """The card was already used, replaced, or is out of date (410 Gone)."""

    status_code = 410
    title = "Gone"
    type_slug = "sign-in-card-refused"

    def __init__(self) -> None:
        super().__init__("This sign-in card was already used or is out of date; ask for a new one.")


class ResetCodeRefused(Invalid):
    type_slug = "reset-code-refused"

    def __init__(self) -> None:
        super().__init__(
            "The number and code do not match a code sent in the last minutes.",
            errors=[{"loc": ["body", "code"], "msg": "wrong or expired code"}],
        )


class TooManyResets(TooManyRequests):
    type_slug = "too-many-resets"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many reset requests or codes tried. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


# --- member accounts and cards ---------------------------------------------------------------


def _managed_household(session: Session, actor: Actor, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(f"No household {household_id}.")
    require_coop_manager(actor, household.coop_id)  # the auditor is refused here too
    return household


def member_of(session: Session, household_id: int) -> User | None:
    query = select(User).where(
        col(User.household_id) == household_id, col(User.role) == Role.farmer.value
    )
    return session.scalars(query.order_by(col(User.id))).first()


def phone_of(session: Session, user_id: int) -> str | None:
    row = session.get(UserPhone, user_id)
    return row.phone if row is not None else None


def _mobile(text: str) -> str:
    phone = normalize_mobile(text)
    if phone is None:
        raise Invalid(
            "Not a mainland mobile number (11 digits starting 13-19).",
            errors=[{"loc": ["body", "phone"], "msg": "not a mainland mobile number"}],
        )
    return phone


def create_member_account(
    session: Session, *, actor: Actor, household_id: int, phone_text: str
) -> User:
    """A farmer account for the household, known by its mobile number (no password yet)."""
    household = _managed_household(session, actor, household_id)
    phone = _mobile(phone_text)
    if member_of(session, household_id) is not None:
        raise Conflict(f"Household {household_id} already has a member account.")
    if session.scalars(select(UserPhone).where(col(UserPhone.phone) == phone)).first():
        raise PhoneTaken(f"The number {phone} already belongs to another user.")
    user = User(
        email=f"{phone}@{MEMBER_EMAIL_DOMAIN}",
        password_hash=hash_password(secrets.token_urlsafe(32)),  # nobody knows it: card first
        role=Role.farmer.value,
        coop_id=household.coop_id,
        household_id=household_id,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    set_phone(session, user_id=user.id, phone_text=phone)
    return user


def add_member_phone(session: Session, *, actor: Actor, household_id: int, phone_text: str) -> str:
    """Record the mobile number of the household's existing member account."""
    _managed_household(session, actor, household_id)
    member = member_of(session, household_id)
    if member is None or member.id is None:
        raise NotFound(f"Household {household_id} has no member account yet.")
    return set_phone(session, user_id=member.id, phone_text=_mobile(phone_text))


def issue_card(
    session: Session, *, actor: Actor, household_id: int, minutes: int
) -> tuple[SignInCard, str]:
    """A new card for the household's member (older unused cards stop working); the token."""
    _managed_household(session, actor, household_id)
    member = member_of(session, household_id)
    if member is None or member.id is None:
        raise NotFound(f"Household {household_id} has no member account yet.")
    assert actor.user_id is not None
    now = utcnow()
    session.execute(
        update(SignInCard)
        .where(col(SignInCard.user_id) == member.id, col(SignInCard.used_at).is_(None))
        .values(expires_at=now)
    )
    token = new_opaque_token()
    card = SignInCard(
        user_id=member.id,
        token_hash=token_digest(token),
        created_by=actor.user_id,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(card)
    session.flush()
    return card, token


def card_holder(session: Session, token: str) -> User:
    """The member a still-valid card signs in (nothing is written); else CardRefused."""
    card = session.scalars(
        select(SignInCard).where(col(SignInCard.token_hash) == token_digest(token))
    ).first()
    if card is None or card.used_at is not None or card.expires_at <= utcnow():
        raise CardRefused()
    user = session.get(User, card.user_id)
    if user is None or not user.is_active:
        raise CardRefused()
    return user


def redeem_card(session: Session, *, token: str, password: str) -> User:
    """Spend the card (at most once, however many scans race) and set the member's password."""
    user = card_holder(session, token)
    check_new_password(password, email=user.email)
    now = utcnow()
    spent = session.execute(
        update(SignInCard)
        .where(
            col(SignInCard.token_hash) == token_digest(token),
            col(SignInCard.used_at).is_(None),
            col(SignInCard.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise CardRefused()
    user.password_hash = hash_password(password)
    session.flush()
    return user


def card_url(public_url: str, token: str) -> str:
    """What the printed QR code holds: built from HEZUO_PUBLIC_URL, never a request's Host."""
    return f"{public_url.rstrip('/')}/card/{token}"


# --- password reset by SMS -------------------------------------------------------------------


def _code_digest(policy: ResetPolicy, user_id: int, code: str) -> str:
    message = f"{user_id}:{code}".encode()
    return hmac.new(policy.secret.encode(), message, hashlib.sha256).hexdigest()


def _claim(session: Session, slots: list[tuple[str, int]], window: int) -> None:
    wait = claim_slots(session.get_bind().engine, sorted(slots), window)
    if wait is not None:
        raise TooManyResets(wait)


def _user_by_phone(session: Session, phone: str) -> User | None:
    query = select(User).join(UserPhone, col(UserPhone.user_id) == col(User.id))
    user = session.scalars(query.where(col(UserPhone.phone) == phone)).first()
    return user if user is not None and user.is_active else None


def request_reset(
    session: Session,
    *,
    phone_text: str,
    client_address: str | None,
    policy: ResetPolicy,
    language: str,
) -> None:
    """Send a code if the number is a member's; the caller answers the same either way."""
    phone = _mobile(phone_text)
    client = client_address or "unknown"
    _claim(
        session,
        [
            (f"reset-send:{phone}", policy.max_per_phone),
            (f"reset-client:{client}", policy.max_per_client),
        ],
        HOUR,
    )
    user = _user_by_phone(session, phone)
    if user is None or user.id is None:
        return
    now = utcnow()
    session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**RESET_CODE_DIGITS):0{RESET_CODE_DIGITS}d}"
    reset = PasswordReset(
        user_id=user.id,
        code_hash=_code_digest(policy, user.id, code),
        expires_at=now + timedelta(minutes=policy.minutes),
    )
    session.add(reset)
    session.flush()
    record(
        session,
        kind=Kind.password_reset_code,
        event_key=f"password-reset:{reset.id}",
        audiences=[to_guest(email=None, phone=phone, language=user.language or language)],
        payload={"code": code, "minutes": policy.minutes},
    )


def confirm_reset(
    session: Session,
    *,
    phone_text: str,
    code: str,
    password: str,
    client_address: str | None,
    policy: ResetPolicy,
) -> User:
    """Check the code (guesses limited per number and address), set the new password, end the
    member's other browser sessions."""
    phone = normalize_mobile(phone_text) or "invalid"
    client = client_address or "unknown"
    window = policy.minutes * 60
    _claim(
        session,
        [
            (f"reset-guess:{phone}", policy.max_guesses),
            (f"reset-client:{client}", policy.max_per_client),
        ],
        window,
    )
    user = _user_by_phone(session, phone)
    reset = _live_reset(session, user, policy, code.strip())
    if user is None or reset is None:
        burn_password_check(password)
        raise ResetCodeRefused()
    check_new_password(password, email=user.email)
    reset.used_at = utcnow()
    user.password_hash = hash_password(password)
    session.execute(
        WebSession.__table__.delete().where(  # type: ignore[attr-defined]
            WebSession.__table__.c.user_id == user.id  # type: ignore[attr-defined]
        )
    )
    session.flush()
    return user


def _live_reset(
    session: Session, user: User | None, policy: ResetPolicy, code: str
) -> PasswordReset | None:
    if user is None or user.id is None or not code.isdigit():
        return None
    query = select(PasswordReset).where(
        col(PasswordReset.user_id) == user.id,
        col(PasswordReset.used_at).is_(None),
        col(PasswordReset.expires_at) > utcnow(),
    )
    reset = session.scalars(query.order_by(col(PasswordReset.id).desc())).first()
    if reset is None:
        return None
    expected = _code_digest(policy, user.id, code)
    return reset if hmac.compare_digest(reset.code_hash, expected) else None
