"""Identity tables: users, login attempts (brute-force counting), web sessions."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class Role(StrEnum):
    buyer = "buyer"
    farmer = "farmer"
    manager = "manager"
    staff = "staff"
    admin = "admin"
    auditor = "auditor"  # a township government or funder auditor: reads what staff read, no writes
    social_worker = "social_worker"  # from a partner institution: assigned households' plans


STAFF_ROLES = frozenset({Role.staff, Role.admin})
# Who may read everything staff may read (the auditor only with safe methods: GET, HEAD).
READ_ALL_ROLES = STAFF_ROLES | {Role.auditor}


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    coop_id: int | None = Field(default=None)
    household_id: int | None = Field(default=None)
    is_active: bool = Field(default=True)
    # The language messages are written in ("zh-CN" or "en"); None: the site's default.
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class LoginAttempt(SQLModel, table=True):
    """One row per failed login, counted in the database so the limit holds across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_attempted_at", "email", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    attempted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class LoginThrottle(SQLModel, table=True):
    """Sign-in checks claimed in the current window for one limited key (an account from an
    address, an address, an account). Claimed by one conditional upsert, so concurrent requests
    can never check more passwords than the limit (api/login_limits.py)."""

    __tablename__ = "login_throttles"

    key: str = Field(primary_key=True, max_length=400)
    window_started: int = Field(sa_column=Column(BigInteger(), nullable=False))  # unix seconds
    checks: int


class WebSession(SQLModel, table=True):
    """A browser sign-in; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
