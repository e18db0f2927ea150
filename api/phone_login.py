"""Signing in with a mainland mobile number instead of an e-mail address.

Many rural members are known by their phone number, not an e-mail address. An admin records a
user's mobile number (`PUT /api/v1/users/{id}/phone`); the token route and the login page then
accept that number (spaces, dashes and a +86 / 0086 prefix allowed) wherever an e-mail address is
asked for. The brute-force limit counts against the account the number belongs to.
"""

import re

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, Session, SQLModel, col, select

from api.models import User
from core.errors import Conflict, Invalid, NotFound

MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()]")


class UserPhone(SQLModel, table=True):
    """A user's mainland mobile number for signing in (one per user, one user per number)."""

    __tablename__ = "user_phones"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), primary_key=True))
    phone: str = Field(max_length=11, unique=True)


class PhoneTaken(Conflict):
    type_slug = "phone-taken"


def normalize_mobile(text: str) -> str | None:
    """'+86 139-1111-0001' → '13911110001'; None when it is not a mainland mobile number."""
    digits = _SEPARATORS.sub("", text.strip())
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits if MAINLAND_MOBILE.fullmatch(digits) else None


def login_email(session: Session, name: str) -> str:
    """The e-mail address to sign in with: a known mobile number's user's, else `name` itself."""
    phone = normalize_mobile(name)
    if phone is None:
        return name
    query = select(User.email).join(UserPhone, col(UserPhone.user_id) == User.id)
    email = session.scalars(query.where(col(UserPhone.phone) == phone)).first()
    return email if email is not None else name


def set_phone(session: Session, *, user_id: int, phone_text: str) -> str:
    if session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id}.")
    phone = normalize_mobile(phone_text)
    if phone is None:
        raise Invalid(
            "Not a mainland mobile number (11 digits starting 13-19).",
            errors=[{"loc": ["body", "phone"], "msg": "not a mainland mobile number"}],
        )
    owner = session.scalars(select(UserPhone).where(col(UserPhone.phone) == phone)).first()
    if owner is not None and owner.user_id != user_id:
        raise PhoneTaken(f"The number {phone} already belongs to another user.")
    row = session.get(UserPhone, user_id) or UserPhone(user_id=user_id, phone=phone)
    row.phone = phone
    session.add(row)
    session.flush()
    return phone
