"""Refund requests tables: a buyer's request for money back, and the lines it names.

A request is `open` until staff approve it (it then points at the refund it produced) or decline
it (with a reason the buyer reads). A partial unique index keeps at most one open request per
order; the check constraints keep an approved request linked and a declined one explained.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow

REASON_MAX = 1000


class RefundRequestStatus(StrEnum):
    open = "open"
    approved = "approved"
    declined = "declined"


class RefundRequestScope(StrEnum):
    whole_order = "whole_order"  # everything still refundable when staff approve
    amount = "amount"  # an amount, spread over the lines as a staff refund would
    lines = "lines"  # chosen lines, an amount each (see RefundRequestLine)


_OPEN = text("status = 'open'")


class RefundRequest(SQLModel, table=True):
    __tablename__ = "order_refund_requests"
    __table_args__ = (
        Index(
            "uq_order_refund_requests_open_order_id",
            "order_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('open', 'approved', 'declined')", name="status_known"),
        CheckConstraint("scope IN ('whole_order', 'amount', 'lines')", name="scope_known"),
        CheckConstraint(
            "status <> 'approved' OR refund_id IS NOT NULL", name="approved_has_refund"
        ),
        CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"
        ),
        CheckConstraint(
            "requested_by_user_id IS NOT NULL OR requested_by = 'guest'", name="who_asked"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    status: str = Field(default=RefundRequestStatus.open.value, max_length=10, index=True)
    scope: str = Field(max_length=12)
    # What was asked when the request was made (for whole_order: what was refundable then).
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=REASON_MAX)
    requested_by: str = Field(max_length=80)  # "user:12" or "guest" (the signed order link)
    requested_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    decided_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    decline_reason: str | None = Field(default=None, max_length=REASON_MAX)
    refund_id: int | None = Field(default=None, foreign_key="order_refunds.id")


class RefundRequestLine(SQLModel, table=True):
    """One line a request names, with the amount asked back on it."""

    __tablename__ = "order_refund_request_lines"
    __table_args__ = (
        UniqueConstraint("request_id", "line_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="order_refund_requests.id", index=True, ondelete="CASCADE")
    line_id: int = Field(foreign_key="order_lines.id", index=True)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))


def mark_decided(
    request: RefundRequest, to: RefundRequestStatus, decided_by_user_id: int | None
) -> None:
    """Record a decision on an open request (by staff, or by the refund that made it moot)."""
    request.status = to.value
    request.decided_by_user_id = decided_by_user_id
    request.decided_at = utcnow()
