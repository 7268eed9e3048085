"""support

Revision ID: 0200_support
Revises: 0001_foundation
Create Date: 2026-11-22 10:22:53.966647
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0200_support"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("support",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    with op.batch_alter_table("support_conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_conversation_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "support_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("transcript", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("topic_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("team", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("route_reason", sa.String(length=40), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("escalated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asker_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_ticket_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_support_ticket_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_ticket_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_support_ticket_practice_id"), ["practice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_ticket_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_ticket_team"), ["team"], unique=False)

    op.create_table(
        "support_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("candidates", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.String(length=20), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["support_conversation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_message_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "support_ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("to_team", sa.String(length=20), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_ticket.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_ticket_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_ticket_event_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "support_knowledge_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body_markdown", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("topic_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["support_ticket_event.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("support_knowledge_draft")
    with op.batch_alter_table("support_ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_ticket_event_ticket_id"))

    op.drop_table("support_ticket_event")
    with op.batch_alter_table("support_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_message_conversation_id"))

    op.drop_table("support_message")
    with op.batch_alter_table("support_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_ticket_team"))
        batch_op.drop_index(batch_op.f("ix_support_ticket_status"))
        batch_op.drop_index(batch_op.f("ix_support_ticket_practice_id"))
        batch_op.drop_index(batch_op.f("ix_support_ticket_due_at"))
        batch_op.drop_index(batch_op.f("ix_support_ticket_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_support_ticket_asker_id"))

    op.drop_table("support_ticket")
    with op.batch_alter_table("support_conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_conversation_practice_id"))

    op.drop_table("support_conversation")
