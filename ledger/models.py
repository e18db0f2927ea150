"""Ledger tables: accounts, append-only journal entries and postings, period closes and
reopenings, seal blocks.

A posting's `amount` is signed in integer minor units: debits positive, credits negative, so a
balance is one SUM and an entry balances when its amounts sum to zero per currency.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AccountType(StrEnum):
    asset = "asset"
    liability = "liability"
    equity = "equity"
    income = "income"
    expense = "expense"


class AccountLimit(StrEnum):
    none = "none"
    non_negative = "non_negative"


class Side(StrEnum):
    debit = "debit"
    credit = "credit"


DEBIT_NORMAL = frozenset({AccountType.asset, AccountType.expense})


def normal_sign(account_type: str) -> int:
    """+1 when the account's balance grows with debits (assets, expenses), else -1."""
    return 1 if account_type in DEBIT_NORMAL else -1


class Account(SQLModel, table=True):
    __tablename__ = "ledger_accounts"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    type: str = Field(max_length=16)
    currency: str = Field(max_length=3)
    name: str = Field(default="", max_length=255)
    limit: str = Field(default=AccountLimit.none.value, max_length=16)
    party: str | None = Field(default=None, max_length=255, index=True)
    is_open: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )

    @property
    def normal_sign(self) -> int:
        return normal_sign(self.type)


class JournalEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    kind: str = Field(max_length=32)
    effective_date: date = Field(sa_column=Column(Date(), nullable=False))
    memo: str = Field(default="", max_length=1000)
    reference: str | None = Field(default=None, max_length=255, index=True)
    # "metadata" is reserved by SQLAlchemy's declarative base; the column keeps the plain name.
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON(), nullable=False)
    )
    idempotency_key: str = Field(max_length=255, unique=True)
    content_hash: str = Field(max_length=64)
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    reverses_id: int | None = Field(
        default=None, foreign_key="ledger_entries.id", unique=True, sa_type=BigInteger
    )


class Posting(SQLModel, table=True):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # Balance, as-of and statement reads are index range scans on this.
        Index("ix_ledger_postings_account_date_entry", "account_id", "effective_date", "entry_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    entry_id: int = Field(foreign_key="ledger_entries.id", index=True, sa_type=BigInteger)
    account_id: int = Field(foreign_key="ledger_accounts.id")
    # Copied from the entry so as-of reads never join entries.
    effective_date: date = Field(sa_column=Column(Date(), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    # Attribution: opaque keys of whom the money belongs to, decided by the posting domain (the
    # cooperative, household and order line of a sale's share), so reports sum by key and never
    # apportion after the fact. Not part of the entry's content hash.
    coop_id: int | None = Field(default=None, index=True)
    household_id: int | None = Field(default=None, index=True)
    order_line_id: int | None = Field(default=None, index=True)

    @property
    def side(self) -> Side:
        return Side.debit if self.amount > 0 else Side.credit

    @property
    def magnitude(self) -> int:
        return abs(self.amount)


class PeriodAction(StrEnum):
    close = "close"
    reopen = "reopen"


class PeriodEvent(SQLModel, table=True):
    """One close or reopen of a month `YYYY-MM`, appended, never changed or deleted.

    A month is closed while its latest event is a close; entries dated in a closed month, or in
    any month before it, are refused. The id orders events (a later id is a later decision).
    """

    __tablename__ = "ledger_period_events"
    __table_args__ = (
        CheckConstraint("action IN ('close', 'reopen')", name="action_known"),
        Index("ix_ledger_period_events_period_id", "period", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    action: str = Field(max_length=8)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    by: str | None = Field(default=None, max_length=255)
    reason: str = Field(default="", max_length=1000)


class SealBlock(SQLModel, table=True):
    """One link of the hash chain: hash = sha256(prev_hash + its entries' hashes in id order)."""

    __tablename__ = "ledger_seal_blocks"

    id: int | None = Field(default=None, primary_key=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    entry_count: int
    first_entry_id: int = Field(sa_type=BigInteger)
    last_entry_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class SealedEntry(SQLModel, table=True):
    """Membership of an entry in a block, with the entry's canonical hash at sealing time."""

    __tablename__ = "ledger_sealed_entries"

    entry_id: int = Field(
        sa_column=Column(
            BigId, ForeignKey("ledger_entries.id"), primary_key=True, autoincrement=False
        ),
    )
    block_id: int = Field(foreign_key="ledger_seal_blocks.id", index=True)
    entry_hash: str = Field(max_length=64)


__all__ = [
    "Account",
    "AccountLimit",
    "AccountType",
    "PeriodAction",
    "PeriodEvent",
    "JournalEntry",
    "Posting",
    "SealBlock",
    "SealedEntry",
    "Side",
    "normal_sign",
]
