"""Municipality batches: many schools in one run, virtual pairs across schools, blocks, Dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from matching import Problem, blocks, solve
from service.app import create_app
from service.core.db import Database
from service.runs.executor import Solver
from tests.service.util import auth, school, settings_for, token

DATA = Path(__file__).with_name("data")


def _municipality(db: Database, client: TestClient) -> dict[str, dict[str, str]]:
    """s1 has only mentees (Козлов also meets remotely), s2 only mentors; s3 is elsewhere."""
    for code, municipality in [("s1", "m1"), ("s2", "m1"), ("s3", "m2")]:
        school(db, code, municipality)
    headers = {code: auth(token(db, "curator", code)) for code in ("s1", "s2", "s3")}
    mentees = (
        (DATA / "mentees.csv")
        .read_text()
        .replace("постоянно;Очно;пн утро", "постоянно;Очно, Дистанционно;пн утро")
    )
    uploads = [("s1", "mentees", mentees.encode()), ("s2", "mentors", (DATA / "mentors.csv").read_bytes()),
               ("s3", "mentors", (DATA / "mentors.csv").read_bytes())]  # fmt: skip
    for code, side, content in uploads:
        response = client.post(
            f"/api/v1/orgs/{code}/imports/{side}",
            files={"file": (f"{side}.csv", content, "text/csv")},
            headers=headers[code],
        )
        assert response.status_code == 201, response.text
    return headers


def _names(client: TestClient, headers: dict[str, str], org: str) -> dict[int, str]:
    people = client.get(f"/api/v1/orgs/{org}/people", headers=headers).json()
    return {p["id"]: p["external_id"] for p in people}


def test_a_coordinator_batch_makes_virtual_pairs_across_schools(db: Database) -> None:
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = _municipality(db, client)
        coordinator = auth(token(db, "coordinator", None, municipality="m1"))
        response = client.post("/api/v1/municipalities/m1/matching-runs", headers=coordinator)
        assert response.status_code == 201, response.text
        run = response.json()
        mentees, mentors = _names(client, headers["s1"], "s1"), _names(client, headers["s2"], "s2")
        proposed = {
            (mentees[p["mentee_id"]], mentors.get(p["mentor_id"])) for p in run["proposals"]
        }
        # Only Козлов and Смирнов both meet remotely: the one pair that may cross schools.
        assert proposed == {("kozlov@school.ru", "smirnov@school.ru")}
        assert len(run["unmatched"]) == 2
        proposal_id = run["proposals"][0]["proposal_id"]
        outsider = client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=headers["s3"])
        assert outsider.status_code == 404
        pair = client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=headers["s1"])
        assert pair.status_code == 201
        mentor_side = client.get("/api/v1/orgs/s2/pairs", headers=headers["s2"]).json()
        assert [p["pair_id"] for p in mentor_side] == [pair.json()["pair_id"]]


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_batch_on_a_local_dask_cluster_gives_the_same_pairs(db: Database) -> None:
    with TestClient(create_app(settings_for(db, dask_scheduler="local"), db)) as client:
        _municipality(db, client)
        coordinator = auth(token(db, "coordinator", None, municipality="m1"))
        run = client.post("/api/v1/municipalities/m1/matching-runs", headers=coordinator).json()
        mentees = _names(client, coordinator, "s1")
        mentors = _names(client, coordinator, "s2")
        proposed = {(mentees[p["mentee_id"]], mentors[p["mentor_id"]]) for p in run["proposals"]}
        assert proposed == {("kozlov@school.ru", "smirnov@school.ru")}


def test_blocks_solved_apart_give_the_optimum_of_the_whole() -> None:
    rng = np.random.default_rng(3)
    n, m = 60, 24
    # Three schools: pairs are allowed only inside a school.
    school_of_mentee, school_of_mentor = rng.integers(0, 3, n), rng.integers(0, 3, m)
    allowed = (school_of_mentee[:, None] == school_of_mentor[None, :]) & (
        rng.uniform(size=(n, m)) < 0.7
    )
    scores = np.where(allowed, rng.uniform(size=(n, m)).round(3), 0.0)
    problem = Problem(scores, rng.integers(0, 4, m), allowed=allowed, forbidden=[(0, 0), (1, 1)])
    assert len(blocks(problem)) >= 3  # the solver splits it; the service only runs the blocks
    solver = Solver(workers=2)
    try:
        pairs = solver.solve_batch(problem)
    finally:
        solver.close()
    whole = solve(problem)
    assert len(pairs) == len(whole.pairs)
    assert sum(scores[i, j] for i, j in pairs) == pytest.approx(whole.total_score)
