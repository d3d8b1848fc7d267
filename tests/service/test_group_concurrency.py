"""Groups and co-mentors under real concurrency: curators confirm at the same moment on a live
server; the group's size and the mentee's demand hold (docs/rules.md#group, #co-mentors)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from service.core.db import Database
from service.core.models import GroupLimit, MentorGroup, Pair, Person, Proposal
from tests.service.test_concurrency import _post_together
from tests.service.util import live_server, org_id, person, school, token

ROUNDS = 6


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


def _propose(db: Database, org: int, mentee: int, mentor: int, form: str) -> int:
    with db.write() as session:
        made = Proposal(
            org_id=org, mentee_id=mentee, mentor_id=mentor, score=0.5, reasons=["тест"], form=form
        )
        session.add(made)
        session.flush()
        return made.id


def _active(db: Database, *where: object) -> int:
    with db.read() as session:
        query = select(func.count(Pair.id)).where(Pair.status == "active", *where)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def test_the_last_places_of_a_group_go_to_exactly_as_many_curators(db: Database) -> None:
    org = org_id(db, school(db, "s1"))
    with db.write() as session:
        session.add(GroupLimit(org_id=org, form="pupil_pupil", max_size=4))
    tokens = [token(db, "curator", "s1") for _ in range(7)]
    with live_server(db) as base:
        for round_ in range(ROUNDS):
            mentor = person(db, org, "mentor", f"m{round_}", capacity=10, spec="pupil")
            mentees = [person(db, org, "mentee", f"e{round_}-{k}", spec="pupil") for k in range(7)]
            proposals = [_propose(db, org, e, mentor, "pupil_pupil") for e in mentees]
            answers = _post_together(
                base,
                [
                    (f"/api/v1/proposals/{p}/confirm", None, tokens[k])
                    for k, p in enumerate(proposals)
                ],
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [201] * 4 + [409] * 3, [a.text for a in answers]
            assert {a.json()["code"] for a in answers if a.status_code == 409} == {"group_full"}
            assert _active(db, Pair.mentor_id == mentor) == 4
            with db.read() as session:
                groups = session.scalars(
                    select(MentorGroup.id).where(MentorGroup.mentor_id == mentor)
                ).all()
            assert len(groups) == 1  # one group formed, however many confirmed at once


def test_a_mentee_gets_exactly_their_demand_of_mentors_at_once(db: Database) -> None:
    org = org_id(db, school(db, "s1"))
    tokens = [token(db, "curator", "s1") for _ in range(4)]
    with live_server(db) as base:
        for round_ in range(ROUNDS):
            mentee = person(db, org, "mentee", f"e{round_}")
            with db.write() as session:
                session.execute(update(Person).where(Person.id == mentee).values(demand=2))
            mentors = [person(db, org, "mentor", f"m{round_}-{k}") for k in range(4)]
            proposals = [_propose(db, org, mentee, m, "teacher_teacher") for m in mentors]
            answers = _post_together(
                base,
                [
                    (f"/api/v1/proposals/{p}/confirm", None, tokens[k])
                    for k, p in enumerate(proposals)
                ],
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [201, 201, 409, 409], [a.text for a in answers]
            assert {a.json()["code"] for a in answers if a.status_code == 409} == {
                "mentee_has_pair"
            }
            assert _active(db, Pair.mentee_id == mentee) == 2
