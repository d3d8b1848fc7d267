"""The order fixing pairs (приказ о закреплении наставнических пар): a DOCX read back with python-docx."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from dateutil.relativedelta import relativedelta
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from features import load_spec, read_answers
from service.app import create_app
from service.core.db import Database
from service.core.models import AuditEvent, Pair
from tests.service.util import auth, school, settings_for, sign_in, token

DATA = Path(__file__).with_name("data")
ZONE = ZoneInfo("Europe/Moscow")  # the default NASTAVNIK_TIMEZONE
PUPILS = Path(__file__).parents[2] / "examples" / "pupils"


@dataclass
class Loaded:
    client: TestClient
    db: Database
    headers: dict[str, str]
    pairs: list[dict[str, Any]]  # the active pairs, as the API lists them
    names: dict[int, str]  # person id -> name


def _upload(client: TestClient, headers: dict[str, str], side: str, path: Path, spec: str) -> None:
    response = client.post(
        f"/api/v1/orgs/s1/imports/{side}",
        files={"file": (path.name, path.read_bytes())},
        data={"spec": spec},
        headers=headers,
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def loaded(db: Database) -> Iterator[Loaded]:
    """School s1 with teachers and pupils, matched, every proposal confirmed but one pair ended."""
    school(db, "s1", "m1")
    school(db, "s2", "m1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        for side in ("mentors", "mentees"):
            _upload(client, headers, side, DATA / f"{side}.csv", "teacher")
            _upload(client, headers, side, PUPILS / f"{side}.csv", "pupil")
        run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
        for proposal in run["proposals"]:
            url = f"/api/v1/proposals/{proposal['proposal_id']}/confirm"
            assert client.post(url, headers=headers).status_code == 201
        pairs = client.get("/api/v1/orgs/s1/pairs?status=active", headers=headers).json()
        ended = client.post(
            f"/api/v1/pairs/{pairs[0]['pair_id']}/end", json={"reason": "transfer"}, headers=headers
        )
        assert ended.status_code == 200
        people = client.get("/api/v1/orgs/s1/people", headers=headers).json()
        yield Loaded(client, db, headers, pairs[1:], {p["id"]: p["name"] for p in people})


def _order(loaded: Loaded, **body: Any) -> Any:
    return loaded.client.post(
        "/api/v1/orgs/s1/orders",
        json={"number": "45-о", "date": "2024-09-10"} | body,
        headers=loaded.headers,
    )


def _table(content: bytes) -> list[list[str]]:
    document = docx.Document(io.BytesIO(content))
    return [[cell.text for cell in row.cells] for row in document.tables[0].rows]


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_order_lists_every_active_pair_with_names_posts_forms_and_dates(
    loaded: Loaded,
) -> None:
    response = _order(loaded, head="И. И. Директорова")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    rows = _table(response.content)
    assert rows[0][:4] == ["№", "Наставник (ФИО, должность)",
                           "Наставляемый (ФИО, должность или класс)", "Форма наставничества"]  # fmt: skip
    # a group (one mentor's mentees of one form) is one line, its members under it
    assert len(rows) == len({p["group_id"] for p in loaded.pairs}) + 1 > 5
    forms = {"teacher_teacher": "педагог – педагог", "pupil_pupil": "ученик – ученик",
             "student_pupil": "студент – ученик", "employer_pupil": "работодатель – ученик"}  # fmt: skip
    grades = {
        name: records["grade"][1:]
        for name, records in zip(*_names_and_records(PUPILS / "mentees.csv", "pupil"), strict=True)
    }
    expected = {
        (loaded.names[p["mentor_id"]], loaded.names[p["mentee_id"]]): p for p in loaded.pairs
    }
    for k, row in enumerate(rows[1:], start=1):
        mentor, mentor_post = row[1].split("\n")
        cell = row[2].split("\n")
        group = cell[0].startswith("Группа (")
        members = (
            [tuple(line.split(". ", 1)[1].rsplit(", ", 1)) for line in cell[1:]]
            if group
            else [(cell[0], cell[1])]
        )
        assert not group or cell[0] == f"Группа ({len(members)} чел.):"
        for mentee, mentee_post in members:
            pair = expected.pop((mentor, mentee))
            start = datetime.fromisoformat(pair["started_at"]).astimezone(ZONE).date()
            end = date.fromisoformat(pair["planned_end"])  # the form's term from the start
            assert start < end < start + relativedelta(years=1)
            assert row[0] == str(k)
            assert row[3] == forms[pair["form"]] + (" (в группе)" if group else "")
            assert f"{start:%d.%m.%Y}" in row[4].split(", ")
            assert f"{end:%d.%m.%Y}" in row[5].split(", ")
            if pair["form"] == "teacher_teacher":
                assert mentor_post.startswith("Учитель")
                assert mentee_post.startswith("Педагог")  # the post, not the programme's category
                assert "впервые" not in mentee_post
                assert "Молодой специалист" not in mentee_post
            else:
                assert mentee_post == f"{grades[mentee]} класс"
    assert expected == {}  # every active pair is in the order, the ended one is not
    assert {"педагог – педагог", "ученик – ученик"} <= {
        row[3].removesuffix(" (в группе)") for row in rows[1:]
    }
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs)
    for line in ("Школа s1", "ПРИКАЗ", "от 10.09.2024    № 45-о", "О закреплении наставнических пар",
                 "В соответствии с Положением о системе наставничества", "С приказом ознакомлены:",
                 "И. И. Директорова"):  # fmt: skip
        assert line in text
    signatures = docx.Document(io.BytesIO(response.content)).tables[1]
    signed = {row.cells[0].text for row in signatures.rows}
    assert signed == {n for pair in loaded.pairs for n in
                      (loaded.names[pair["mentor_id"]], loaded.names[pair["mentee_id"]])}  # fmt: skip
    [event] = _events(loaded.db, "order")
    assert (event.entity, event.detail["number"], event.detail["date"]) == (
        "organisation", "45-о", "2024-09-10"
    )  # fmt: skip
    assert sorted(event.detail["pairs"]) == sorted(p["pair_id"] for p in loaded.pairs)
    assert not any(name in str(event.detail) for name in loaded.names.values())


def _names_and_records(path: Path, spec: str) -> tuple[list[str], list[dict[str, Any]]]:
    answers = read_answers(path, load_spec(spec), side="mentees")
    return [str(n) for n in answers.names], answers.records


def test_chosen_pairs_and_an_end_date(loaded: Loaded) -> None:
    chosen = [loaded.pairs[2]["pair_id"], loaded.pairs[1]["pair_id"]]
    start = datetime.fromisoformat(loaded.pairs[1]["started_at"]).astimezone(ZONE).date()
    end = start + timedelta(days=200)
    response = _order(loaded, pair_ids=chosen, end_date=end.isoformat())
    assert response.status_code == 200
    rows = _table(response.content)[1:]
    assert len(rows) == 2
    assert {row[5] for row in rows} == {f"{end:%d.%m.%Y}"}


def test_bad_orders_name_every_problem_and_record_nothing(loaded: Loaded) -> None:
    ended = loaded.client.get("/api/v1/orgs/s1/pairs?status=ended", headers=loaded.headers).json()
    start = datetime.fromisoformat(loaded.pairs[0]["started_at"]).astimezone(ZONE).date()
    response = _order(
        loaded,
        number=" ",
        end_date=(start + relativedelta(years=1, days=1)).isoformat(),
        pair_ids=[loaded.pairs[0]["pair_id"], ended[0]["pair_id"]],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("Приказ не сформирован")
    problems = {(e["row"], e["column"]): e["message"] for e in body["errors"]}
    assert "нужен номер приказа" in problems[(None, "Номер приказа")]
    assert f"пара № {ended[0]['pair_id']} уже не действует" == problems[(None, "Пары")]
    assert "от 1 месяца до 1 года" in problems[(1, "Дата окончания")]
    too_soon = _order(loaded, end_date=(start + timedelta(days=10)).isoformat())
    assert too_soon.status_code == 422
    assert len(too_soon.json()["errors"]) == len(loaded.pairs)
    assert _events(loaded.db, "order") == []


def test_another_schools_curator_gets_404(loaded: Loaded, db: Database) -> None:
    other = auth(token(db, "curator", "s2"))
    response = loaded.client.post(
        "/api/v1/orgs/s1/orders", json={"number": "1", "date": "2024-09-10"}, headers=other
    )
    assert response.status_code == 404
    own_with_foreign_pair = loaded.client.post(
        "/api/v1/orgs/s2/orders",
        json={"number": "1", "date": "2024-09-10", "pair_ids": [loaded.pairs[0]["pair_id"]]},
        headers=other,
    )
    assert own_with_foreign_pair.status_code == 404
    assert not any(name in own_with_foreign_pair.text for name in loaded.names.values())
    with db.read() as session:
        assert (
            session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "order"))
            == 0
        )


def test_a_school_without_active_pairs_gets_a_clear_refusal(db: Database) -> None:
    school(db, "s1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        response = client.post(
            "/api/v1/orgs/s1/orders",
            json={"number": "1", "date": date(2024, 9, 10).isoformat()},
            headers=headers,
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "нет ни одной действующей пары для приказа"


def test_a_pair_confirmed_late_in_the_evening_starts_on_the_schools_date(loaded: Loaded) -> None:
    """23:30 in Moscow is 20:30 UTC the same day; 01:30 in Moscow is still yesterday in UTC."""
    pair_id = loaded.pairs[0]["pair_id"]
    with loaded.db.write() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        pair.started_at = datetime(2024, 9, 1, 22, 30, tzinfo=UTC)  # 02.09 01:30 in Moscow
        # the planned term a confirmation at that moment stores (the school's date)
        pair.planned_start, pair.planned_end = date(2024, 9, 2), date(2025, 9, 1)
    rows = _table(_order(loaded, pair_ids=[pair_id]).content)
    assert rows[1][4] == "02.09.2024"
    assert rows[1][5] == "01.09.2025"
    sign_in(loaded.client, loaded.db, loaded.headers["Authorization"].split()[1])
    page = loaded.client.get("/ui/orgs/s1/pairs")
    assert page.status_code == 200
    assert "02.09.2024" in page.text
    assert "01.09.2024" not in page.text


def test_a_pair_without_consent_is_refused_and_shown_apart(loaded: Loaded) -> None:
    pair = loaded.pairs[0]
    withdrawn = loaded.client.post(
        f"/api/v1/orgs/s1/people/{pair['mentee_id']}/consent",
        json={"given": False, "kind": "participant", "signed_on": "2024-09-05"},
        headers=loaded.headers,
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text
    refused = _order(loaded)
    assert refused.status_code == 422
    mentee, mentor = loaded.names[pair["mentee_id"]], loaded.names[pair["mentor_id"]]
    messages = [e["message"] for e in refused.json()["errors"]]
    assert [m for m in messages if mentee in m and mentor in m and "нет согласия" in m]
    others = [p["pair_id"] for p in loaded.pairs[1:]]
    made = _order(loaded, pair_ids=others)
    assert made.status_code == 200
    assert mentee not in " ".join(" ".join(row) for row in _table(made.content))

    sign_in(loaded.client, loaded.db, loaded.headers["Authorization"].split()[1])
    form = loaded.client.get("/ui/orgs/s1/order").text
    row = re.search(rf'<tr data-pair="{pair["pair_id"]}">(.*?)</tr>', form, re.S)
    assert row is not None
    assert "checked" not in row.group(1)
    assert "Нет согласия наставляемого" in row.group(1)
    other = re.search(rf'<tr data-pair="{others[0]}">(.*?)</tr>', form, re.S)
    assert other is not None
    assert "checked" in other.group(1)
