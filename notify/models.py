"""Outbox tables: one row per (event, recipient, channel), and each user's channel choices.

An inbox row is "sent" when recorded (the inbox is this table); e-mail and SMS rows wait as
`pending` until the delivery job sends them, retries them with backoff, and gives up (`dead`)
or finds the address unusable (`failed`).
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class Channel(StrEnum):
    email = "email"
    sms = "sms"
    inbox = "inbox"


class Status(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # the address is unusable (SMTP 5xx, a refused number): not retried
    dead = "dead"  # kept failing: waits for staff to retry it


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_key", "recipient_key", "channel"),
        CheckConstraint("channel IN ('email', 'sms', 'inbox')", name="channel_known"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'dead')", name="status_known"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_user_id_channel_read_at", "user_id", "channel", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    event_key: str = Field(max_length=120)
    recipient_key: str = Field(max_length=300)  # "user:12", "email:a@b.cn", "phone:139…"
    user_id: int | None = Field(default=None)
    channel: str = Field(max_length=8)
    address: str = Field(default="", max_length=254)  # e-mail address or phone; "" for inbox
    language: str = Field(max_length=8)
    payload: str = Field(sa_column=Column(Text(), nullable=False))  # JSON
    status: str = Field(default=Status.pending.value, max_length=8)
    attempts: int = Field(default=0)
    # A crash between sending and marking leaves a claim that expires; the row is then sent again
    # with the same idempotency key (the e-mail Message-ID, the SMS OutId) and counted here
    # (only when that send had started: see sending_at).
    reclaims: int = Field(default=0)
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set (and committed) just before a send, cleared when the outcome is marked: a row found
    # with it set was possibly sent by a worker that died before marking it.
    sending_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str = Field(default="", max_length=500)
    idempotency_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class NotificationPreference(SQLModel, table=True):
    """A user's choice for one kind of message on one channel (absent: the kind's default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=8)
    enabled: bool
