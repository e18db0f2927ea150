"""One row per job tick: the unique (job, tick) pair is the claim that lets only one process run it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"  # claimed, but another run of the same job held its lock


class RunTrigger(StrEnum):
    schedule = "schedule"
    manual = "manual"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "tick"),
        CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped')", name="status_known"
        ),
        CheckConstraint("run_trigger IN ('schedule', 'manual')", name="run_trigger_known"),
        Index("ix_job_runs_job_started_at", "job", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    # The scheduled fire time this run answers (for a "run now", the moment it was asked).
    tick: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    run_trigger: str = Field(max_length=10)
    status: str = Field(max_length=10)
    attempts: int = Field(default=0)
    worker: str = Field(max_length=128)
    requested_by: str | None = Field(default=None, max_length=254)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    result: str = Field(default="", max_length=1000)
    error: str = Field(default="", max_length=2000)
