"""knowledge: usage events per entry

Revision ID: 0100_knowledge
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0100_knowledge"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("knowledge",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("knowledge_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_usage_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_usage_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("knowledge_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_usage_at"))
        batch_op.drop_index(batch_op.f("ix_knowledge_usage_entry_id"))
    op.drop_table("knowledge_usage")
