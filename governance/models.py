"""Governance tables: published disclosures, household monitoring (off-platform income, alerts,
case notes, the line), share-rule hearings with comments and votes, and buyers' ratings.

A published disclosure is append-only: the migration installs database triggers that refuse
UPDATE and DELETE on `governance_disclosures` (as the ledger's own tables do).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Date, Index, Text, text
from sqlalchemy import UniqueConstraint as Unique
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow
from ledger.share_rules import part_columns, sums_to_10000


def _ts() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=False)


def _opt_ts() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=True)


# --- Disclosures ----------------------------------------------------------------------------


class Disclosure(SQLModel, table=True):
    """A cooperative's monthly report as published: its content, the content's hash, the seal."""

    __tablename__ = "governance_disclosures"
    __table_args__ = (Unique("coop_id", "period", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    period: str = Field(max_length=7)  # YYYY-MM
    currency: str = Field(max_length=3)
    content: dict[str, Any] = Field(sa_column=Column(JSON(), nullable=False))
    content_hash: str = Field(max_length=64)
    # The ledger seal block the report was computed at (None only when the ledger was empty).
    seal_block_id: int | None = Field(default=None)
    seal_hash: str | None = Field(default=None, max_length=64)
    sealed_through_entry: int | None = Field(default=None, sa_type=BigInteger)
    period_closed: bool = Field(default=False)
    published_by: str = Field(max_length=80)
    published_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- Household monitoring -------------------------------------------------------------------


class LineKind(StrEnum):
    absolute = "absolute"  # multiplier × a poverty line (per person per year)
    relative = "relative"  # a share of the median per-capita income of all member households


class MonitoringConfig(SQLModel, table=True):
    """The one row (id 1) of monitoring settings; defaults apply while it does not exist."""

    __tablename__ = "governance_monitoring_config"
    __table_args__ = (
        CheckConstraint("line_kind IN ('absolute', 'relative')", name="line_kind_known"),
        CheckConstraint("poverty_line >= 0", name="poverty_line_non_negative"),
        CheckConstraint("multiplier_bp > 0 AND relative_bp > 0", name="factors_positive"),
        CheckConstraint("drop_bp > 0 AND drop_bp <= 10000", name="drop_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    line_kind: str = Field(default=LineKind.absolute.value, max_length=10)
    # Annual per-person amount in minor units (e.g. 4,000 CNY a year = 400000 fen).
    poverty_line: int = Field(default=400_000, sa_column=Column(BigInteger(), nullable=False))
    multiplier_bp: int = Field(default=15_000)  # 1.5 × the poverty line
    relative_bp: int = Field(default=5_000)  # 50 % of the median
    drop_bp: int = Field(default=3_000)  # a fall of 30 % or more
    currency: str = Field(default="CNY", max_length=3)
    updated_by: str = Field(default="", max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OffPlatformIncome(SQLModel, table=True):
    """Income a household earned outside the platform, recorded by a social worker, with a source."""

    __tablename__ = "governance_off_platform_income"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    received_on: date = Field(sa_column=Column(Date(), nullable=False))
    source: str = Field(max_length=200)
    note: str = Field(default="", max_length=500)
    recorded_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AlertReason(StrEnum):
    below_line = "below_line"
    income_drop = "income_drop"


class AlertStatus(StrEnum):
    open = "open"
    closed = "closed"


class Alert(SQLModel, table=True):
    """A household at risk, for one reason; one open alert per household and reason."""

    __tablename__ = "governance_alerts"
    __table_args__ = (
        CheckConstraint("reason IN ('below_line', 'income_drop')", name="reason_known"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        Index(
            "uq_governance_alerts_open_household_reason",
            "household_id",
            "reason",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    reason: str = Field(max_length=16)
    status: str = Field(default=AlertStatus.open.value, max_length=8, index=True)
    detail: str = Field(max_length=500)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON(), nullable=False))
    as_of: date = Field(sa_column=Column(Date(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_opt_ts())
    closed_by: str | None = Field(default=None, max_length=80)
    outcome: str = Field(default="", max_length=1000)


class CaseNote(SQLModel, table=True):
    """A social worker's note on an alert (staff only, never public)."""

    __tablename__ = "governance_case_notes"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="governance_alerts.id", index=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    body: str = Field(sa_column=Column(Text(), nullable=False))
    author: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- Hearings -------------------------------------------------------------------------------


