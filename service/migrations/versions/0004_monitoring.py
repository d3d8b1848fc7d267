"""monitoring: denominators of the indicators per school and programme year; regions

Revision ID: monitoring
Revises: participation
Create Date: 2026-12-01 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "monitoring"
down_revision = "participation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "denominators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("pupils_10_19", sa.Integer(), nullable=False),
        sa.Column("pupils_15_19", sa.Integer(), nullable=False),
        sa.Column("young_teachers", sa.Integer(), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pupils_10_19 >= 0 AND pupils_15_19 >= 0 AND young_teachers >= 0 AND enterprises >= 0",
            name=op.f("ck_denominators_not_negative"),
        ),
        sa.CheckConstraint(
            "pupils_15_19 <= pupils_10_19", name=op.f("ck_denominators_ages_nested")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_denominators_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_denominators_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_denominators")),
        sa.UniqueConstraint("org_id", "year", name="uq_denominators_org_year"),
    )
    op.create_index(op.f("ix_denominators_org_id"), "denominators", ["org_id"], unique=False)
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_organisations_region"), ["region"], unique=False)
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=200), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_users_role"), "role IN ('admin', 'region', 'coordinator', 'curator')"
        )
        batch_op.create_check_constraint(
            op.f("ck_users_region_has_region"), "role != 'region' OR region IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_region_has_region"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_users_role"), "role IN ('admin', 'coordinator', 'curator')"
        )
        batch_op.drop_column("region")
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.drop_column("region")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_region"))
        batch_op.drop_column("region")
    op.drop_index(op.f("ix_denominators_org_id"), table_name="denominators")
    op.drop_table("denominators")
