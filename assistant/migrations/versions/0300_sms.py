"""sms: contacts and inbound messages

Revision ID: 0300_sms
Revises: 0001_foundation
Create Date: 2026-11-22 10:22:31.401096
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0300_sms"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("sms",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_activity", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_contact_phone"), ["phone"], unique=True)

    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["sms_contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
    )
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_inbound_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sms_inbound_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_inbound_received_at"))
        batch_op.drop_index(batch_op.f("ix_sms_inbound_contact_id"))
    op.drop_table("sms_inbound")
    with op.batch_alter_table("sms_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_contact_phone"))
    op.drop_table("sms_contact")
