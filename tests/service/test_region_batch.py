"""A region-wide batch: municipalities apart, then virtual pairs across them; on Dask too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.app import create_app
from service.core.db import Database
from service.core.models import Organisation
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


def _schools_of_a_city(db: Database, municipalities: dict[str, str]) -> None:
    """Schools of ``make_city`` (pupils' questionnaires, some meeting remotely) in region R,
    school code -> municipality."""
    import io

    import numpy as np

    from experiments.cohorts import make_city
    from service.accounts.accounts import add_organisation
    from service.core.security import Actor
    from service.people.people import import_answers

    city = make_city(seed=5, spec="pupil", mentees=150, mentors=70, schools=len(municipalities))
    names = sorted(set(city.mentee_orgs) | set(city.mentor_orgs))
    with db.write() as session:
        for code, name in zip(municipalities, names, strict=True):
            add_organisation(session, code, name, municipalities[code], "R")
    for code, name in zip(municipalities, names, strict=True):
        for side, table, orgs in (("mentors", city.mentors_table, city.mentor_orgs),
                                  ("mentees", city.mentees_table, city.mentee_orgs)):  # fmt: skip
            buffer = io.StringIO()
            table[np.asarray(orgs) == name].to_csv(buffer, index=False, sep=";")
            data = buffer.getvalue().encode()
            import_answers(db, Actor.command_line(), code, side, data, "x.csv", spec="pupil")


def _pairs(run: dict) -> dict[tuple[int, int], tuple]:  # type: ignore[type-arg]
    return {
        (p["mentee_id"], p["mentor_id"]): (
            p["score"],
            p["reasons"],
            p["form"],
            p["mentee_org"],
            p["mentor_org"],
            p["remote"],
            p["mentee_name"],
        )
        for p in run["proposals"]
    }


def test_a_region_batch_proposes_what_each_block_alone_does(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The region's batch reads answers, scores and stores in chunks (made tiny here): the pairs
    inside a municipality are those its own batch proposes (the same scores, reasons and forms),
    and a region of one municipality is solved as that municipality's batch is."""
    import features.streaming
    from service.runs import runs

    monkeypatch.setattr(runs, "READ_CHUNK", 7)
    monkeypatch.setattr(runs, "STORE_CHUNK", 5)
    monkeypatch.setattr(features.streaming, "CHUNK_MENTEES", 9)
    municipality = {"s1": "m1", "s2": "m1", "s3": "m2", "s4": "m2"}
    _schools_of_a_city(db, municipality)
    operator = auth(token(db, "region", None, region="R"))
    with TestClient(create_app(settings_for(db), db)) as client:

        def run(path: str) -> dict:  # type: ignore[type-arg]
            response = client.post(f"/api/v1/{path}/matching-runs", headers=operator)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        people = {}
        for code in municipality:
            listed = client.get(f"/api/v1/orgs/{code}/people", headers=operator).json()
            people.update({p["id"]: municipality[code] for p in listed})
        blocks = {m: _pairs(run(f"municipalities/{m}")) for m in ("m1", "m2")}
        region = run("regions/R")
        whole = _pairs(region)
        assert all(blocks.values())
        assert len(region["unmatched"]) > 0
        for m, alone in blocks.items():
            inside = {k: v for k, v in whole.items() if people[k[0]] == people[k[1]] == m}
            assert inside == alone
        across = {k for k in whole if people[k[0]] != people[k[1]]}
        assert all(whole[k][5] for k in across)  # remote pairs only between municipalities

        with db.write() as session:
            session.execute(update(Organisation).values(municipality="m1"))
        one_block = run("municipalities/m1")
        region = run("regions/R")
        assert _pairs(region) == _pairs(one_block)
        assert sorted(region["unmatched"]) == sorted(one_block["unmatched"])
