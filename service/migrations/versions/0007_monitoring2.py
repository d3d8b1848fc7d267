"""monitoring2: curators appointed by an order, for the municipal base of curators

Revision ID: monitoring2
Revises: hardening
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "monitoring2"
down_revision = "hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "curator_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("post", sa.String(length=300), nullable=False),
        sa.Column("order_number", sa.String(length=50), nullable=False),
        sa.Column("appointed_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_curator_appointments_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_curator_appointments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curator_appointments")),
    )
    op.create_index(
        op.f("ix_curator_appointments_org_id"), "curator_appointments", ["org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_curator_appointments_org_id"), table_name="curator_appointments")
    op.drop_table("curator_appointments")
