"""Orders tables: orders, lines, lot reservations, status history, payments, webhook inbox, refunds, share rules.

Money columns are integer minor units with the order's currency. Payment status is never stored
on the order: it is derived from the payment rows' amounts (authorized, captured, refunded).
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow
from ledger.share_rules import part_columns, sums_to_10000
from orders.payment_methods import KEY_MAX_LENGTH


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    settled = "settled"
    expired = "expired"
    cancelled = "cancelled"
    refunded = "refunded"
    partially_refunded = "partially_refunded"


class Provider(StrEnum):
    manual = "manual"
    stripe = "stripe"


class PaymentStatus(StrEnum):
    pending = "pending"  # waiting for the buyer (Stripe) or for the money (manual)
    succeeded = "succeeded"
    failed = "failed"


class ReservationState(StrEnum):
    reserved = "reserved"
    sold = "sold"
    released = "released"


def _money() -> Column[int]:
    return Column(BigInteger(), nullable=False, default=0)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("idempotency_scope", "idempotency_key"),
        CheckConstraint("total_amount > 0", name="total_positive"),
        CheckConstraint(
            "buyer_user_id IS NOT NULL OR guest_email IS NOT NULL", name="buyer_or_guest"
        ),
        Index("ix_orders_status_reserved_until", "status", "reserved_until"),
        Index("ix_orders_status_client_address", "status", "client_address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=OrderStatus.pending_payment.value, max_length=20, index=True)
    buyer_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    guest_email: str | None = Field(default=None, max_length=254)
    access_nonce: str = Field(max_length=32)  # signs the guest link; see orders/access.py
    recipient: str = Field(max_length=100)
    phone: str = Field(max_length=30)
    province: str = Field(max_length=50)
    city: str = Field(max_length=50)
    district: str = Field(max_length=50)
    street: str = Field(max_length=200)
    note: str = Field(default="", max_length=500)
    payment_method: str = Field(max_length=KEY_MAX_LENGTH)  # orders/payment_methods.py
    reference_code: str = Field(max_length=20, unique=True)  # shown for bank transfers
    currency: str = Field(max_length=3)
    total_amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    idempotency_scope: str = Field(max_length=40)
    idempotency_key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    reserved_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # The address the order was placed from (caps on open unpaid orders per client).
    client_address: str | None = Field(default=None, max_length=64)
    flagged: bool = Field(default=False)
    flag_reason: str = Field(default="", max_length=500)
    settlement_entry_id: int | None = Field(default=None, sa_column=Column(BigInteger()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    shipped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class OrderLine(part_columns("rule_"), table=True):  # type: ignore[misc,call-arg]
    """One product in an order, with its price and its cooperative's share rule as they were."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        CheckConstraint(sums_to_10000("rule_"), name="rule_sums_to_10000"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="products.id", index=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    product_name_zh: str = Field(max_length=200)
    product_name_en: str = Field(default="", max_length=200)
    unit: str = Field(max_length=8)
    quantity: int
    unit_price: int = Field(sa_column=Column(BigInteger(), nullable=False))
    line_total: int = Field(sa_column=Column(BigInteger(), nullable=False))
    share_rule_id: int | None = Field(default=None, foreign_key="share_rules.id")
    # rule_{part} per share part (ledger.share_rules.SHARE_PARTS), from part_columns("rule_")
    rule_fee_bearer: str = Field(default="enterprise", max_length=16)
    carrier: str | None = Field(default=None, max_length=50)
    tracking_number: str | None = Field(default=None, max_length=60)
    shipped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    refunded_amount: int = Field(default=0, sa_column=_money())
    refunded_settled_amount: int = Field(default=0, sa_column=_money())


class LotReservation(SQLModel, table=True):
    """How many units of one lot a line holds (reserved, then sold, or released)."""

    __tablename__ = "order_lot_reservations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    line_id: int = Field(foreign_key="order_lines.id", index=True, ondelete="CASCADE")
    lot_id: int = Field(foreign_key="lots.id", index=True)
    quantity: int
    state: str = Field(default=ReservationState.reserved.value, max_length=10)


class OrderEvent(SQLModel, table=True):
    """The status history: every transition with who and when."""

    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    actor: str = Field(max_length=80)  # "user:12", "guest", "system", "stripe"
    note: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Payment(SQLModel, table=True):
    """One payment attempt.

    A manual payment recorded under an Idempotency-Key keeps the key (unique per order) and the
    hash of the request's body, so a retry answers with this row and a reused key is refused.
    """

    __tablename__ = "order_payments"
    __table_args__ = (
        # A unique index rather than a table constraint: SQLite adds it without rebuilding the
        # table (which order_refunds references). NULL keys (no Idempotency-Key) never collide.
        Index(
            "uq_order_payments_order_id_idempotency_key",
            "order_id",
            "idempotency_key",
            unique=True,
        ),
        CheckConstraint(
            "amount_authorized >= 0 AND amount_captured >= 0 AND amount_refunded >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint("amount_refunded <= amount_captured", name="not_over_refunded"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    provider: str = Field(max_length=10)
    method: str = Field(max_length=20)
    status: str = Field(default=PaymentStatus.pending.value, max_length=12)
    currency: str = Field(max_length=3)
    amount_authorized: int = Field(default=0, sa_column=_money())
    amount_captured: int = Field(default=0, sa_column=_money())
    amount_refunded: int = Field(default=0, sa_column=_money())
    reference: str = Field(default="", max_length=100)
    payment_intent_id: str | None = Field(default=None, max_length=100, unique=True)
    client_secret: str | None = Field(default=None, max_length=200)
    failure_message: str | None = Field(default=None, max_length=500)
    recorded_by: str = Field(max_length=80)
    ledger_entry_id: int | None = Field(default=None, sa_column=Column(BigInteger()))
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class WebhookEvent(SQLModel, table=True):
    """The inbox: each incoming Stripe webhook event stored once by its id, stamped when handled."""

    __tablename__ = "payment_webhook_events"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(default=Provider.stripe.value, max_length=10)
    event_id: str = Field(max_length=100, unique=True)
    type: str = Field(max_length=100)
    payload: str = Field(sa_column=Column(Text(), nullable=False))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Refund(SQLModel, table=True):
    __tablename__ = "order_refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    payment_id: int = Field(foreign_key="order_payments.id", index=True)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    reason: str = Field(default="", max_length=500)
    reference: str = Field(default="", max_length=100)
    provider_refund_id: str | None = Field(default=None, max_length=100)
    after_settlement: bool = Field(default=False)
    idempotency_key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ShareRule(part_columns(), table=True):  # type: ignore[misc,call-arg]
    """One version of a cooperative's share rule (basis points summing to 10,000): a column per
    share part (`ledger.share_rules.SHARE_PARTS`) from `part_columns()`."""

    __tablename__ = "share_rules"
    __table_args__ = (
        UniqueConstraint("coop_id", "version"),
        CheckConstraint(sums_to_10000(), name="parts_sum_to_10000"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    version: int
    effective_from: date = Field(sa_column=Column(Date(), nullable=False))
    fee_bearer: str = Field(default="enterprise", max_length=16)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
