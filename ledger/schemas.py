"""Ledger request and response shapes (see docs/api.md, "Ledger"): integer amounts only."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ledger.models import AccountLimit, AccountType, Side


class Money(BaseModel):
    amount: int
    currency: str


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=3, max_length=255)
    type: AccountType
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    name: str = Field(default="", max_length=255)
    limit: AccountLimit = AccountLimit.none
    party: str | None = Field(default=None, max_length=255)


class AccountRead(BaseModel):
    key: str
    type: AccountType
    currency: str
    name: str
    limit: AccountLimit
    balance: Money


class AccountPage(BaseModel):
    items: list[AccountRead]
    next_cursor: str | None = None


class PostingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, max_length=255)
    side: Side
    # StrictInt: 10.0, "10" and true are refused, so money never passes through a float.
    amount: StrictInt = Field(gt=0, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="adjustment", pattern=r"^[a-z][a-z0-9_\-]{0,31}$")
    effective_date: date
    memo: str = Field(default="", max_length=1000)
    reference: str | None = Field(default=None, max_length=255)
    metadata: dict[str, Any] = Field(default_factory=dict)
    postings: list[PostingCreate] = Field(min_length=2, max_length=1000)


class PostingRead(BaseModel):
    account: str
    side: Side
    amount: int
    currency: str


class EntryRead(BaseModel):
    id: int
    kind: str
    effective_date: date
    memo: str
    reference: str | None
    postings: list[PostingRead]
    reversed_by: int | None
    reverses: int | None
    created_at: datetime


class EntryReverse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memo: str = Field(default="", max_length=1000)


class BalanceRead(BaseModel):
    account: str
    balance: Money
    debits: int
    credits: int
    as_of: date | None


class StatementLineRead(BaseModel):
    entry_id: int
    effective_date: date
    side: Side
    amount: int
    running_balance: int
    memo: str


class StatementPage(BaseModel):
    items: list[StatementLineRead]
    next_cursor: str | None = None


class TrialBalanceAccount(BaseModel):
    key: str
    type: AccountType
    currency: str
    debits: int
    credits: int
    balance: int


class TrialBalanceTotal(BaseModel):
    currency: str
    debits: int
    credits: int


class TrialBalanceRead(BaseModel):
    as_of: date | None
    accounts: list[TrialBalanceAccount]
    totals: list[TrialBalanceTotal]


class PeriodRead(BaseModel):
    period: str
    closed_at: datetime
    closed_by: str | None
    reason: str = ""


class PeriodReopen(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, examples=["2026-11 closed by mistake"])


class PeriodEventRead(BaseModel):
    """A close or a reopening of a month: who, when, why."""

    id: int
    period: str
    action: Literal["close", "reopen"]
    at: datetime
    by: str | None
    reason: str


class VerifyRead(BaseModel):
    ok: bool
    sealed_entries: int
    blocks: int
    unsealed_entries: int
    first_mismatch: dict[str, Any] | None
    unbalanced_entries: list[dict[str, Any]]
    content_mismatches: list[int]
