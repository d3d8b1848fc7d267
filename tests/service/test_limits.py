"""The service's limits (settings) are checked before the work: a file, a school, a run."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import MatchingRun, Person
from tests.features.test_limits import _bomb
from tests.service.util import auth, school, settings_for, token

DATA = Path(__file__).with_name("data")


def _upload(
    client: TestClient, headers: dict[str, str], side: str, data: bytes, name: str
) -> object:
    return client.post(
        f"/api/v1/orgs/s1/imports/{side}",
        files={"file": (name, data)},
        data={"spec": "teacher"},
        headers=headers,
    )


def test_a_bomb_a_big_file_and_a_full_school_are_refused(db: Database) -> None:
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    settings = settings_for(
        db, xlsx_unpacked_bytes=5 * 2**20, upload_bytes=200_000, people_per_school=5
    )
    with TestClient(create_app(settings, db)) as client:
        bomb = _upload(client, headers, "mentors", _bomb(20 * 2**20), "bomb.xlsx")
        assert bomb.status_code == 422  # type: ignore[attr-defined]
        assert "распаковывается" in bomb.json()["errors"][0]["message"]  # type: ignore[attr-defined]
        big = _upload(client, headers, "mentors", b"a;b\n" * 60_000, "big.csv")
        assert big.status_code == 422  # type: ignore[attr-defined]
        assert "Файл больше 195,3 КБ" in big.json()["detail"]  # type: ignore[attr-defined]
        mentors = (DATA / "mentors.csv").read_bytes()
        assert _upload(client, headers, "mentors", mentors, "m.csv").status_code == 201  # type: ignore[attr-defined]
        full = _upload(client, headers, "mentees", (DATA / "mentees.csv").read_bytes(), "e.csv")
        assert full.status_code == 422  # type: ignore[attr-defined]
        assert "допускается не больше 5" in full.json()["detail"]  # type: ignore[attr-defined]
    with db.read() as session:
        assert session.scalar(select(func.count(Person.id))) == 4


def test_a_run_with_too_many_pairs_is_refused_before_scoring(db: Database) -> None:
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db, pairs_per_run=4), db)) as client:
        for side in ("mentors", "mentees"):
            data = (DATA / f"{side}.csv").read_bytes()
            assert _upload(client, headers, side, data, f"{side}.csv").status_code == 201  # type: ignore[attr-defined]
        run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers)
        assert run.status_code == 422
        assert "допускается не больше 4" in run.json()["detail"]
        assert " × " in run.json()["detail"]
    with db.read() as session:
        assert session.scalar(select(func.count(MatchingRun.id))) == 0
