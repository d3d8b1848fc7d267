"""The life of a pair through the real HTTP API: confirm, reject, end, feedback, report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import AuditEvent, Pair, Proposal
from tests.service.util import auth, org_id, person, proposal, school, settings_for, token


@dataclass
class School:
    client: TestClient
    db: Database
    org: int
    headers: dict[str, str]

    def mentor(self, key: str, capacity: int | None = None, consent: bool = True) -> int:
        return person(self.db, self.org, "mentor", key, capacity=capacity, consent=consent)

    def mentee(self, key: str, consent: bool = True) -> int:
        return person(self.db, self.org, "mentee", key, consent=consent)

    def confirm(self, mentee: int, mentor: int) -> tuple[int, dict[str, object]]:
        response = self.client.post(
            f"/api/v1/proposals/{proposal(self.db, self.org, mentee, mentor)}/confirm",
            headers=self.headers,
        )
        return response.status_code, response.json()


@pytest.fixture
def s1(db: Database) -> Iterator[School]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        yield School(client, db, org_id(db, "s1"), auth(token(db, "curator", "s1")))


def _count(db: Database, what: object) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


def test_confirm_makes_an_active_pair_and_twice_makes_no_second(s1: School) -> None:
    mentee, mentor = s1.mentee("e1"), s1.mentor("m1", capacity=2)
    proposal_id = proposal(s1.db, s1.org, mentee, mentor)
    first = s1.client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=s1.headers)
    again = s1.client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=s1.headers)
    assert first.status_code == 201
    assert first.json() | {"started_at": None} == first.json() | {
        "mentee_id": mentee, "mentor_id": mentor, "status": "active", "org": "s1",
        "proposal_id": proposal_id, "started_at": None,
    }  # fmt: skip
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    assert again.json()["pair_id"] == first.json()["pair_id"]
    assert _count(s1.db, Pair) == 1
    pairs = s1.client.get("/api/v1/orgs/s1/pairs", headers=s1.headers).json()
    assert [p["pair_id"] for p in pairs] == [first.json()["pair_id"]]


def test_a_full_mentor_is_refused_with_a_clear_reason(s1: School) -> None:
    mentor = s1.mentor("m1", capacity=1)
    assert s1.confirm(s1.mentee("e1"), mentor)[0] == 201
    status, body = s1.confirm(s1.mentee("e2"), mentor)
    assert status == 409
    assert body["code"] == "mentor_full"
    assert body["detail"] == "У наставника Имя m1 свободных мест нет: занято 1 из 1."
    assert (body["mentor_id"], body["taken"], body["capacity"]) == (mentor, 1, 1)


def test_a_curator_limit_lowers_the_capacity(s1: School) -> None:
    mentor = s1.mentor("m1", capacity=3)
    response = s1.client.put(
        f"/api/v1/orgs/s1/mentors/{mentor}/capacity-limit",
        json={"capacity_limit": 1},
        headers=s1.headers,
    )
    assert response.status_code == 200
    assert s1.confirm(s1.mentee("e1"), mentor)[0] == 201
    assert s1.confirm(s1.mentee("e2"), mentor)[1]["code"] == "mentor_full"


def test_a_mentee_has_one_active_pair(s1: School) -> None:
    mentee = s1.mentee("e1")
    assert s1.confirm(mentee, s1.mentor("m1"))[0] == 201
    status, body = s1.confirm(mentee, s1.mentor("m2"))
    assert (status, body["code"]) == (409, "mentee_has_pair")


@pytest.mark.parametrize("who", ["mentee", "mentor"])
def test_no_pair_without_recorded_consent(s1: School, who: str) -> None:
    mentee = s1.mentee("e1", consent=who != "mentee")
    mentor = s1.mentor("m1", consent=who != "mentor")
    status, body = s1.confirm(mentee, mentor)
    assert (status, body["code"]) == (409, "no_consent")
    assert _count(s1.db, Pair) == 0


def test_a_refused_confirmation_writes_nothing(s1: School) -> None:
    mentee = s1.mentee("e1")
    assert s1.confirm(mentee, s1.mentor("m1"))[0] == 201
    events = _count(s1.db, AuditEvent)
    proposal_id = proposal(s1.db, s1.org, mentee, s1.mentor("m2"))
    response = s1.client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=s1.headers)
    assert response.status_code == 409
    with s1.db.read() as session:
        assert session.get(Proposal, proposal_id).status == "open"  # type: ignore[union-attr]
    assert (_count(s1.db, Pair), _count(s1.db, AuditEvent)) == (1, events)


def test_withdrawn_consent_blocks_confirmation(s1: School) -> None:
    mentee, mentor = s1.mentee("e1"), s1.mentor("m1")
    proposal_id = proposal(s1.db, s1.org, mentee, mentor)
    response = s1.client.post(
        f"/api/v1/orgs/s1/people/{mentor}/consent", json={"given": False}, headers=s1.headers
    )
    assert response.status_code == 200
    response = s1.client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=s1.headers)
    assert response.json()["code"] == "no_consent"


def test_reject_then_confirm_is_refused(s1: School) -> None:
    proposal_id = proposal(s1.db, s1.org, s1.mentee("e1"), s1.mentor("m1"))
    response = s1.client.post(f"/api/v1/proposals/{proposal_id}/reject", headers=s1.headers)
    assert response.status_code == 200
    response = s1.client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=s1.headers)
    assert response.status_code == 409
    assert s1.client.get("/api/v1/orgs/s1/proposals", headers=s1.headers).json() == []


def test_ending_a_pair_frees_the_place_and_keeps_the_history(s1: School) -> None:
    mentor = s1.mentor("m1", capacity=1)
    _, pair = s1.confirm(s1.mentee("e1"), mentor)
    bad = s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "надоело"}, headers=s1.headers
    )
    assert bad.status_code == 422
    assert "transfer" in bad.json()["detail"]
    ended = s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "transfer"}, headers=s1.headers
    )
    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "transfer")
    again = s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "completed"}, headers=s1.headers
    )
    assert again.status_code == 409
    assert s1.confirm(s1.mentee("e2"), mentor)[0] == 201
    statuses = [
        p["status"] for p in s1.client.get("/api/v1/orgs/s1/pairs", headers=s1.headers).json()
    ]
    assert statuses == ["ended", "active"]


def test_feedback_and_satisfaction_reach_the_report(s1: School) -> None:
    _, pair = s1.confirm(s1.mentee("e1"), s1.mentor("m1"))
    s1.mentee("e2")  # waiting for a mentor
    s1.mentee("e3", consent=False)
    for author, score in [("mentee", 9), ("mentor", 6)]:
        response = s1.client.post(
            f"/api/v1/pairs/{pair['pair_id']}/feedback",
            json={"author": author, "kind": "satisfaction", "score": score, "comment": "Полезно"},
            headers=s1.headers,
        )
        assert response.status_code == 201
    bad = s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/feedback",
        json={"author": "mentee", "score": 11},
        headers=s1.headers,
    )
    assert bad.status_code == 422
    report = s1.client.get("/api/v1/orgs/s1/report", headers=s1.headers).json()
    assert report["coverage"] == {
        "mentees": 3, "mentees_with_consent": 2, "mentees_with_pair": 1, "share": 0.5
    }  # fmt: skip
    assert report["waiting"]["mentees"] == 1
    assert report["satisfaction"]["mentees"]["percent"] == 90.0
    assert report["satisfaction"]["mentors"]["percent"] == 60.0
    assert report["satisfaction"]["mentors"]["meets_target"] is False
    assert report["mentor_load"]["over_capacity"] == 0
    assert {"form": "педагог – педагог", "status": "active", "count": 1} in report["pairs"]
    s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "completed"}, headers=s1.headers
    )
    waiting = s1.client.get("/api/v1/orgs/s1/report", headers=s1.headers).json()["waiting"]
    assert waiting["mentees"] == 1  # a completed programme is not waiting for a mentor


def test_every_change_is_in_the_audit_log_without_names(s1: School) -> None:
    _, pair = s1.confirm(s1.mentee("e1"), s1.mentor("m1"))
    s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "completed"}, headers=s1.headers
    )
    with s1.db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [(e.action, e.entity) for e in events]
        text = " ".join(str(e.detail) for e in events)
    assert actions[-2:] == [("confirm", "proposal"), ("end", "pair")]
    assert all(e.actor.startswith("curator-s1") or e.actor == "cli" for e in events)
    assert "Имя" not in text
    api = s1.client.get("/api/v1/orgs/s1/audit", headers=s1.headers).json()
    assert [(e["action"], e["entity"]) for e in api[:2]] == [
        ("end", "pair"),
        ("confirm", "proposal"),
    ]


def test_waiting_mentees_longest_first_and_again_after_a_mentor_leaves(s1: School) -> None:
    from datetime import timedelta

    from service.core.models import Person, utcnow

    long_ago, recently, paired = s1.mentee("e1"), s1.mentee("e2"), s1.mentee("e3")
    with s1.db.write() as session:
        for mentee, days in ((long_ago, 45), (recently, 3), (paired, 60)):
            session.get(Person, mentee).entered_at = utcnow() - timedelta(days=days)  # type: ignore[union-attr]
    _, pair = s1.confirm(paired, s1.mentor("m1"))
    waiting = s1.client.get("/api/v1/orgs/s1/waiting", headers=s1.headers).json()
    assert [(w["mentee_id"], w["days"], w["overdue"]) for w in waiting] == [
        (long_ago, 45, True),
        (recently, 3, False),
    ]
    s1.client.post(
        f"/api/v1/pairs/{pair['pair_id']}/end", json={"reason": "transfer"}, headers=s1.headers
    )
    waiting = s1.client.get("/api/v1/orgs/s1/waiting", headers=s1.headers).json()
    assert [(w["mentee_id"], w["days"]) for w in waiting] == [
        (long_ago, 45), (recently, 3), (paired, 0)
    ]  # fmt: skip
