"""Access: tokens, roles and the scope of every request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, org_id, person, proposal, school, settings_for, token


@pytest.fixture
def world(db: Database) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """Two schools of municipality m1 and one of m2, each with a proposal and a pair."""
    ids: dict[str, int] = {}
    for code, municipality in [("s1", "m1"), ("s2", "m1"), ("s3", "m2")]:
        school(db, code, municipality)
        org = org_id(db, code)
        mentee = person(db, org, "mentee", f"{code}-e", name=f"Ученица {code}")
        mentor = person(db, org, "mentor", f"{code}-m")
        ids[f"{code}-mentee"] = mentee
        ids[f"{code}-proposal"] = proposal(db, org, mentee, mentor)
    with TestClient(create_app(settings_for(db), db)) as client:
        admin = auth(token(db, "admin", None))
        ids["s1-pair"] = client.post(
            f"/api/v1/proposals/{ids['s1-proposal']}/confirm", headers=admin
        ).json()["pair_id"]
        ids["s1-proposal"] = proposal(
            db, org_id(db, "s1"), ids["s1-mentee"], person(db, org_id(db, "s1"), "mentor", "x")
        )
        yield client, ids


def test_health_and_docs_need_no_token(world: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = world
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/proposals/{proposal_id}/confirm" in paths


@pytest.mark.parametrize("headers", [{}, auth("not-a-token"), {"Authorization": "Basic eA=="}])
def test_no_valid_token_no_data(
    world: tuple[TestClient, dict[str, int]], headers: dict[str, str]
) -> None:
    client, _ = world
    response = client.get("/api/v1/orgs/s1/people", headers=headers)
    assert response.status_code == 401
    assert "Ученица" not in response.text


def test_a_curator_sees_only_their_school(
    db: Database, world: tuple[TestClient, dict[str, int]]
) -> None:
    client, ids = world
    own = auth(token(db, "curator", "s2"))
    assert [o["code"] for o in client.get("/api/v1/orgs", headers=own).json()] == ["s2"]
    requests = [
        ("get", "/api/v1/orgs/s1/people", None),
        ("get", "/api/v1/orgs/s1/pairs", None),
        ("get", "/api/v1/orgs/s1/proposals", None),
        ("get", "/api/v1/orgs/s1/report", None),
        ("get", f"/api/v1/orgs/s1/mentees/{ids['s1-mentee']}/suggestions", None),
        ("post", f"/api/v1/proposals/{ids['s1-proposal']}/confirm", None),
        ("post", f"/api/v1/proposals/{ids['s1-proposal']}/reject", None),
        ("get", f"/api/v1/pairs/{ids['s1-pair']}", None),
        ("post", f"/api/v1/pairs/{ids['s1-pair']}/end", {"reason": "other"}),
        ("post", f"/api/v1/pairs/{ids['s1-pair']}/feedback", {"author": "mentee", "score": 5}),
        ("post", f"/api/v1/orgs/s1/people/{ids['s1-mentee']}/consent", {"given": False}),
        ("post", "/api/v1/orgs/s1/matching-runs", None),
        ("get", f"/api/v1/orgs/s2/mentees/{ids['s1-mentee']}/suggestions", None),
        ("get", "/api/v1/orgs/s1/waiting", None),
        ("get", f"/api/v1/pairs/{ids['s1-pair']}/feedback", None),
        ("post", "/api/v1/orgs/s1/orders", {"number": "1", "date": "2024-09-01"}),
        ("post", "/api/v1/orgs/s2/orders", {"number": "1", "date": "2024-09-01",
                                            "pair_ids": [ids["s1-pair"]]}),
        ("get", f"/api/v1/orgs/s1/people/{ids['s1-mentee']}/answers", None),
        ("patch", f"/api/v1/orgs/s1/people/{ids['s1-mentee']}/answers",
         {"version": 1, "answers": {"full_name": "Чужая правка"}}),
        ("patch", f"/api/v1/orgs/s2/people/{ids['s1-mentee']}/answers",
         {"version": 1, "answers": {"full_name": "Чужая правка"}}),
        ("get", "/api/v1/orgs/s1/feedback/paged", None),
    ]  # fmt: skip
    for method, url, body in requests:
        response = client.request(method, url, headers=own, json=body)
        assert response.status_code == 404, (url, response.text)
        assert "Ученица" not in response.text
    assert (
        client.get(
            f"/api/v1/pairs/{ids['s1-pair']}", headers=auth(token(db, "curator", "s1"))
        ).status_code
        == 200
    )


def test_a_coordinator_sees_the_schools_of_their_municipality(
    db: Database, world: tuple[TestClient, dict[str, int]]
) -> None:
    client, ids = world
    coordinator = auth(token(db, "coordinator", None, municipality="m1"))
    codes = [o["code"] for o in client.get("/api/v1/orgs", headers=coordinator).json()]
    assert codes == ["s1", "s2"]
    assert client.get("/api/v1/orgs/s2/people", headers=coordinator).status_code == 200
    assert client.get("/api/v1/orgs/s3/people", headers=coordinator).status_code == 404
    assert (
        client.post(
            f"/api/v1/proposals/{ids['s3-proposal']}/confirm", headers=coordinator
        ).status_code
        == 404
    )
    other = client.post("/api/v1/municipalities/m2/matching-runs", headers=coordinator)
    assert other.status_code == 404
    curator = client.post(
        "/api/v1/municipalities/m1/matching-runs", headers=auth(token(db, "curator", "s1"))
    )
    assert curator.status_code == 403


def test_an_admin_sees_everything(db: Database, world: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = world
    admin = auth(token(db, "admin", None))
    assert [o["code"] for o in client.get("/api/v1/orgs", headers=admin).json()] == [
        "s1",
        "s2",
        "s3",
    ]
