"""proposals: why a proposal was superseded (the mentee got a pair, the mentor is full, ...)

Revision ID: pages
Revises: 0002
Create Date: 2026-12-01 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pages"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
