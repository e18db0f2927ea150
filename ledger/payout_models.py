"""Tables of the payout and reconciliation policy: batches, statement lines, matches, explanations.

Households and cooperatives are known here only by opaque integer ids (no foreign keys into other
domains): the ledger imports no domain. Bank statements and Stripe balance transactions are both
"statement lines" of an external source against one ledger account.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class BatchStatus(StrEnum):
    open = "open"  # some lines still pending
    done = "done"  # every line paid or failed


class PayoutLineStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    failed = "failed"


class LineState(StrEnum):
    unmatched = "unmatched"
    matched = "matched"
    explained = "explained"


class PayoutBatch(SQLModel, table=True):
    __tablename__ = "payout_batches"
    __table_args__ = (
        UniqueConstraint("coop_id", "period", "currency"),
        CheckConstraint("minimum_amount >= 0", name="minimum_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(index=True)
    period: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    minimum_amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    effective_date: date = Field(sa_column=Column(Date(), nullable=False))
    status: str = Field(default=BatchStatus.open.value, max_length=8)
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class PayoutLine(SQLModel, table=True):
    __tablename__ = "payout_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "household_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'paid', 'failed')", name="status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="payout_batches.id", index=True)
    household_id: int = Field(index=True)
    payable_account: str = Field(max_length=255)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=PayoutLineStatus.pending.value, max_length=8)
    hold_entry_id: int = Field(sa_type=BigInteger)
    paid_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    failed_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    bank_reference: str | None = Field(default=None, max_length=100)
    failure_reason: str = Field(default="", max_length=500)
    paid_on: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # The payee as it was when the batch was made: the bank file pays this, never the household's
    # current details, so an edit after the batch cannot redirect the money.
    payee_member_code: str = Field(default="", max_length=20)
    payee_name: str = Field(default="", max_length=100)
    payee_method: str = Field(default="", max_length=16)
    payee_account: str = Field(default="", max_length=100)
    # A change of the household's payout details made while this line was pending: held until
    # staff accept it (an opaque id of the domain's history row; the ledger imports no domain).
    held_change_id: int | None = Field(default=None)
    payee_accepted_by: str | None = Field(default=None, max_length=255)
    payee_accepted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class Statement(SQLModel, table=True):
    """One imported file (or one Stripe sync run); stored once per file hash."""

    __tablename__ = "bank_statements"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # bank | stripe
    account_key: str = Field(max_length=255)
    file_hash: str = Field(max_length=64, unique=True)
    filename: str = Field(default="", max_length=255)
    encoding: str = Field(default="", max_length=16)
    preset: str = Field(  # the layout the file was read with
        default="", max_length=64, sa_column_kwargs={"server_default": ""}
    )
    line_count: int = Field(default=0)
    imported_by: str | None = Field(default=None, max_length=255)
    imported_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class StatementLine(SQLModel, table=True):
    """A line of an external statement; `amount` is signed as the account moves (in > 0, out < 0)."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_bank_statement_lines_account_booked", "account_key", "booked_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="bank_statements.id", index=True)
    account_key: str = Field(max_length=255)
    line_no: int
    booked_on: date = Field(sa_column=Column(Date(), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=255, index=True)
    counterparty: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=500)
    # sha256 of (account, date, amount, currency, reference, counterparty, description, ordinal
    # among identical lines): the same line imported from two files is stored once.
    line_hash: str = Field(max_length=64, unique=True)
    state: str = Field(default=LineState.unmatched.value, max_length=10)
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON(), nullable=False)
    )


class Match(SQLModel, table=True):
    """A group of statement lines and ledger postings that are the same money."""

    __tablename__ = "bank_matches"

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=255, index=True)
    rule: str = Field(max_length=16)  # reference | amount_date | batch | manual | adjustment
    reason: str = Field(default="", max_length=500)
    active: bool = Field(default=True)
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    undone_by: str | None = Field(default=None, max_length=255)
    undone_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    undo_reason: str = Field(default="", max_length=500)


class MatchItem(SQLModel, table=True):
    """One side of a match: a statement line or a ledger posting (exactly one is set)."""

    __tablename__ = "bank_match_items"
    __table_args__ = (
        CheckConstraint("(statement_line_id IS NULL) <> (posting_id IS NULL)", name="one_side"),
        # While its match is active, a line or a posting belongs to one match only.
        Index(
            "uq_bank_match_items_active_line",
            "statement_line_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index(
            "uq_bank_match_items_active_posting",
            "posting_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="bank_matches.id", index=True)
    statement_line_id: int | None = Field(default=None, foreign_key="bank_statement_lines.id")
    posting_id: int | None = Field(
        default=None, foreign_key="ledger_postings.id", sa_type=BigInteger
    )
    active: bool = Field(default=True)


class Explanation(SQLModel, table=True):
    """Why an unmatched item is not a difference (e.g. a payout in transit), signed by staff."""

    __tablename__ = "reconciliation_explanations"
    __table_args__ = (
        CheckConstraint("(statement_line_id IS NULL) <> (posting_id IS NULL)", name="one_side"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=255, index=True)
    period: str = Field(max_length=7)
    statement_line_id: int | None = Field(default=None, foreign_key="bank_statement_lines.id")
    posting_id: int | None = Field(
        default=None, foreign_key="ledger_postings.id", sa_type=BigInteger
    )
    reason: str = Field(max_length=500)
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class SyncState(SQLModel, table=True):
    """Where the last sync of an external source stopped (Stripe: the newest `created` seen)."""

    __tablename__ = "external_sync_state"

    source: str = Field(primary_key=True, max_length=32)
    cursor_created: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    synced_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class StripeTransaction(SQLModel, table=True):
    """A Stripe balance transaction, stored once by its id, with what the ledger made of it."""

    __tablename__ = "stripe_balance_transactions"

    id: int | None = Field(default=None, primary_key=True)
    stripe_id: str = Field(max_length=64, unique=True)
    type: str = Field(max_length=32)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    fee: int = Field(sa_column=Column(BigInteger(), nullable=False))
    net: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    created: int = Field(sa_column=Column(BigInteger(), nullable=False))
    source_id: str = Field(default="", max_length=64)
    payment_intent_id: str = Field(default="", max_length=64, index=True)
    matched_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    posted_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    synced_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


__all__ = [
    "BatchStatus",
    "Explanation",
    "LineState",
    "Match",
    "MatchItem",
    "PayoutBatch",
    "PayoutLine",
    "PayoutLineStatus",
    "Statement",
    "StatementLine",
    "StripeTransaction",
    "SyncState",
]
