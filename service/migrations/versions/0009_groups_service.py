"""groups-service: groups of a mentor, their sizes, co-mentors, terms, external mentors

A pair now belongs to a group (a mentor, a form, a school) whose size the database bounds; a
mentee may have up to ``demand`` active pairs with distinct mentors; a pair has a planned term
and a history of changes; an organisation may be a college or an enterprise whose mentors serve
schools. Every existing pair is put in the group of its mentor, form and school.

Revision ID: groups_service
Revises: harden2
Create Date: 2026-12-01 21:50:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "groups_service"
down_revision = "harden2"
branch_labels = None
depends_on = None

_MAX_GROUP_SIZE = 30
_MAX_DEMAND = 3
_OLD_CAPACITY = 3
# docs/rules.md#group: the defaults of service.core.rules.GROUP_SIZE_DEFAULTS at this revision
_DEFAULT_SIZES = {"pupil_pupil": 10, "student_pupil": 10, "employer_pupil": 10}
_ACTIVE = sa.text("status = 'active'")


def _create_tables() -> None:
    op.create_table(
        "mentor_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=100), nullable=False),
        sa.Column("size_limit", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=50), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'active') = (ended_at IS NULL)",
            name=op.f("ck_mentor_groups_ended_at_iff_not_active"),
        ),
        sa.CheckConstraint(
            f"size_limit BETWEEN 1 AND {_MAX_GROUP_SIZE}", name=op.f("ck_mentor_groups_size_limit")
        ),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_mentor_groups_status")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_mentor_groups_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["people.id"], name=op.f("fk_mentor_groups_mentor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_mentor_groups_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_groups")),
        sa.UniqueConstraint("id", "size_limit", name="uq_mentor_groups_id_size"),
    )
    with op.batch_alter_table("mentor_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentor_groups_mentor_id"), ["mentor_id"])
        batch_op.create_index(batch_op.f("ix_mentor_groups_org_id"), ["org_id"])
        batch_op.create_index(
            "uq_mentor_groups_active",
            ["mentor_id", "form", "org_id"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
    op.create_table(
        "group_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=100), nullable=False),
        sa.Column("max_size", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"max_size BETWEEN 1 AND {_MAX_GROUP_SIZE}", name=op.f("ck_group_limits_max_size")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_group_limits_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_limits_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_limits")),
        sa.UniqueConstraint("org_id", "form", name="uq_group_limits_form"),
    )
    op.create_index(op.f("ix_group_limits_org_id"), "group_limits", ["org_id"])
    op.create_table(
        "pair_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("old_value", sa.String(length=100), nullable=True),
        sa.Column("new_value", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('term', 'form')", name=op.f("ck_pair_changes_kind")),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pairs.id"], name=op.f("fk_pair_changes_pair_id_pairs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pair_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_changes")),
    )
    op.create_index(op.f("ix_pair_changes_pair_id"), "pair_changes", ["pair_id"])
    op.create_table(
        "mentor_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('in_person', 'remote')", name=op.f("ck_mentor_services_mode")),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["people.id"], name=op.f("fk_mentor_services_mentor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_mentor_services_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mentor_services_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_services")),
        sa.UniqueConstraint("mentor_id", "org_id", name="uq_mentor_services_school"),
    )
    op.create_index(op.f("ix_mentor_services_mentor_id"), "mentor_services", ["mentor_id"])
    op.create_index(op.f("ix_mentor_services_org_id"), "mentor_services", ["org_id"])


def _group_existing_pairs() -> None:
    """Put each pair in the group of its mentor, form and school (one group per triple)."""
    bind = op.get_bind()
    pairs = sa.table(
        "pairs",
        sa.column("id", sa.Integer()),
        sa.column("org_id", sa.Integer()),
        sa.column("mentor_id", sa.Integer()),
        sa.column("form", sa.String()),
        sa.column("status", sa.String()),
        sa.column("place", sa.Integer()),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("ended_at", sa.DateTime(timezone=True)),
        sa.column("group_id", sa.Integer()),
        sa.column("group_size", sa.Integer()),
    )
    groups = sa.table(
        "mentor_groups",
        sa.column("id", sa.Integer()),
        sa.column("org_id", sa.Integer()),
        sa.column("mentor_id", sa.Integer()),
        sa.column("form", sa.String()),
        sa.column("size_limit", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("ended_at", sa.DateTime(timezone=True)),
    )
    found: dict[tuple[int, int, str], list[Any]] = {}
    query = sa.select(
        pairs.c.id, pairs.c.org_id, pairs.c.mentor_id, pairs.c.form, pairs.c.status,
        pairs.c.place, pairs.c.started_at, pairs.c.ended_at,
    ).order_by(pairs.c.id)  # fmt: skip
    for row in bind.execute(query):
        found.setdefault((row.mentor_id, row.org_id, row.form), []).append(row)
    now = datetime.now(UTC)
    for (mentor_id, org_id, form), rows in found.items():
        active = any(r.status == "active" for r in rows)
        size = max(
            _DEFAULT_SIZES.get(form, _OLD_CAPACITY), *(r.place for r in rows if r.place is not None)
        )
        ended = None if active else max((r.ended_at or now) for r in rows)
        group_id = bind.execute(
            groups.insert()
            .values(
                org_id=org_id, mentor_id=mentor_id, form=form, size_limit=size,
                status="active" if active else "ended",
                created_at=min(r.started_at or now for r in rows), ended_at=ended,
            )
            .returning(groups.c.id)
        ).scalar_one()  # fmt: skip
        bind.execute(
            pairs.update()
            .where(pairs.c.id.in_([r.id for r in rows]))
            .values(group_id=group_id, group_size=size)
        )


def upgrade() -> None:
    _create_tables()
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="school", nullable=False)
        )
        batch_op.create_check_constraint(
            "kind", "kind IN ('school', 'college', 'enterprise', 'other')"
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("demand", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint(batch_op.f("ck_people_capacity"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_people_capacity_limit"), type_="check")
        batch_op.create_check_constraint("capacity", f"capacity BETWEEN 0 AND {_MAX_GROUP_SIZE}")
        batch_op.create_check_constraint(
            "capacity_limit", f"capacity_limit BETWEEN 0 AND {_MAX_GROUP_SIZE}"
        )
        batch_op.create_check_constraint("demand", f"demand BETWEEN 1 AND {_MAX_DEMAND}")
        batch_op.create_unique_constraint("uq_people_id_demand", ["id", "demand"])
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("group_size", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("mentee_place", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("mentee_demand", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("planned_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("planned_end", sa.Date(), nullable=True))
    _group_existing_pairs()
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_pairs_active_mentee", sqlite_where=_ACTIVE, postgresql_where=_ACTIVE
        )
        batch_op.drop_index(
            "uq_pairs_active_mentor_place", sqlite_where=_ACTIVE, postgresql_where=_ACTIVE
        )
        batch_op.drop_constraint(batch_op.f("ck_pairs_place"), type_="check")
        batch_op.create_check_constraint("place", f"place BETWEEN 1 AND {_MAX_GROUP_SIZE}")
        batch_op.create_check_constraint(
            "group_place",
            "status != 'active' OR (group_id IS NOT NULL AND group_size IS NOT NULL "
            "AND place <= group_size)",
        )
        batch_op.create_check_constraint(
            "mentee_place", "status != 'active' OR mentee_place BETWEEN 1 AND mentee_demand"
        )
        batch_op.create_check_constraint("planned_term", "planned_end > planned_start")
        batch_op.create_foreign_key(
            "fk_pairs_group_size",
            "mentor_groups",
            ["group_id", "group_size"],
            ["id", "size_limit"],
            onupdate="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_pairs_mentee_demand",
            "people",
            ["mentee_id", "mentee_demand"],
            ["id", "demand"],
            onupdate="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_pairs_group_id"), ["group_id"])
        batch_op.create_index(
            "uq_pairs_active_mentee_place",
            ["mentee_id", "mentee_place"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
        batch_op.create_index(
            "uq_pairs_active_mentee_mentor",
            ["mentee_id", "mentor_id"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
        batch_op.create_index(
            "uq_pairs_active_group_place",
            ["group_id", "place"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_index("uq_pairs_active_group_place")
        batch_op.drop_index("uq_pairs_active_mentee_mentor")
        batch_op.drop_index("uq_pairs_active_mentee_place")
        batch_op.drop_index(batch_op.f("ix_pairs_group_id"))
        batch_op.drop_constraint(batch_op.f("fk_pairs_mentee_demand"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_pairs_group_size"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_pairs_planned_term"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_pairs_mentee_place"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_pairs_group_place"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_pairs_place"), type_="check")
        batch_op.create_check_constraint("place", f"place BETWEEN 1 AND {_OLD_CAPACITY}")
        for column in (
            "planned_end", "planned_start", "mentee_demand", "mentee_place", "group_size",
            "group_id",
        ):  # fmt: skip
            batch_op.drop_column(column)
        batch_op.create_index(
            "uq_pairs_active_mentor_place",
            ["mentor_id", "place"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
        batch_op.create_index(
            "uq_pairs_active_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_people_id_demand"), type_="unique")
        batch_op.drop_constraint(batch_op.f("ck_people_demand"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_people_capacity_limit"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_people_capacity"), type_="check")
        batch_op.create_check_constraint("capacity", f"capacity BETWEEN 0 AND {_OLD_CAPACITY}")
        batch_op.create_check_constraint(
            "capacity_limit", f"capacity_limit BETWEEN 0 AND {_OLD_CAPACITY}"
        )
        batch_op.drop_column("demand")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organisations_kind"), type_="check")
        batch_op.drop_column("kind")
    for table in ("mentor_services", "pair_changes", "group_limits", "mentor_groups"):
        op.drop_table(table)
