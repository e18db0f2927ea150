"""refund requests: a buyer asks for money back (whole order, an amount, or chosen lines); staff
approve (the request then links the refund it produced) or decline it with a reason.

At most one open request per order: a partial unique index on order_id where status = 'open'
(SQLite and PostgreSQL both support it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 07:48:25.894174
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        "order_refund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=1000), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_order_refund_requests_amount_positive")),
        sa.CheckConstraint(
            "status IN ('open', 'approved', 'declined')",
            name=op.f("ck_order_refund_requests_status_known"),
        ),
        sa.CheckConstraint(
            "scope IN ('whole_order', 'amount', 'lines')",
            name=op.f("ck_order_refund_requests_scope_known"),
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR refund_id IS NOT NULL",
            name=op.f("ck_order_refund_requests_approved_has_refund"),
        ),
        sa.CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL",
            name=op.f("ck_order_refund_requests_declined_has_reason"),
        ),
        sa.CheckConstraint(
            "requested_by_user_id IS NOT NULL OR requested_by = 'guest'",
            name=op.f("ck_order_refund_requests_who_asked"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refund_requests_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["users.id"],
            name=op.f("fk_order_refund_requests_requested_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_order_refund_requests_decided_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["order_refunds.id"],
            name=op.f("fk_order_refund_requests_refund_id_order_refunds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refund_requests")),
    )
    op.create_index(
        op.f("ix_order_refund_requests_order_id"), "order_refund_requests", ["order_id"]
    )
    op.create_index(op.f("ix_order_refund_requests_status"), "order_refund_requests", ["status"])
    op.create_index(
        "uq_order_refund_requests_open_order_id",
        "order_refund_requests",
        ["order_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )

    op.create_table(
        "order_refund_request_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount > 0", name=op.f("ck_order_refund_request_lines_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["order_refund_requests.id"],
            name=op.f("fk_order_refund_request_lines_request_id_order_refund_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_refund_request_lines_line_id_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refund_request_lines")),
        sa.UniqueConstraint(
            "request_id",
            "line_id",
            name=op.f("uq_order_refund_request_lines_request_id_line_id"),
        ),
    )
    op.create_index(
        op.f("ix_order_refund_request_lines_request_id"),
        "order_refund_request_lines",
        ["request_id"],
    )
    op.create_index(
        op.f("ix_order_refund_request_lines_line_id"), "order_refund_request_lines", ["line_id"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_order_refund_request_lines_line_id"), table_name="order_refund_request_lines"
    )
    op.drop_index(
        op.f("ix_order_refund_request_lines_request_id"), table_name="order_refund_request_lines"
    )
    op.drop_table("order_refund_request_lines")
    op.drop_index("uq_order_refund_requests_open_order_id", table_name="order_refund_requests")
    op.drop_index(op.f("ix_order_refund_requests_status"), table_name="order_refund_requests")
    op.drop_index(op.f("ix_order_refund_requests_order_id"), table_name="order_refund_requests")
    op.drop_table("order_refund_requests")
