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


def test_database_refuses_a_fourth_active_place_of_a_mentor(db: Database) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from service.core.models import Pair
    from tests.service.util import org_id, person, school

    org = org_id(db, school(db))
    mentor = person(db, org, "mentor", "m")
    mentees = [person(db, org, "mentee", f"e{i}") for i in range(4)]
    with db.write() as session:
        for place, mentee in enumerate(mentees[:3], start=1):
            session.add(Pair(org_id=org, mentee_id=mentee, mentor_id=mentor, form="t", place=place))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Pair(org_id=org, mentee_id=mentees[3], mentor_id=mentor, form="t", place=4))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Pair(org_id=org, mentee_id=mentees[3], mentor_id=mentor, form="t", place=1))
