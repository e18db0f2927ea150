"""one-time sign-in cards and password resets by SMS.

sign_in_cards: a printed card's token digest (SHA-256), its member, who printed it, until when
it works and when it was spent. password_resets: a reset code's keyed digest, its member, until
when it works and when it was used. New tables only: existing data is untouched.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-05 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", ledger.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", ledger.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_in_cards_user_id", "sign_in_cards", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", ledger.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", ledger.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_password_resets_user_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_sign_in_cards_user_id", table_name="sign_in_cards")
    op.drop_table("sign_in_cards")
