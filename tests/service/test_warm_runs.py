"""Warm runs: after a confirmation, a rejection or a person leaving, the next run of a school or
municipality takes unchanged people's scores from the last run and gives what a cold run gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, school, settings_for, token

DATA = Path(__file__).with_name("data")


def _load(client: TestClient, db: Database) -> dict[str, str]:
    for code in ("s1", "s2"):
        school(db, code, "m1")
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    mentors = (DATA / "mentors.csv").read_text()
    for code, side, content in [("s1", "mentees", (DATA / "mentees.csv").read_text()),
                                ("s1", "mentors", mentors),
                                ("s2", "mentors", mentors.replace("@school.ru", "@s2.ru"))]:  # fmt: skip
        response = client.post(
            f"/api/v1/orgs/{code}/imports/{side}",
            files={"file": (f"{side}.csv", content.encode(), "text/csv")},
            data={"spec": "teacher"},
            headers=auth(token(db, "curator", code)),
        )
        assert response.status_code == 201, response.text
    return headers


def _run(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/municipalities/m1/matching-runs", headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _summary(run: dict[str, Any]) -> tuple[int, float, list[int]]:
    return (
        len(run["proposals"]),
        round(sum(p["score"] for p in run["proposals"]), 6),
        sorted(run["unmatched"]),
    )


def test_the_next_run_reuses_scores_and_matches_a_cold_run(db: Database) -> None:
    app = create_app(settings_for(db), db)
    with TestClient(app) as client:
        headers = _load(client, db)
        first = _run(client, headers)
        assert len(first["proposals"]) >= 3
        cache = app.state.solver.cache
        assert cache.hits == 0
        confirmed, rejected, other = first["proposals"][:3]
        assert client.post(
            f"/api/v1/proposals/{confirmed['proposal_id']}/confirm", headers=headers
        ).is_success
        assert client.post(
            f"/api/v1/proposals/{rejected['proposal_id']}/reject", headers=headers
        ).is_success
        warm = _run(client, headers)
        assert cache.hits == 1  # same people, same answers: no scoring
        assert confirmed["mentee_id"] not in {p["mentee_id"] for p in warm["proposals"]}
        pairs = {(p["mentee_id"], p["mentor_id"]) for p in warm["proposals"]}
        assert (rejected["mentee_id"], rejected["mentor_id"]) not in pairs
        assert all(p["reasons"] for p in warm["proposals"])
        # a mentor leaves the programme: the cached scores of the others are used
        org = "s1" if other["mentor_id"] in _ids(client, db, "s1") else "s2"
        left = client.post(
            f"/api/v1/orgs/{org}/people/{other['mentor_id']}/archive",
            headers=auth(token(db, "curator", org)),
        )
        assert left.is_success, left.text
        after = _run(client, headers)
        assert cache.hits == 2
        assert other["mentor_id"] not in {p["mentor_id"] for p in after["proposals"]}
        assert all(p["reasons"] and p["form"] for p in after["proposals"])
    with TestClient(create_app(settings_for(db), db)) as cold_client:  # a fresh process: cold
        cold = _run(cold_client, headers)
        assert cold_client.app.state.solver.cache.hits == 0  # type: ignore[attr-defined]
    assert _summary(cold) == _summary(after)


def _ids(client: TestClient, db: Database, org: str) -> set[int]:
    people = client.get(f"/api/v1/orgs/{org}/people", headers=auth(token(db, "curator", org)))
    return {p["id"] for p in people.json()}
