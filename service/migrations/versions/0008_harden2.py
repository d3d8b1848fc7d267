"""harden2: the staging table of big imports (new people written before one quick swap)

Revision ID: harden2
Revises: monitoring2
Create Date: 2026-12-01 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "harden2"
down_revision = "monitoring2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_staging",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("participant", sa.Boolean(), nullable=True),
        sa.Column("parent", sa.Boolean(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staging")),
    )
    op.create_index(op.f("ix_import_staging_key"), "import_staging", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_import_staging_key"), table_name="import_staging")
    op.drop_table("import_staging")
