"""groups of households, community consultations and beneficiary feedback (issue 20).

community_groups (+ _members, _workers, _sessions, _attendance): group work with sessions and
attendance. consultations, consultation_options, consultation_answers: questions to member
households, one answer per household. beneficiary_feedback: a household's rating of a completed
training or a service. New tables only: existing data is untouched; downgrade drops them.

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05 02:28:01.040302
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("reply", sa.String(length=2000), nullable=False),
        sa.Column("replied_at", ledger.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_on >= opens_on", name=op.f("ck_consultations_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_consultations_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_consultations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_index(op.f("ix_consultations_coop_id"), "consultations", ["coop_id"])

    op.create_table(
        "community_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_community_groups_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_community_groups_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_community_groups_programme_id_training_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_groups")),
    )
    op.create_index(op.f("ix_community_groups_coop_id"), "community_groups", ["coop_id"])

    op.create_table(
        "consultation_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_options_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_options")),
    )
    op.create_index(
        op.f("ix_consultation_options_consultation_id"), "consultation_options", ["consultation_id"]
    )

    op.create_table(
        "beneficiary_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("coop_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=16), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(enrolment_id IS NULL) <> (service IS NULL)",
            name=op.f("ck_beneficiary_feedback_one_subject"),
        ),
        sa.CheckConstraint(
            "stars >= 1 AND stars <= 5", name=op.f("ck_beneficiary_feedback_stars_range")
        ),
        sa.ForeignKeyConstraint(
            ["coop_id"], ["coops.id"], name=op.f("fk_beneficiary_feedback_coop_id_coops")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_beneficiary_feedback_enrolment_id_training_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_beneficiary_feedback_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_beneficiary_feedback_programme_id_training_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiary_feedback")),
        sa.UniqueConstraint(
            "household_id",
            "subject",
            "period",
            name=op.f("uq_beneficiary_feedback_household_id_subject_period"),
        ),
    )
    op.create_index(op.f("ix_beneficiary_feedback_coop_id"), "beneficiary_feedback", ["coop_id"])
    op.create_index(
        op.f("ix_beneficiary_feedback_household_id"), "beneficiary_feedback", ["household_id"]
    )

    op.create_table(
        "community_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["community_groups.id"],
            name=op.f("fk_community_group_members_group_id_community_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_community_group_members_household_id_households"),
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "household_id", name=op.f("pk_community_group_members")
        ),
    )
    op.create_table(
        "community_group_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["community_groups.id"],
            name=op.f("fk_community_group_sessions_group_id_community_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_community_group_sessions_recorded_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_group_sessions")),
    )
    op.create_index(
        op.f("ix_community_group_sessions_group_id"), "community_group_sessions", ["group_id"]
    )

    op.create_table(
        "community_group_workers",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["community_groups.id"],
            name=op.f("fk_community_group_workers_group_id_community_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_community_group_workers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_community_group_workers")),
    )
    op.create_table(
        "consultation_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["users.id"], name=op.f("fk_consultation_answers_answered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_answers_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_consultation_answers_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["consultation_options.id"],
            name=op.f("fk_consultation_answers_option_id_consultation_options"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_answers")),
        sa.UniqueConstraint(
            "consultation_id",
            "household_id",
            name=op.f("uq_consultation_answers_consultation_id_household_id"),
        ),
    )
    op.create_index(
        op.f("ix_consultation_answers_consultation_id"), "consultation_answers", ["consultation_id"]
    )

    op.create_table(
        "community_group_attendance",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_community_group_attendance_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["community_group_sessions.id"],
            name=op.f("fk_community_group_attendance_session_id_community_group_sessions"),
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "household_id", name=op.f("pk_community_group_attendance")
        ),
    )


def downgrade() -> None:
    op.drop_table("community_group_attendance")
    op.drop_index(
        op.f("ix_consultation_answers_consultation_id"), table_name="consultation_answers"
    )

    op.drop_table("consultation_answers")
    op.drop_table("community_group_workers")
    op.drop_index(
        op.f("ix_community_group_sessions_group_id"), table_name="community_group_sessions"
    )

    op.drop_table("community_group_sessions")
    op.drop_table("community_group_members")
    op.drop_index(op.f("ix_beneficiary_feedback_household_id"), table_name="beneficiary_feedback")
    op.drop_index(op.f("ix_beneficiary_feedback_coop_id"), table_name="beneficiary_feedback")

    op.drop_table("beneficiary_feedback")
    op.drop_index(
        op.f("ix_consultation_options_consultation_id"), table_name="consultation_options"
    )

    op.drop_table("consultation_options")
    op.drop_index(op.f("ix_community_groups_coop_id"), table_name="community_groups")

    op.drop_table("community_groups")
    op.drop_index(op.f("ix_consultations_coop_id"), table_name="consultations")

    op.drop_table("consultations")
