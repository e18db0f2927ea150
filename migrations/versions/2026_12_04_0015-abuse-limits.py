"""abuse limits: the client address an order was placed from (caps on unpaid orders per client)
and atomic sign-in throttles (one row per limited key, claimed by one conditional upsert).

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-04 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch.create_index(
            "ix_orders_status_client_address", ["status", "client_address"], unique=False
        )
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("window_started", sa.BigInteger(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_status_client_address")
        batch.drop_column("client_address")
