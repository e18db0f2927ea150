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
    # In place (SQLite ≥ 3.35 adds and drops columns): a batch copy would drop and re-create
    # `orders`, which other tables reference, and fail on a database with data.
    op.add_column("orders", sa.Column("client_address", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_orders_status_client_address", "orders", ["status", "client_address"], unique=False
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
    op.drop_index("ix_orders_status_client_address", table_name="orders")
    op.drop_column("orders", "client_address")
