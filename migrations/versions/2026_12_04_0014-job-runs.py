"""job runs: one row per (job, tick); the unique pair is the claim that makes each tick run once
across every worker and replica.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("tick", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_trigger", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("requested_by", sa.String(length=254), nullable=True),
        sa.Column("started_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=1000), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_job_runs_status_known"),
        ),
        sa.CheckConstraint(
            "run_trigger IN ('schedule', 'manual')", name=op.f("ck_job_runs_run_trigger_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "tick", name=op.f("uq_job_runs_job_tick")),
    )
    op.create_index("ix_job_runs_job_started_at", "job_runs", ["job", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_runs_job_started_at", table_name="job_runs")
    op.drop_table("job_runs")
