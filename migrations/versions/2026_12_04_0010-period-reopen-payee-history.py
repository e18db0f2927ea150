"""period reopenings and payee snapshots: closes and reopenings of a month as append-only events
(replacing ledger_closed_periods), the payout account history of households, and each payout
line's payee as it was when its batch was made.

Closed months are carried over as close events (in the order they were closed). A month is closed
while its latest event is a close; the entry trigger follows the same rule. Downgrade keeps the
months that are closed at that moment.

Revision ID: 0010
Revises: 0016
Create Date: 2026-12-04 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("ledger_period_events", "household_payout_changes")

CLOSED_NOW = (
    "SELECT e.period FROM ledger_period_events e WHERE e.action = 'close' AND NOT EXISTS "
    "(SELECT 1 FROM ledger_period_events l WHERE l.period = e.period AND l.id > e.id)"
)

PG_PERIOD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ({CLOSED_NOW}) AS closed
                WHERE closed.period >= to_char(NEW.effective_date, 'YYYY-MM')) THEN
        RAISE EXCEPTION 'ledger entry dated % falls in a closed period', NEW.effective_date
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$
"""

PG_OLD_PERIOD_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_closed_periods
                WHERE period >= to_char(NEW.effective_date, 'YYYY-MM')) THEN
        RAISE EXCEPTION 'ledger entry dated % falls in a closed period', NEW.effective_date
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$
"""

SQLITE_PERIOD_TRIGGER = f"""
CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
WHEN EXISTS (SELECT 1 FROM ({CLOSED_NOW}) AS closed
              WHERE closed.period >= strftime('%Y-%m', NEW.effective_date))
BEGIN SELECT RAISE(ABORT, 'ledger entry falls in a closed period'); END
"""

SQLITE_OLD_PERIOD_TRIGGER = """
CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
WHEN EXISTS (SELECT 1 FROM ledger_closed_periods
              WHERE period >= strftime('%Y-%m', NEW.effective_date))
BEGIN SELECT RAISE(ABORT, 'ledger entry falls in a closed period'); END
"""


def _is_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _append_only(table: str) -> None:
    if _is_postgresql():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: the ledger is "
            "append-only'); END"
        )


def _drop_append_only(table: str) -> None:
    if _is_postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def _upgrade_periods() -> None:
    op.create_table(
        "ledger_period_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.CheckConstraint(
            "action IN ('close', 'reopen')", name=op.f("ck_ledger_period_events_action_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_period_events")),
    )
    op.create_index(
        "ix_ledger_period_events_period_id", "ledger_period_events", ["period", "id"], unique=False
    )
    op.execute(
        "INSERT INTO ledger_period_events (period, action, at, by, reason) "
        "SELECT period, 'close', closed_at, closed_by, '' FROM ledger_closed_periods "
        "ORDER BY closed_at, period"
    )
    _append_only("ledger_period_events")
    if _is_postgresql():
        op.execute(PG_PERIOD_FUNCTION)
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_open_period")
        op.execute(SQLITE_PERIOD_TRIGGER)
    _drop_append_only("ledger_closed_periods")
    op.drop_table("ledger_closed_periods")


def _downgrade_periods() -> None:
    op.create_table(
        "ledger_closed_periods",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("closed_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_ledger_closed_periods")),
    )
    op.execute(
        "INSERT INTO ledger_closed_periods (period, closed_at, closed_by) "
        "SELECT e.period, e.at, e.by FROM ledger_period_events e "
        f"WHERE e.period IN ({CLOSED_NOW}) AND NOT EXISTS (SELECT 1 FROM ledger_period_events l "
        "WHERE l.period = e.period AND l.id > e.id)"
    )
    if _is_postgresql():
        op.execute(PG_OLD_PERIOD_FUNCTION)
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_open_period")
        op.execute(SQLITE_OLD_PERIOD_TRIGGER)
    _append_only("ledger_closed_periods")
    _drop_append_only("ledger_period_events")
    op.drop_index("ix_ledger_period_events_period_id", table_name="ledger_period_events")
    op.drop_table("ledger_period_events")


PAYEE_COLUMNS = (
    ("payee_member_code", 20),
    ("payee_name", 100),
    ("payee_method", 16),
    ("payee_account", 100),
)


def _upgrade_payees() -> None:
    op.create_table(
        "household_payout_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.Column("changed_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("old_method", sa.String(length=16), nullable=False),
        sa.Column("old_account", sa.String(length=100), nullable=False),
        sa.Column("new_method", sa.String(length=16), nullable=False),
        sa.Column("new_account", sa.String(length=100), nullable=False),
        sa.Column("held_lines", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_payout_changes_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_payout_changes")),
    )
    op.create_index(
        op.f("ix_household_payout_changes_household_id"),
        "household_payout_changes",
        ["household_id"],
        unique=False,
    )
    _append_only("household_payout_changes")
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        for name, length in PAYEE_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("held_change_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payee_accepted_by", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("payee_accepted_at", ledger.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Existing lines: the best knowledge of their payee is the household's present details.
    op.execute(
        "UPDATE payout_lines SET "
        "payee_member_code = (SELECT h.member_code FROM households h "
        "WHERE h.id = payout_lines.household_id), "
        "payee_name = (SELECT h.name FROM households h WHERE h.id = payout_lines.household_id), "
        "payee_method = (SELECT coalesce(h.payout_method, '') FROM households h "
        "WHERE h.id = payout_lines.household_id), "
        "payee_account = (SELECT h.payout_account FROM households h "
        "WHERE h.id = payout_lines.household_id) "
        "WHERE EXISTS (SELECT 1 FROM households h WHERE h.id = payout_lines.household_id)"
    )
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        for name, length in PAYEE_COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=length), server_default=None)


def _downgrade_payees() -> None:
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.drop_column("payee_accepted_at")
        batch_op.drop_column("payee_accepted_by")
        batch_op.drop_column("held_change_id")
        for name, _length in reversed(PAYEE_COLUMNS):
            batch_op.drop_column(name)
    _drop_append_only("household_payout_changes")
    op.drop_index(
        op.f("ix_household_payout_changes_household_id"), table_name="household_payout_changes"
    )
    op.drop_table("household_payout_changes")


def upgrade() -> None:
    _upgrade_periods()
    _upgrade_payees()


def downgrade() -> None:
    _downgrade_payees()
    _downgrade_periods()
