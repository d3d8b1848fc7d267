"""consents: whose consent (the participant's or a parent's) and the date on the paper

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Earlier records summed up every consent of a questionnaire: they count as the participant's.
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="participant")
        )
        batch_op.add_column(sa.Column("signed_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_consents_kind"), "kind IN ('participant', 'parent')"
        )


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_consents_kind"), type_="check")
        batch_op.drop_column("signed_on")
        batch_op.drop_column("kind")
