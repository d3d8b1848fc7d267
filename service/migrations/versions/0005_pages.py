"""proposals: why one was superseded; runs: why each mentee got no pair, mentors left free

Revision ID: pages
Revises: monitoring
Create Date: 2026-12-01 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pages"
down_revision = "monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.String(length=40), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unmatched_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("free_mentors", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.drop_column("free_mentors")
        batch_op.drop_column("unmatched_reasons")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
