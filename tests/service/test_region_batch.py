"""A region-wide batch: municipalities apart, then virtual pairs across them; on Dask too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.test_indicators import _in_region
from tests.service.util import auth, school, settings_for, token

DATA = Path(__file__).with_name("data")


def _region(db: Database, client: TestClient) -> dict[str, dict[str, str]]:
    """m1 has only mentees (Козлов also meets remotely), m2 only mentors, both in region R;
    s3's mentors are in another region."""
    for code, municipality in [("s1", "m1"), ("s2", "m2"), ("s3", "m3")]:
        school(db, code, municipality)
    _in_region(db, "R", "s1", "s2")
    _in_region(db, "Q", "s3")
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


def _proposed(client: TestClient, headers: dict[str, str], run: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    names = {}
    for org in ("s1", "s2"):
        people = client.get(f"/api/v1/orgs/{org}/people", headers=headers).json()
        names.update({p["id"]: p["external_id"] for p in people})
    return {(names[p["mentee_id"]], names[p["mentor_id"]]) for p in run["proposals"]}


def _check(client: TestClient, db: Database) -> None:
    operator = auth(token(db, "region", None, region="R"))
    response = client.post("/api/v1/regions/R/matching-runs", headers=operator)
    assert response.status_code == 201, response.text
    run = response.json()
    # Nobody can be paired inside m1 or m2; across them only Козлов and Смирнов meet remotely.
    assert _proposed(client, operator, run) == {("kozlov@school.ru", "smirnov@school.ru")}
    assert len(run["unmatched"]) == 2


def test_a_region_batch_makes_virtual_pairs_across_municipalities(db: Database) -> None:
    with TestClient(create_app(settings_for(db), db)) as client:
        _region(db, client)
        _check(client, db)
        coordinator = auth(token(db, "coordinator", None, municipality="m1"))
        refused = client.post("/api/v1/regions/R/matching-runs", headers=coordinator)
        assert refused.status_code == 403
        other = auth(token(db, "region", None, region="Q"))
        assert client.post("/api/v1/regions/R/matching-runs", headers=other).status_code == 404


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_region_batch_on_a_local_dask_cluster(db: Database) -> None:
    with TestClient(create_app(settings_for(db, dask_scheduler="local"), db)) as client:
        _region(db, client)
        _check(client, db)
