"""Inputs that used to end in a 500: ids beyond the database's integers, control characters, the
same person in two schools of a municipality run — each gets a Russian 404/409/422 instead."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import Feedback, MatchingRun
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token

DATA = Path(__file__).with_name("data")
HUGE = (2**31, 2**63, 2**64 + 5, 10**30)


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as found:
        yield found


def _pair(db: Database, client: TestClient, name: str = "Сидоров Олег Петрович") -> int:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2)
    mentee = person(db, org, "mentee", "e1", name=name)
    url = f"/api/v1/proposals/{proposal(db, org, mentee, mentor)}/confirm"
    answer = client.post(url, headers=auth(token(db, "admin", None)))
    assert answer.status_code == 201, answer.text
    return int(answer.json()["pair_id"])


@pytest.mark.parametrize("value", HUGE)
def test_an_id_beyond_the_database_is_not_found(
    client: TestClient, db: Database, value: int
) -> None:
    headers = auth(token(db, "curator", "s1"))
    for method, url in (
        ("GET", f"/api/v1/pairs/{value}"),
        ("POST", f"/api/v1/proposals/{value}/confirm"),
        ("GET", f"/api/v1/orgs/s1/people/{value}/consent"),
        ("GET", f"/api/v1/orgs/s1/mentees/{value}/suggestions"),
    ):
        answer = client.request(method, url, headers=headers)
        assert answer.status_code == 404, (url, answer.text)
        assert answer.json()["code"] == "not_found"
        assert "не найден" in answer.json()["detail"]
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get(f"/ui/orgs/s1/people/{value}/consent")
    assert page.status_code == 404
    assert "не найден" in page.text


@pytest.mark.parametrize("value", [0, -1, 2**31, 2**63])
def test_an_id_beyond_the_database_in_a_body_is_invalid(
    client: TestClient, db: Database, value: int
) -> None:
    pair_id = _pair(db, client)
    headers = auth(token(db, "curator", "s1"))
    replaced = client.post(
        f"/api/v1/pairs/{pair_id}/replace-mentor",
        json={"mentor_id": value, "reason": "mentee_request"},
        headers=headers,
    )
    assert replaced.status_code == 422, replaced.text
    assert replaced.json()["code"] == "invalid"
    order = client.post(
        "/api/v1/orgs/s1/orders",
        json={"number": "1", "date": "2024-09-10", "pair_ids": [value]},
        headers=headers,
    )
    assert order.status_code == 422, order.text


def test_control_characters_are_refused_in_forms_and_bodies(
    client: TestClient, db: Database
) -> None:
    pair_id = _pair(db, client)
    headers = auth(token(db, "curator", "s1"))
    order = client.post(
        "/api/v1/orgs/s1/orders",
        json={"number": "45\x07-о", "date": "2024-09-10", "basis": "Положением\x00"},
        headers=headers,
    )
    assert order.status_code == 422
    assert "управляющие символы (U+0007)" in order.json()["detail"]
    assert "управляющие символы (U+0000)" in order.json()["detail"]
    feedback = client.post(
        f"/api/v1/pairs/{pair_id}/feedback",
        json={"author": "mentee", "kind": "feedback", "comment": "всё\x1bхорошо"},
        headers=headers,
    )
    assert feedback.status_code == 422

    sign_in(client, db, token(db, "curator", "s1"))
    page = client.post(
        "/ui/orgs/s1/order",
        data={"number": "4\x0b5", "date": "10.09.2024", "basis": "Положением", "pair": pair_id},
    )
    assert page.status_code == 422
    assert "Номер приказа" in page.text
    assert "управляющие символы (U+000B)" in page.text
    form = client.post(
        f"/ui/pairs/{pair_id}/feedback",
        data={"kind": "feedback", "author": "mentee", "comment": "текст\x08"},
    )
    assert form.status_code == 422
    assert "управляющие символы (U+0008)" in form.text
    with db.read() as session:
        assert session.scalar(select(func.count(Feedback.id))) == 0


def test_an_order_of_a_person_with_a_control_character_in_the_name_is_made(
    client: TestClient, db: Database
) -> None:
    import io

    import docx

    _pair(db, client, name="Сидоров\x07 Олег\x1f Петрович")
    order = client.post(
        "/api/v1/orgs/s1/orders",
        json={"number": "1", "date": "2024-09-10"},
        headers=auth(token(db, "curator", "s1")),
    )
    assert order.status_code == 200, order.text
    text = "\n".join(
        cell.text
        for table in docx.Document(io.BytesIO(order.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "Сидоров Олег Петрович" in text


def test_the_same_person_in_two_schools_of_a_municipality_run(
    client: TestClient, db: Database
) -> None:
    school(db, "s2", "m1")
    admin = auth(token(db, "admin", None))
    for code in ("s1", "s2"):
        for side in ("mentors", "mentees"):
            answer = client.post(
                f"/api/v1/orgs/{code}/imports/{side}",
                files={"file": (f"{side}.csv", (DATA / f"{side}.csv").read_bytes())},
                data={"spec": "teacher"},
                headers=admin,
            )
            assert answer.status_code == 201, answer.text
    run = client.post("/api/v1/municipalities/m1/matching-runs", headers=admin)
    assert run.status_code == 409, run.text
    body = run.json()
    assert body["code"] == "duplicate_people"
    assert re.search(r"наставник Петрова Анна Ивановна — Школа s1, Школа s2", body["detail"])
    assert "в нескольких школах" in body["detail"]
    with db.read() as session:
        assert session.scalar(select(func.count(MatchingRun.id))) == 0


def test_a_body_that_is_not_even_text_is_invalid_not_400(client: TestClient, db: Database) -> None:
    headers = auth(token(db, "curator", "s1")) | {"Content-Type": "application/json"}
    answer = client.post("/api/v1/orgs/s1/orders", content=b"\xc3\x28\x81", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid"
    assert "тело запроса не читается" in answer.json()["detail"]


def test_a_write_that_waits_too_long_for_sqlite_gets_a_russian_503(tmp_path: Path) -> None:
    import threading

    from service.core.db import upgrade

    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    upgrade(url)
    busy = Database(url, busy_ms=200)
    school(busy, "s1", "m1")
    headers = auth(token(busy, "curator", "s1"))
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:  # another school's long import holds the write lock
        with busy.write() as session:
            session.execute(select(1))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=long_write)
    thread.start()
    holding.wait(10)
    try:
        with TestClient(create_app(settings_for(busy), busy)) as client:
            answer = client.post(
                "/api/v1/orgs/s1/imports/mentors",
                files={"file": ("m.csv", (DATA / "mentors.csv").read_bytes())},
                data={"spec": "teacher"},
                headers=headers,
            )
    finally:
        release.set()
        thread.join()
        busy.dispose()
    assert answer.status_code == 503
    assert answer.json()["code"] == "busy"
    assert "повторите" in answer.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orgs/s1%00/report",
        "/api/v1/orgs/s1/people/paged?q=%D0%98%00",
        "/api/v1/municipalities/m1%00/report",
        "/ui/orgs/s1%00",
        "/ui/orgs/s1/people?q=a%00b",
        "/p/abc%00def",
    ],
)
def test_a_nul_character_in_an_address_is_refused(
    client: TestClient, db: Database, url: str
) -> None:
    """PostgreSQL refuses a text holding U+0000 (psycopg raises before sending it): a school code,
    a search or a link token in the address with one answered 500 there (SQLite found nothing)."""
    client.headers.update(auth(token(db, "admin", None)))
    sign_in(client, db, token(db, "admin", None))
    answer = client.get(url)
    assert answer.status_code == 422, answer.text
    assert "управляющие символы (U+0000)" in answer.text


def test_a_nul_character_in_a_login_is_refused_not_500(client: TestClient) -> None:
    answer = client.post("/login", data={"login": "admin\x00", "password": "x"})
    assert answer.status_code == 401, answer.text
    assert "Логин или пароль не подошёл" in answer.text
