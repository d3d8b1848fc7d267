"""Migrations: the shipped Alembic scripts build exactly the schema of the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.core.db import Database
from service.core.models import Base


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_database_refuses_a_member_beyond_the_group_size(db: Database) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from service.core.models import Pair
    from tests.service.util import group, org_id, person, school

    org = org_id(db, school(db))
    mentor = person(db, org, "mentor", "m")
    mentees = [person(db, org, "mentee", f"e{i}") for i in range(4)]
    group_id, size = group(db, org, mentor, size=3)
    member = {"org_id": org, "mentor_id": mentor, "form": "t", "group_id": group_id}
    with db.write() as session:
        for place, mentee in enumerate(mentees[:3], start=1):
            session.add(Pair(mentee_id=mentee, place=place, group_size=size, **member))
    # a fourth place, a place taken, a size that is not the group's, no group at all
    for place, size_given in ((4, 3), (1, 3), (4, 4)):
        with pytest.raises(IntegrityError), db.write() as session:
            session.add(Pair(mentee_id=mentees[3], place=place, group_size=size_given, **member))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Pair(org_id=org, mentee_id=mentees[3], mentor_id=mentor, form="t", place=1))


def test_database_refuses_a_mentee_pair_beyond_their_demand(db: Database) -> None:
    import pytest
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from service.core.models import Pair, Person
    from tests.service.util import group, org_id, person, school

    org = org_id(db, school(db))
    mentors = [person(db, org, "mentor", f"m{i}") for i in range(3)]
    mentee = person(db, org, "mentee", "e")
    groups = [group(db, org, m) for m in mentors]

    def pair(k: int, mentee_place: int, demand: int, mentor: int | None = None) -> Pair:
        return Pair(
            org_id=org, mentee_id=mentee, mentor_id=mentor or mentors[k], form="t", place=1,
            group_id=groups[k][0], group_size=groups[k][1], mentee_place=mentee_place,
            mentee_demand=demand,
        )  # fmt: skip

    with db.write() as session:
        session.add(pair(0, 1, 1))
    # a second mentor of a mentee who needs one: refused however it is written
    for mentee_place, demand in ((2, 1), (1, 1), (2, 2)):
        with pytest.raises(IntegrityError), db.write() as session:
            session.add(pair(1, mentee_place, demand))
    with db.write() as session:
        session.execute(update(Person).where(Person.id == mentee).values(demand=2))
        session.add(pair(1, 2, 2))
    # one mentor twice, a third mentor, and a demand lowered below the active pairs: refused
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(pair(2, 3, 2, mentor=mentors[0]))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(pair(2, 3, 2))
    with pytest.raises(IntegrityError), db.write() as session:
        session.execute(update(Person).where(Person.id == mentee).values(demand=1))
