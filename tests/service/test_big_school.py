"""A school of 40,000 people lists on both engines: no statement binds one parameter per person
(PostgreSQL allows 65,535 per statement, SQLite 32,766)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from service.app import create_app
from service.core.db import Database
from service.core.models import Person, utcnow
from tests.service.util import auth, org_id, school, settings_for, token

pytestmark = pytest.mark.slow

PEOPLE = 40_000


def test_a_school_of_40000_people_lists(db: Database) -> None:
    org = org_id(db, school(db, "s1", "m1"))
    now = utcnow()
    with db.write() as session:
        session.execute(
            insert(Person),
            [
                {
                    "org_id": org,
                    "side": "mentee" if k % 4 else "mentor",
                    "external_id": f"p{k}@school.ru",
                    "name": f"Участник {k}",
                    "spec": "teacher",
                    "consent": True,
                    "version": 1,
                    "entered_at": now,
                    "updated_at": now,
                }
                for k in range(PEOPLE)
            ],
        )
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        listed = client.get("/api/v1/orgs/s1/people", headers=headers)
        assert listed.status_code == 200, listed.text[:500]
        assert len(listed.json()) == PEOPLE
        mentees = client.get("/api/v1/orgs/s1/people?side=mentee", headers=headers)
        assert len(mentees.json()) == PEOPLE * 3 // 4
