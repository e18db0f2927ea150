"""training: providers, programmes, sessions, eligible cooperatives, enrolments and their
history, attendance, tuition deductions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:40:25.664544
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_providers")),
    )
    op.create_table(
        "training_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("skill_area", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("seat_cost", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("funding_source", sa.String(length=16), nullable=False),
        sa.Column("funding_coop_id", sa.Integer(), nullable=True),
        sa.Column("eligibility", sa.String(length=8), nullable=False),
        sa.Column("deduction_cap_bps", sa.Integer(), nullable=True),
        sa.Column("min_attendance", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "eligibility IN ('open', 'coops')",
            name=op.f("ck_training_programmes_eligibility_known"),
        ),
        sa.CheckConstraint(
            "funding_source IN ('coop_fund', 'enterprise')",
            name=op.f("ck_training_programmes_funding_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed', 'finished', 'cancelled')",
            name=op.f("ck_training_programmes_status_known"),
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_training_programmes_capacity_positive")),
        sa.CheckConstraint(
            "deduction_cap_bps IS NULL OR (deduction_cap_bps >= 1 AND deduction_cap_bps <= 10000)",
            name=op.f("ck_training_programmes_deduction_cap_range"),
        ),
        sa.CheckConstraint(
            "min_attendance >= 0", name=op.f("ck_training_programmes_min_attendance_non_negative")
        ),
        sa.CheckConstraint(
            "seat_cost >= 0", name=op.f("ck_training_programmes_seat_cost_non_negative")
        ),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity",
            name=op.f("ck_training_programmes_seats_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["funding_coop_id"],
            ["coops.id"],
            name=op.f("fk_training_programmes_funding_coop_id_coops"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["training_providers.id"],
            name=op.f("fk_training_programmes_provider_id_training_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_programmes")),
    )
    with op.batch_alter_table("training_programmes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_programmes_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_programmes_status"), ["status"], unique=False)

    op.create_table(
        "training_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("repayment", sa.String(length=10), nullable=False),
        sa.Column("deduction_bps", sa.Integer(), nullable=True),
        sa.Column("seat_cost", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("funding_account", sa.String(length=255), nullable=True),
        sa.Column("financing_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("certificate_number", sa.String(length=64), nullable=True),
        sa.Column("applied_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dropped_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "repayment IN ('fund', 'deduction')",
            name=op.f("ck_training_enrolments_repayment_known"),
        ),
        sa.CheckConstraint(
            "status IN ('applied', 'accepted', 'attending', 'completed', 'dropped')",
            name=op.f("ck_training_enrolments_status_known"),
        ),
        sa.CheckConstraint(
            "deduction_bps IS NULL OR (deduction_bps >= 1 AND deduction_bps <= 10000)",
            name=op.f("ck_training_enrolments_deduction_bps_range"),
        ),
        sa.CheckConstraint(
            "seat_cost IS NULL OR seat_cost >= 0",
            name=op.f("ck_training_enrolments_seat_cost_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_training_enrolments_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_training_enrolments_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_enrolments_programme_id_training_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_enrolments")),
        sa.UniqueConstraint(
            "certificate_number", name=op.f("uq_training_enrolments_certificate_number")
        ),
        sa.UniqueConstraint(
            "programme_id",
            "household_id",
            name=op.f("uq_training_enrolments_programme_id_household_id"),
        ),
    )
    with op.batch_alter_table("training_enrolments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_enrolments_coop_id"), ["coop_id"], unique=False
        )
        batch_op.create_index(
            "ix_training_enrolments_household_status", ["household_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_enrolments_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "training_programme_coops",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_training_programme_coops_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_programme_coops_programme_id_training_programmes"),
        ),
        sa.PrimaryKeyConstraint(
            "programme_id", "coop_id", name=op.f("pk_training_programme_coops")
        ),
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_sessions_programme_id_training_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_sessions_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "training_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("marked_by", sa.String(length=64), nullable=False),
        sa.Column("marked_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_training_attendance_enrolment_id_training_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_attendance_session_id_training_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attendance")),
        sa.UniqueConstraint(
            "enrolment_id",
            "session_id",
            name=op.f("uq_training_attendance_enrolment_id_session_id"),
        ),
    )
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_attendance_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "training_deductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("settlement_ref", sa.String(length=255), nullable=False),
        sa.Column("share_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_training_deductions_amount_positive")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_training_deductions_enrolment_id_training_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_deductions")),
        sa.UniqueConstraint(
            "enrolment_id",
            "settlement_ref",
            name=op.f("uq_training_deductions_enrolment_id_settlement_ref"),
        ),
    )
    with op.batch_alter_table("training_deductions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_deductions_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "training_enrolment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=True),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_training_enrolment_events_enrolment_id_training_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_enrolment_events")),
    )
    with op.batch_alter_table("training_enrolment_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_enrolment_events_enrolment_id"), ["enrolment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("training_enrolment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_enrolment_events_enrolment_id"))

    op.drop_table("training_enrolment_events")
    with op.batch_alter_table("training_deductions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_deductions_enrolment_id"))

    op.drop_table("training_deductions")
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attendance_enrolment_id"))

    op.drop_table("training_attendance")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sessions_programme_id"))

    op.drop_table("training_sessions")
    op.drop_table("training_programme_coops")
    with op.batch_alter_table("training_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_enrolments_programme_id"))
        batch_op.drop_index("ix_training_enrolments_household_status")
        batch_op.drop_index(batch_op.f("ix_training_enrolments_coop_id"))

    op.drop_table("training_enrolments")
    with op.batch_alter_table("training_programmes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_programmes_status"))
        batch_op.drop_index(batch_op.f("ix_training_programmes_provider_id"))

    op.drop_table("training_programmes")
    op.drop_table("training_providers")
