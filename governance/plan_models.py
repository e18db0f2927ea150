"""Household development plans (case management): social workers assigned to households, a plan
per household with goals and measurable targets, reviews by an assigned social worker, and the
household's agreement. A plan is never public: only the household, its assigned social workers,
its cooperative's manager and staff (and auditors, reading) see it."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class GoalKind(StrEnum):
    income = "income"
    skills = "skills"
    product = "product"
    health = "health"
    schooling = "schooling"


class SocialWorkerAssignment(SQLModel, table=True):
    """A social worker (users.role = social_worker) serving a household; managed by staff."""

    __tablename__ = "social_worker_assignments"
    __table_args__ = (UniqueConstraint("household_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    assigned_by: int = Field(foreign_key="users.id")
    assigned_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class HouseholdPlan(SQLModel, table=True):
    """One plan per household; `agreed_at` is cleared whenever the plan's goals change."""

    __tablename__ = "household_plans"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", unique=True)
    created_by: int = Field(foreign_key="users.id")
    review_on: date
    agreed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    agreed_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class PlanGoal(SQLModel, table=True):
    """A goal: a kind, free text, optionally a per-capita income target by a date, a training."""

    __tablename__ = "household_plan_goals"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="household_plans.id", index=True)
    kind: str = Field(max_length=16)
    description: str = Field(max_length=500)
    target_per_capita: int | None = Field(default=None)  # minor units over 12 months
    currency: str = Field(default="CNY", max_length=3)
    target_on: date | None = Field(default=None)
    programme_id: int | None = Field(default=None, foreign_key="training_programmes.id")


class PlanReview(SQLModel, table=True):
    """A review recorded by a social worker assigned to the household."""

    __tablename__ = "household_plan_reviews"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="household_plans.id", index=True)
    social_worker_id: int = Field(foreign_key="users.id")
    note: str = Field(max_length=2000)
    next_review_on: date
    reviewed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
