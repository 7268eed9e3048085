"""enrolment: requests to practices, their journey, the funnel; practice listing confirmation

Revision ID: 0900_enrolment
Revises: 0300_sms, 0400_outbox, 0500_pcw, 0600_forms
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0900_enrolment"
down_revision: str | Sequence[str] | None = ("0300_sms", "0400_outbox", "0500_pcw", "0600_forms")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "funnel_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", _STR(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("language", _STR(length=10), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person", "stage", name="uq_funnel_mark_person_stage"),
    )
    for column in ("at", "person", "practice_id", "stage"):
        op.create_index(f"ix_funnel_mark_{column}", "funnel_mark", [column], unique=False)

    op.create_table(
        "enrolment_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("phone", _STR(length=20), nullable=True),
        sa.Column("name", _STR(length=120), nullable=False),
        sa.Column("language", _STR(length=10), nullable=False),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("barriers", sa.JSON(), nullable=False),
        sa.Column("note", _STR(length=1000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("consent_at", _TS(), nullable=False),
        sa.Column("first_contact_at", _TS(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("practice_message", _STR(length=480), nullable=False),
        sa.Column("decline_reason", sa.String(length=20), nullable=True),
        sa.Column("decline_note", _STR(length=500), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("updated_at", _TS(), nullable=False),
        sa.Column("answered_at", _TS(), nullable=True),
        sa.Column("booked_at", _TS(), nullable=True),
        sa.Column("enrolled_at", _TS(), nullable=True),
        sa.Column("closed_at", _TS(), nullable=True),
        sa.Column("escalated_at", _TS(), nullable=True),
        sa.Column("escalation_task_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["sms_contact.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["escalation_task_id"], ["follow_up_task.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["form_submission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("contact_id", "created_at", "phone", "practice_id", "referral_id", "status"):
        op.create_index(
            f"ix_enrolment_request_{column}", "enrolment_request", [column], unique=False
        )

    op.create_table(
        "enrolment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox_message.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["enrolment_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_enrolment_event_request_id", "enrolment_event", ["request_id"], unique=False
    )

    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("accepting_confirmed_at", _TS(), nullable=True))
        batch.add_column(sa.Column("accepting_confirmed_by_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("practice_manager", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("practice_manager")
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("accepting_confirmed_by_id")
        batch.drop_column("accepting_confirmed_at")
    op.drop_table("enrolment_event")
    op.drop_table("enrolment_request")
    op.drop_table("funnel_mark")
