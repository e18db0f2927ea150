"""auditor reads and household development plans.

auditor_reads: one row per request an auditor makes (who, when, method, path).
social_worker_assignments, household_plans, household_plan_goals, household_plan_reviews: case
management (a plan per household, goals, reviews by an assigned social worker, agreement).
user_phones: a user's mainland mobile number for signing in with it.

Roles are strings (users.role, 16 characters), so the new roles `auditor` and `social_worker`
need no change to existing data.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04 23:59:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditor_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", ledger.base.UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auditor_reads_user_id_at", "auditor_reads", ["user_id", "at"])
    _create_plans()
    op.create_table(
        "user_phones",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("phone"),
    )


def _create_plans() -> None:
    op.create_table(
        "social_worker_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", ledger.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_id", "user_id"),
    )
    op.create_index(
        "ix_social_worker_assignments_household_id", "social_worker_assignments", ["household_id"]
    )
    op.create_index(
        "ix_social_worker_assignments_user_id", "social_worker_assignments", ["user_id"]
    )
    op.create_table(
        "household_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("agreed_at", ledger.base.UTCDateTime(), nullable=True),
        sa.Column("agreed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", ledger.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agreed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_id"),
    )
    op.create_table(
        "household_plan_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("target_per_capita", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["household_plans.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["training_programmes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_household_plan_goals_plan_id", "household_plan_goals", ["plan_id"])
    op.create_table(
        "household_plan_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("social_worker_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("reviewed_at", ledger.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["household_plans.id"]),
        sa.ForeignKeyConstraint(["social_worker_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_household_plan_reviews_plan_id", "household_plan_reviews", ["plan_id"])


def downgrade() -> None:
    op.drop_table("user_phones")
    op.drop_index("ix_household_plan_reviews_plan_id", table_name="household_plan_reviews")
    op.drop_table("household_plan_reviews")
    op.drop_index("ix_household_plan_goals_plan_id", table_name="household_plan_goals")
    op.drop_table("household_plan_goals")
    op.drop_table("household_plans")
    op.drop_index("ix_social_worker_assignments_user_id", table_name="social_worker_assignments")
    op.drop_index(
        "ix_social_worker_assignments_household_id", table_name="social_worker_assignments"
    )
    op.drop_table("social_worker_assignments")
    op.drop_index("ix_auditor_reads_user_id_at", table_name="auditor_reads")
    op.drop_table("auditor_reads")
