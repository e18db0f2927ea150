"""governance: disclosures (append-only, enforced by triggers), monitoring config, off-platform
income, alerts and case notes, share-rule hearings with comments and votes, ratings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 01:45:37.199752
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


IMMUTABLE = "governance_disclosures"

PG_RULES = [
    """
    CREATE FUNCTION governance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% on % refused: a published disclosure is immutable', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    f"""
    CREATE TRIGGER {IMMUTABLE}_immutable BEFORE UPDATE OR DELETE ON {IMMUTABLE}
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change()
    """,
    f"""
    CREATE TRIGGER {IMMUTABLE}_no_truncate BEFORE TRUNCATE ON {IMMUTABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse_change()
    """,
]


def _create_rules() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in PG_RULES:
            op.execute(statement)
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {IMMUTABLE}_no_{operation.lower()} BEFORE {operation} ON {IMMUTABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{operation} on {IMMUTABLE} refused: a published "
            "disclosure is immutable'); END"
        )


def _drop_rules() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {IMMUTABLE}_immutable ON {IMMUTABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {IMMUTABLE}_no_truncate ON {IMMUTABLE}")
        op.execute("DROP FUNCTION IF EXISTS governance_refuse_change()")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {IMMUTABLE}_no_{operation}")


def upgrade() -> None:
    op.create_table(
        "governance_monitoring_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_kind", sa.String(length=10), nullable=False),
        sa.Column("poverty_line", sa.BigInteger(), nullable=False),
        sa.Column("multiplier_bp", sa.Integer(), nullable=False),
        sa.Column("relative_bp", sa.Integer(), nullable=False),
        sa.Column("drop_bp", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "line_kind IN ('absolute', 'relative')",
            name=op.f("ck_governance_monitoring_config_line_kind_known"),
        ),
        sa.CheckConstraint(
            "drop_bp > 0 AND drop_bp <= 10000",
            name=op.f("ck_governance_monitoring_config_drop_range"),
        ),
        sa.CheckConstraint(
            "multiplier_bp > 0 AND relative_bp > 0",
            name=op.f("ck_governance_monitoring_config_factors_positive"),
        ),
        sa.CheckConstraint(
            "poverty_line >= 0",
            name=op.f("ck_governance_monitoring_config_poverty_line_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_monitoring_config")),
    )
    op.create_table(
        "governance_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("seal_block_id", sa.Integer(), nullable=True),
        sa.Column("seal_hash", sa.String(length=64), nullable=True),
        sa.Column("sealed_through_entry", sa.BigInteger(), nullable=True),
        sa.Column("period_closed", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=False),
        sa.Column("published_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_governance_disclosures_coop_id_coops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_disclosures")),
        sa.UniqueConstraint(
            "coop_id",
            "period",
            "currency",
            name=op.f("uq_governance_disclosures_coop_id_period_currency"),
        ),
    )
    with op.batch_alter_table("governance_disclosures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_disclosures_coop_id"), ["coop_id"], unique=False
        )

    op.create_table(
        "governance_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=1000), nullable=False),
        sa.CheckConstraint(
            "reason IN ('below_line', 'income_drop')",
            name=op.f("ck_governance_alerts_reason_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_governance_alerts_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_governance_alerts_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_governance_alerts_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_alerts")),
    )
    with op.batch_alter_table("governance_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_governance_alerts_coop_id"), ["coop_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_governance_alerts_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_governance_alerts_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_governance_alerts_open_household_reason",
            ["household_id", "reason"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "governance_hearings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("producers", sa.Integer(), nullable=False),
        sa.Column("collective_fund", sa.Integer(), nullable=False),
        sa.Column("training_fund", sa.Integer(), nullable=False),
        sa.Column("enterprise", sa.Integer(), nullable=False),
        sa.Column("fee_bearer", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("comment_until", sa.Date(), nullable=False),
        sa.Column("vote_until", sa.Date(), nullable=False),
        sa.Column("quorum_bp", sa.Integer(), nullable=False),
        sa.Column("majority_bp", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=80), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.Column("share_rule_id", sa.Integer(), nullable=True),
        sa.Column("adopted_from", sa.Date(), nullable=True),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voting_started_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('comment', 'voting', 'adopted', 'rejected')",
            name=op.f("ck_governance_hearings_status_known"),
        ),
        sa.CheckConstraint(
            "majority_bp >= 0 AND majority_bp < 10000",
            name=op.f("ck_governance_hearings_majority_range"),
        ),
        sa.CheckConstraint(
            "producers + collective_fund + training_fund + enterprise = 10000",
            name=op.f("ck_governance_hearings_parts_sum_to_10000"),
        ),
        sa.CheckConstraint(
            "quorum_bp >= 0 AND quorum_bp <= 10000",
            name=op.f("ck_governance_hearings_quorum_range"),
        ),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_governance_hearings_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["share_rule_id"],
            ["share_rules.id"],
            name=op.f("fk_governance_hearings_share_rule_id_share_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_hearings")),
    )
    with op.batch_alter_table("governance_hearings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_hearings_coop_id"), ["coop_id"], unique=False
        )

    op.create_table(
        "governance_off_platform_income",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount > 0", name=op.f("ck_governance_off_platform_income_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_governance_off_platform_income_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_off_platform_income")),
    )
    with op.batch_alter_table("governance_off_platform_income", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_off_platform_income_household_id"),
            ["household_id"],
            unique=False,
        )

    op.create_table(
        "governance_case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["governance_alerts.id"],
            name=op.f("fk_governance_case_notes_alert_id_governance_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_governance_case_notes_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_case_notes")),
    )
    with op.batch_alter_table("governance_case_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_case_notes_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_case_notes_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "governance_hearing_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["governance_hearings.id"],
            name=op.f("fk_governance_hearing_comments_hearing_id_governance_hearings"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_governance_hearing_comments_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_governance_hearing_comments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_hearing_comments")),
        sa.UniqueConstraint(
            "hearing_id",
            "household_id",
            name=op.f("uq_governance_hearing_comments_hearing_id_household_id"),
        ),
    )
    with op.batch_alter_table("governance_hearing_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_hearing_comments_hearing_id"), ["hearing_id"], unique=False
        )

    op.create_table(
        "governance_hearing_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "choice IN ('yes', 'no', 'abstain')",
            name=op.f("ck_governance_hearing_votes_choice_known"),
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["governance_hearings.id"],
            name=op.f("fk_governance_hearing_votes_hearing_id_governance_hearings"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_governance_hearing_votes_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_governance_hearing_votes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_hearing_votes")),
        sa.UniqueConstraint(
            "hearing_id",
            "household_id",
            name=op.f("uq_governance_hearing_votes_hearing_id_household_id"),
        ),
    )
    with op.batch_alter_table("governance_hearing_votes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_hearing_votes_hearing_id"), ["hearing_id"], unique=False
        )

    op.create_table(
        "governance_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("buyer_user_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.String(length=500), nullable=False),
        sa.Column("hidden_by", sa.String(length=80), nullable=True),
        sa.Column("hidden_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stars >= 1 AND stars <= 5", name=op.f("ck_governance_ratings_stars_range")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_user_id"], ["users.id"], name=op.f("fk_governance_ratings_buyer_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_governance_ratings_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_governance_ratings_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_governance_ratings_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_governance_ratings_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_ratings")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_governance_ratings_order_line_id")),
    )
    with op.batch_alter_table("governance_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_ratings_buyer_user_id"), ["buyer_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_ratings_coop_id"), ["coop_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_ratings_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_ratings_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "governance_rating_lots",
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_governance_rating_lots_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["governance_ratings.id"],
            name=op.f("fk_governance_rating_lots_rating_id_governance_ratings"),
        ),
        sa.PrimaryKeyConstraint("rating_id", "lot_id", name=op.f("pk_governance_rating_lots")),
    )
    _create_rules()


def downgrade() -> None:
    _drop_rules()
    op.drop_table("governance_rating_lots")
    with op.batch_alter_table("governance_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_ratings_product_id"))
        batch_op.drop_index(batch_op.f("ix_governance_ratings_order_id"))
        batch_op.drop_index(batch_op.f("ix_governance_ratings_coop_id"))
        batch_op.drop_index(batch_op.f("ix_governance_ratings_buyer_user_id"))

    op.drop_table("governance_ratings")
    with op.batch_alter_table("governance_hearing_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_hearing_votes_hearing_id"))

    op.drop_table("governance_hearing_votes")
    with op.batch_alter_table("governance_hearing_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_hearing_comments_hearing_id"))

    op.drop_table("governance_hearing_comments")
    with op.batch_alter_table("governance_case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_case_notes_household_id"))
        batch_op.drop_index(batch_op.f("ix_governance_case_notes_alert_id"))

    op.drop_table("governance_case_notes")
    with op.batch_alter_table("governance_off_platform_income", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_off_platform_income_household_id"))

    op.drop_table("governance_off_platform_income")
    with op.batch_alter_table("governance_hearings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_hearings_coop_id"))

    op.drop_table("governance_hearings")
    with op.batch_alter_table("governance_alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_governance_alerts_open_household_reason",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_governance_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_governance_alerts_household_id"))
        batch_op.drop_index(batch_op.f("ix_governance_alerts_coop_id"))

    op.drop_table("governance_alerts")
    with op.batch_alter_table("governance_disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_disclosures_coop_id"))

    op.drop_table("governance_disclosures")
    op.drop_table("governance_monitoring_config")