class HearingStatus(StrEnum):
    comment = "comment"  # members comment on the proposal
    voting = "voting"  # one vote per household
    adopted = "adopted"
    rejected = "rejected"


class Hearing(part_columns(), table=True):  # type: ignore[misc,call-arg]
    """A proposal to change a cooperative's share rule, heard and voted on by its households: the
    proposed parts in a column per share part (`ledger.share_rules.SHARE_PARTS`)."""

    __tablename__ = "governance_hearings"
    __table_args__ = (
        CheckConstraint(sums_to_10000(), name="parts_sum_to_10000"),
        CheckConstraint(
            "status IN ('comment', 'voting', 'adopted', 'rejected')", name="status_known"
        ),
        CheckConstraint("quorum_bp >= 0 AND quorum_bp <= 10000", name="quorum_range"),
        CheckConstraint("majority_bp >= 0 AND majority_bp < 10000", name="majority_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    fee_bearer: str = Field(default="enterprise", max_length=16)
    reason: str = Field(sa_column=Column(Text(), nullable=False))
    effective_from: date = Field(sa_column=Column(Date(), nullable=False))
    comment_until: date = Field(sa_column=Column(Date(), nullable=False))
    vote_until: date = Field(sa_column=Column(Date(), nullable=False))
    quorum_bp: int = Field(default=5_000)  # votes cast / eligible households
    majority_bp: int = Field(default=5_000)  # yes must be more than this share of yes + no
    status: str = Field(default=HearingStatus.comment.value, max_length=10)
    proposed_by: str = Field(max_length=80)
    tally: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON(), nullable=False))
    share_rule_id: int | None = Field(default=None, foreign_key="share_rules.id")
    adopted_from: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    voting_started_at: datetime | None = Field(default=None, sa_column=_opt_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_opt_ts())


class HearingComment(SQLModel, table=True):
    __tablename__ = "governance_hearing_comments"
    __table_args__ = (Unique("hearing_id", "household_id"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="governance_hearings.id", index=True)
    household_id: int = Field(foreign_key="households.id")
    user_id: int = Field(foreign_key="users.id")
    body: str = Field(sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class VoteChoice(StrEnum):
    yes = "yes"
    no = "no"
    abstain = "abstain"


class HearingVote(SQLModel, table=True):
    __tablename__ = "governance_hearing_votes"
    __table_args__ = (
        Unique("hearing_id", "household_id"),
        CheckConstraint("choice IN ('yes', 'no', 'abstain')", name="choice_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="governance_hearings.id", index=True)
    household_id: int = Field(foreign_key="households.id")
    user_id: int = Field(foreign_key="users.id")
    choice: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- Feedback -------------------------------------------------------------------------------


class Rating(SQLModel, table=True):
    """A buyer's rating of one delivered order line (once); a manager may hide its comment."""

    __tablename__ = "governance_ratings"
    __table_args__ = (
        Unique("order_line_id"),
        CheckConstraint("stars >= 1 AND stars <= 5", name="stars_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_line_id: int = Field(foreign_key="order_lines.id")
    order_id: int = Field(foreign_key="orders.id", index=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    buyer_user_id: int = Field(foreign_key="users.id", index=True)
    stars: int
    comment: str = Field(default="", max_length=1000)
    hidden: bool = Field(default=False)
    hidden_reason: str = Field(default="", max_length=500)
    hidden_by: str | None = Field(default=None, max_length=80)
    hidden_at: datetime | None = Field(default=None, sa_column=_opt_ts())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RatingLot(SQLModel, table=True):
    """Which lots a rated line was sold from (so lot pages show their ratings)."""

    __tablename__ = "governance_rating_lots"

    rating_id: int = Field(foreign_key="governance_ratings.id", primary_key=True)
    lot_id: int = Field(foreign_key="lots.id", primary_key=True)


__all__ = [
    "Alert",
    "AlertReason",
    "AlertStatus",
    "CaseNote",
    "Disclosure",
    "Hearing",
    "HearingComment",
    "HearingStatus",
    "HearingVote",
    "LineKind",
    "MonitoringConfig",
    "OffPlatformIncome",
    "Rating",
    "RatingLot",
    "VoteChoice",
]
