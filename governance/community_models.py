"""Group and community work tables: groups of households with sessions and attendance, community
consultations with one answer per member household, and beneficiary feedback on the help a
household received (a completed training or a service), anonymous to whoever provided it."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


def _ts() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=False)


class CommunityGroup(SQLModel, table=True):
    """A group of a cooperative's households (e.g. honey producers), maybe tied to a training."""

    __tablename__ = "community_groups"

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    name: str = Field(max_length=120)
    purpose: str = Field(default="", max_length=500)
    programme_id: int | None = Field(default=None, foreign_key="training_programmes.id")
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class GroupMember(SQLModel, table=True):
    __tablename__ = "community_group_members"

    group_id: int = Field(foreign_key="community_groups.id", primary_key=True)
    household_id: int = Field(foreign_key="households.id", primary_key=True)


class GroupWorker(SQLModel, table=True):
    """A social worker assigned to a group (runs its sessions, reads its notes)."""

    __tablename__ = "community_group_workers"

    group_id: int = Field(foreign_key="community_groups.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)


class GroupSession(SQLModel, table=True):
    __tablename__ = "community_group_sessions"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_groups.id", index=True)
    held_on: date
    topic: str = Field(max_length=200)
    notes: str = Field(default="", max_length=2000)
    recorded_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class GroupAttendance(SQLModel, table=True):
    __tablename__ = "community_group_attendance"

    session_id: int = Field(foreign_key="community_group_sessions.id", primary_key=True)
    household_id: int = Field(foreign_key="households.id", primary_key=True)


class Consultation(SQLModel, table=True):
    """A question to a cooperative's member households, open from `opens_on` to `closes_on`
    (both included, in the cooperative's time zone); options, or free answers when it has none."""

    __tablename__ = "consultations"
    __table_args__ = (CheckConstraint("closes_on >= opens_on", name="dates_ordered"),)

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    question: str = Field(max_length=500)
    opens_on: date
    closes_on: date
    reply: str = Field(default="", max_length=2000)
    replied_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ConsultationOption(SQLModel, table=True):
    __tablename__ = "consultation_options"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultations.id", index=True)
    position: int
    label: str = Field(max_length=200)


class ConsultationAnswer(SQLModel, table=True):
    """One per household and consultation (the database refuses a second)."""

    __tablename__ = "consultation_answers"
    __table_args__ = (UniqueConstraint("consultation_id", "household_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultations.id", index=True)
    household_id: int = Field(foreign_key="households.id")
    option_id: int | None = Field(default=None, foreign_key="consultation_options.id")
    text: str = Field(default="", max_length=1000)
    answered_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class FeedbackService(StrEnum):
    """Services a household may rate besides a training."""

    cooperative = "cooperative"
    enterprise = "enterprise"
    social_work = "social_work"


class BeneficiaryFeedback(SQLModel, table=True):
    """A household's rating (1–5) and comment of a completed training (`enrolment_id`) or a
    service (`service`), once per enrolment, or once per service and month (`period`)."""

    __tablename__ = "beneficiary_feedback"
    __table_args__ = (
        CheckConstraint("stars >= 1 AND stars <= 5", name="stars_range"),
        CheckConstraint("(enrolment_id IS NULL) <> (service IS NULL)", name="one_subject"),
        UniqueConstraint("household_id", "subject", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    enrolment_id: int | None = Field(default=None, foreign_key="training_enrolments.id")
    programme_id: int | None = Field(default=None, foreign_key="training_programmes.id")
    service: str | None = Field(default=None, max_length=16)
    # "enrolment:<id>" or "service:<name>": the thing rated, for the once-only rule.
    subject: str = Field(max_length=40)
    period: str = Field(max_length=7)  # YYYY-MM the feedback was given (a training: "once")
    stars: int
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
