"""auditor reads: one row per request an auditor makes (who, when, method, path).

Roles are strings (users.role, 16 characters), so the new roles `auditor` and `social_worker`
need no change to existing data.

Revision ID: 0018
Revises: 0009
Create Date: 2026-12-04 23:59:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0009"
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


def downgrade() -> None:
    op.drop_index("ix_auditor_reads_user_id_at", table_name="auditor_reads")
    op.drop_table("auditor_reads")
