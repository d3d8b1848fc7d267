"""importlock: a big import's new people wait in a hidden organisation, not in a staging table

An import of more than one chunk of new people writes them (people, answers, consents) in short
transactions into a hidden organisation (``organisations.pending_import``, the import's key) and
its last transaction moves them to their school with one ``UPDATE``: other schools' writes wait
for a chunk, not for the copy of the whole file. The staging table of harden2 is no longer used.

Revision ID: importlock
Revises: groups_service
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "importlock"
down_revision = "groups_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_import", sa.String(length=32), nullable=True))
    op.drop_index(op.f("ix_import_staging_key"), table_name="import_staging")
    op.drop_table("import_staging")


def downgrade() -> None:
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
    # The people of an import that had not finished are deleted with their hidden holders.
    hidden = "SELECT id FROM organisations WHERE pending_import IS NOT NULL"
    people = f"SELECT id FROM people WHERE org_id IN ({hidden})"
    for table in ("consents", "answers"):
        op.execute(f"DELETE FROM {table} WHERE person_id IN ({people})")
    op.execute(f"DELETE FROM people WHERE org_id IN ({hidden})")
    op.execute(f"DELETE FROM imports WHERE org_id IN ({hidden})")
    op.execute(f"DELETE FROM organisations WHERE id IN ({hidden})")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("pending_import")
