"""forms: submissions and drafts

Revision ID: 0600_forms
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0600_forms"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("forms",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("form_id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("form_version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.create_index("ix_form_submission_form_id", ["form_id"], unique=False)
        batch_op.create_index("ix_form_submission_agency_id", ["agency_id"], unique=False)
        batch_op.create_index("ix_form_submission_practice_id", ["practice_id"], unique=False)
        batch_op.create_index(
            "ix_form_submission_submitted_by_id", ["submitted_by_id"], unique=False
        )
        batch_op.create_index("ix_form_submission_created_at", ["created_at"], unique=False)

    op.create_table(
        "form_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("form_id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("form_version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("form_draft", schema=None) as batch_op:
        batch_op.create_index("ix_form_draft_form_id", ["form_id"], unique=False)
        batch_op.create_index("ix_form_draft_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_form_draft_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_table("form_draft")
    op.drop_table("form_submission")
