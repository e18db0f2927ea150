"""ledger: accounts, append-only entries and postings, closed periods, seal blocks, and the
database rules that make an unbalanced or edited ledger impossible (triggers per dialect).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 01:12:27.175679
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows of these tables are facts: never updated, never deleted.
APPEND_ONLY = (
    "ledger_entries",
    "ledger_postings",
    "ledger_closed_periods",
    "ledger_seal_blocks",
    "ledger_sealed_entries",
)

PG_FUNCTIONS = [
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% on % refused: the ledger is append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    # Deferred to COMMIT, so an entry and its postings can be inserted in any order.
    """
    CREATE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        eid bigint;
        n bigint;
        bad text;
    BEGIN
        IF TG_TABLE_NAME = 'ledger_entries' THEN eid := NEW.id; ELSE eid := NEW.entry_id; END IF;
        SELECT coalesce(sum(cnt), 0),
               string_agg(CASE WHEN total <> 0 THEN currency || ' off by ' || total END, ', ')
          INTO n, bad
          FROM (SELECT currency, count(*) AS cnt, sum(amount) AS total
                  FROM ledger_postings WHERE entry_id = eid GROUP BY currency) AS per_currency;
        IF n < 2 THEN
            RAISE EXCEPTION 'ledger entry % has % posting(s); at least 2 are needed', eid, n
                USING ERRCODE = 'check_violation';
        END IF;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'ledger entry % does not balance: %', eid, bad
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_closed_periods
                    WHERE period >= to_char(NEW.effective_date, 'YYYY-MM')) THEN
            RAISE EXCEPTION 'ledger entry dated % falls in a closed period', NEW.effective_date
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
]

PG_TRIGGERS = [
    """
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()
    """,
    """
    CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_period()
    """,
]

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
    WHEN EXISTS (SELECT 1 FROM ledger_closed_periods
                  WHERE period >= strftime('%Y-%m', NEW.effective_date))
    BEGIN SELECT RAISE(ABORT, 'ledger entry falls in a closed period'); END
    """,
]


def _create_rules() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: the ledger is "
                "append-only'); END"
            )


def _drop_rules() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries")
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_balanced ON ledger_postings")
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_open_period ON ledger_entries")
        for function in (
            "ledger_refuse_change",
            "ledger_check_entry_balanced",
            "ledger_refuse_closed_period",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        return
    op.execute("DROP TRIGGER IF EXISTS ledger_entries_open_period")
    for table in APPEND_ONLY:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("limit", sa.String(length=16), nullable=False),
        sa.Column("party", sa.String(length=255), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_accounts_key")),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_party"), ["party"], unique=False)

    op.create_table(
        "ledger_closed_periods",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("closed_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_ledger_closed_periods")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("memo", sa.String(length=1000), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_entries_reverses_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_entries_reverses_id")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_reference"), ["reference"], unique=False
        )

    op.create_table(
        "ledger_seal_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("first_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_seal_blocks")),
        sa.UniqueConstraint("hash", name=op.f("uq_ledger_seal_blocks_hash")),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_postings_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_postings_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_postings_account_date_entry",
            ["account_id", "effective_date", "entry_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ledger_postings_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "ledger_sealed_entries",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["ledger_seal_blocks.id"],
            name=op.f("fk_ledger_sealed_entries_block_id_ledger_seal_blocks"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_sealed_entries_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_ledger_sealed_entries")),
    )
    with op.batch_alter_table("ledger_sealed_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_sealed_entries_block_id"), ["block_id"], unique=False
        )

    _create_rules()


def downgrade() -> None:
    _drop_rules()
    with op.batch_alter_table("ledger_sealed_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_sealed_entries_block_id"))

    op.drop_table("ledger_sealed_entries")
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_postings_entry_id"))
        batch_op.drop_index("ix_ledger_postings_account_date_entry")

    op.drop_table("ledger_postings")
    op.drop_table("ledger_seal_blocks")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_reference"))

    op.drop_table("ledger_entries")
    op.drop_table("ledger_closed_periods")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_party"))

    op.drop_table("ledger_accounts")
