"""A big file is read in a worker process (``service.people.reading``), not by the server's
interpreter: through the real application it stores exactly what reading in place stores, and
refuses a bad file with the same problems (row, column, value, message)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.core.db import Database
from service.core.models import Answers, Consent, Person
from service.people import reading
from tests.service.util import auth, org_id, school, settings_for, token

SAMPLE = Path(__file__).parents[2] / "examples" / "teachers" / "mentors.csv"
ROWS = 1_300  # over reading.IN_PROCESS_BYTES (about 900 bytes a row)


def _file(changes: dict[tuple[int, str], str] | None = None) -> bytes:
    """The sample mentors, again and again under new e-mails, with ``changes`` of cells
    (row number in the file, column header) -> value."""
    rows = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()))
    header, samples = rows[0], rows[1:]
    email = header.index("Адрес электронной почты")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for k in range(ROWS):
        row = list(samples[k % len(samples)])
        row[email] = f"m{k}@school.example"
        for (number, column), value in (changes or {}).items():
            if number == k + 2:  # the header is row 1
                row[header.index(column)] = value
        writer.writerow(row)
    return out.getvalue().encode()


def _stored(db: Database, org: str) -> list[tuple[Any, ...]]:
    """What a curator sees of the school's mentors: each one's identity, name, capacity,
    consent, answers and recorded consents."""
    with db.read() as session:
        people = session.scalars(
            select(Person).where(Person.org_id == org_id(db, org)).order_by(Person.external_id)
        ).all()
        stored = []
        for p in people:
            records = session.scalar(
                select(Answers.records).where(
                    Answers.person_id == p.id, Answers.version == p.version
                )
            )
            given = sorted(
                session.execute(
                    select(Consent.kind, Consent.given).where(Consent.person_id == p.id)
                ).all()
            )
            stored.append(
                (p.external_id, p.name, p.side, p.capacity, p.consent, p.entered_at, records, given)
            )
        return stored


def _upload(client: TestClient, key: str, org: str, data: bytes) -> Any:
    return client.post(
        f"/api/v1/orgs/{org}/imports/mentors",
        files={"file": ("mentors.csv", data)},
        data={"spec": "teacher"},
        headers=auth(key),
    )


def test_a_big_file_read_in_a_worker_stores_and_refuses_as_one_read_in_place(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for code in ("inplace", "worker", "s3"):
        school(db, code)
    admin = token(db, role="admin", org=None)
    good = _file()
    assert len(good) > reading.IN_PROCESS_BYTES
    bad = _file({(7, "Педагогический стаж (лет)"): "много", (1_201, "ФИО"): ""})
    foreign = _file({(900, "Образовательная организация"): "Школа s3"})
    threshold = reading.IN_PROCESS_BYTES
    workers: list[int] = []  # files read by a worker
    read_in_worker = reading._in_worker

    def counted(*args: Any) -> reading.Read:
        workers.append(1)
        return read_in_worker(*args)

    monkeypatch.setattr(reading, "_in_worker", counted)
    with TestClient(create_app(settings_for(db), db)) as client:
        monkeypatch.setattr(reading, "IN_PROCESS_BYTES", 2**40)  # everything in place
        in_place = [_upload(client, admin, "inplace", data) for data in (bad, foreign, good)]
        monkeypatch.setattr(reading, "IN_PROCESS_BYTES", threshold)
        in_worker = [_upload(client, admin, "worker", data) for data in (bad, foreign, good)]
    assert len(workers) == 3, "the big files were not read by a worker"
    assert (
        [r.status_code for r in in_place] == [r.status_code for r in in_worker] == [422, 422, 201]
    )
    for here, there in zip(in_place[:2], in_worker[:2], strict=True):
        # The same problems; only the school's own name differs.
        assert here.text.replace("Школа inplace", "Школа worker") == there.text
    problems = {(e["row"], e["column"]) for e in in_worker[0].json()["errors"]}
    assert (7, "Педагогический стаж (лет)") in problems
    assert {(e["row"], e["column"], e["value"]) for e in in_worker[1].json()["errors"]} == {
        (900, "Образовательная организация", "Школа s3")
    }
    created = {k: v for k, v in in_worker[2].json().items() if k != "import_id"}
    assert created == {k: v for k, v in in_place[2].json().items() if k != "import_id"}
    assert created["created"] == ROWS
    stored = _stored(db, "worker")
    assert len(stored) == ROWS
    assert stored == _stored(db, "inplace")
    assert not reading._running, "a worker was left running"
