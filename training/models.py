"""Training tables: providers, programmes and their sessions, enrolments with their history,
attendance, and tuition deductions.

Seats are a counter on the programme moved by one conditional UPDATE (training/enrolments.py),
backed by a CHECK `seats_taken <= capacity`, so concurrent accepts can never overbook.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class SkillArea(StrEnum):
    ecommerce = "ecommerce"
    organic_farming = "organic_farming"
    beekeeping = "beekeeping"
    processing = "processing"
    bookkeeping = "bookkeeping"
    other = "other"


class ProgrammeStatus(StrEnum):
    draft = "draft"  # only staff see it
    open = "open"  # taking applications
    closed = "closed"  # no new applications; enrolments go on
    finished = "finished"
    cancelled = "cancelled"


class FundingSource(StrEnum):
    coop_fund = "coop_fund"  # equity:coops:{id}:training-fund
    enterprise = "enterprise"  # expenses:training:enterprise-funded


class Eligibility(StrEnum):
    open = "open"
    coops = "coops"  # members of the programme's named cooperatives


class EnrolmentStatus(StrEnum):
    applied = "applied"
    accepted = "accepted"
    attending = "attending"
    completed = "completed"
    dropped = "dropped"


class Repayment(StrEnum):
    fund = "fund"  # the funding source pays the seat
    deduction = "deduction"  # the fund advances it, the household repays from future shares


def _now() -> datetime:
    return utcnow()


class TrainingProvider(SQLModel, table=True):
    __tablename__ = "training_providers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    contact: str = Field(default="", max_length=200)
    currency: str = Field(max_length=3)
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Programme(SQLModel, table=True):
    __tablename__ = "training_programmes"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("seat_cost >= 0", name="seat_cost_non_negative"),
        CheckConstraint(
            "deduction_cap_bps IS NULL OR (deduction_cap_bps >= 1 AND deduction_cap_bps <= 10000)",
            name="deduction_cap_range",
        ),
        CheckConstraint("min_attendance >= 0", name="min_attendance_non_negative"),
        CheckConstraint("funding_source IN ('coop_fund', 'enterprise')", name="funding_known"),
        CheckConstraint("eligibility IN ('open', 'coops')", name="eligibility_known"),
        CheckConstraint(
            "status IN ('draft', 'open', 'closed', 'finished', 'cancelled')", name="status_known"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="training_providers.id", index=True)
    title_zh: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    description_en: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    skill_area: str = Field(max_length=32)
    capacity: int
    seats_taken: int = Field(default=0)
    seat_cost: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    funding_source: str = Field(max_length=16)
    # For coop_fund: this cooperative's fund pays; None = each member's own cooperative's fund.
    funding_coop_id: int | None = Field(default=None, foreign_key="coops.id")
    eligibility: str = Field(default=Eligibility.open.value, max_length=8)
    deduction_cap_bps: int | None = Field(default=None)
    min_attendance: int = Field(default=1)
    status: str = Field(default=ProgrammeStatus.draft.value, max_length=10, index=True)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ProgrammeSession(SQLModel, table=True):
    __tablename__ = "training_sessions"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="training_programmes.id", index=True)
    held_on: date = Field(sa_column=Column(Date(), nullable=False))
    place: str = Field(max_length=200)
    trainer: str = Field(default="", max_length=200)


class ProgrammeCoop(SQLModel, table=True):
    """A cooperative whose members may apply to a programme with `coops` eligibility."""

    __tablename__ = "training_programme_coops"

    programme_id: int = Field(foreign_key="training_programmes.id", primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", primary_key=True)


class Enrolment(SQLModel, table=True):
    __tablename__ = "training_enrolments"
    __table_args__ = (
        UniqueConstraint("programme_id", "household_id"),
        CheckConstraint(
            "status IN ('applied', 'accepted', 'attending', 'completed', 'dropped')",
            name="status_known",
        ),
        CheckConstraint("repayment IN ('fund', 'deduction')", name="repayment_known"),
        CheckConstraint(
            "deduction_bps IS NULL OR (deduction_bps >= 1 AND deduction_bps <= 10000)",
            name="deduction_bps_range",
        ),
        CheckConstraint("seat_cost IS NULL OR seat_cost >= 0", name="seat_cost_non_negative"),
        Index("ix_training_enrolments_household_status", "household_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="training_programmes.id", index=True)
    household_id: int = Field(foreign_key="households.id")
    coop_id: int = Field(foreign_key="coops.id", index=True)
    status: str = Field(default=EnrolmentStatus.applied.value, max_length=10)
    repayment: str = Field(default=Repayment.fund.value, max_length=10)
    deduction_bps: int | None = Field(default=None)
    # Set when the seat is financed (accepted): what it cost and which account paid.
    seat_cost: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    currency: str = Field(max_length=3)
    funding_account: str | None = Field(default=None, max_length=255)
    financing_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    refund_entry_id: int | None = Field(default=None, sa_type=BigInteger)
    certificate_number: str | None = Field(default=None, max_length=64, unique=True)
    applied_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    accepted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    dropped_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class EnrolmentEvent(SQLModel, table=True):
    """Who moved an enrolment from one state to another, and when."""

    __tablename__ = "training_enrolment_events"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolments.id", index=True)
    from_status: str | None = Field(default=None, max_length=10)
    to_status: str = Field(max_length=10)
    actor: str = Field(max_length=64)
    note: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False))


class Attendance(SQLModel, table=True):
    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("enrolment_id", "session_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolments.id", index=True)
    session_id: int = Field(foreign_key="training_sessions.id")
    present: bool
    marked_by: str = Field(max_length=64)
    marked_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class TuitionDeduction(SQLModel, table=True):
    """One deduction from one settled share toward one enrolment's seat (at most one per pair)."""

    __tablename__ = "training_deductions"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "settlement_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolments.id", index=True)
    settlement_ref: str = Field(max_length=255)
    share_amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    entry_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
