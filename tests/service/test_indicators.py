"""The indicators of 004 §7.7 on hand-built schools whose answers are counted by hand.

Each school below is written person by person; the expected shares are worked out in the comments,
not by the code's formula. The API and the pages are driven over the real application.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from service.app import create_app
from service.core.db import Database
from service.core.models import Feedback, Pair
from tests.service.util import (
    auth,
    group,
    org_id,
    person,
    school,
    settings_for,
    sign_in,
    token,
)

YEAR = 2024  # the school year 2024/25: 1 September 2024 - 31 August 2025


def _at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, tzinfo=UTC)


@dataclass
class Builder:
    """Writes one school's people and pairs straight into the database."""

    db: Database
    code: str
    places: dict[int, int]
    groups: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def org(self) -> int:
        return org_id(self.db, self.code)

    def pupil(self, key: str, age: int) -> int:
        return person(self.db, self.org, "mentee", key, spec="pupil", records={"age": age})

    def teacher(self, key: str, experience: float, status: str = "young") -> int:
        records = {"experience": experience, "status": status}
        return person(self.db, self.org, "mentee", key, records=records)

    def mentor(self, key: str, role: str, age: int = 30, employer: str | None = None) -> int:
        records: dict[str, Any] = {"role": role, "age": age}
        if employer is not None:
            records["school"] = employer
        return person(self.db, self.org, "mentor", key, spec="pupil", records=records)

    def teacher_mentor(self, key: str) -> int:
        return person(self.db, self.org, "mentor", key, records={"position": "teacher"})

    def pair(
        self, mentee: int, mentor: int, started: datetime, ended: datetime | None = None
    ) -> int:
        place = self.places.get(mentor, 0) + 1 if ended is None else 1
        if ended is None:
            self.places[mentor] = place
        if mentor not in self.groups:
            self.groups[mentor] = group(self.db, self.org, mentor, "pupil_pupil", 10)
        group_id, group_size = self.groups[mentor]
        with self.db.write() as session:
            made = Pair(
                group_id=group_id,
                group_size=group_size,
                org_id=self.org,
                mentee_id=mentee,
                mentor_id=mentor,
                form="pupil_pupil",
                place=place,
                status="active" if ended is None else "completed",
                started_at=started,
                ended_at=ended,
                end_reason=None if ended is None else "completed",
            )
            session.add(made)
            session.flush()
            return made.id

    def satisfaction(self, pair_id: int, author: str, score: int, on: datetime) -> None:
        with self.db.write() as session:
            session.add(
                Feedback(
                    pair_id=pair_id, author=author, kind="satisfaction", score=score, created_at=on
                )
            )


def build_school(db: Database, code: str = "s1", municipality: str = "m1") -> Builder:
    """The hand-built school of the module docstring, 2024/25."""
    school(db, code, municipality)
    b = Builder(db, code, {})
    autumn = _at(2024, 10, 1)
    # Pupil mentees aged 10-19 with a pair in 2024/25: p12, p15, p19 -> 3.
    p12, p15, p19 = b.pupil("p12", 12), b.pupil("p15", 15), b.pupil("p19", 19)
    p9 = b.pupil("p9", 9)  # too young: not counted
    b.pupil("p13-alone", 13)  # no pair: not counted
    p14_old = b.pupil("p14-old", 14)  # a pair that ended in June 2024: counted in 2023/24 only
    # Pupil mentors aged 15-19 with a pair: m16, m17 -> 2; m14 is too young.
    m16, m17, m14 = (
        b.mentor("m16", "pupil", 16),
        b.mentor("m17", "pupil", 17),
        b.mentor("m14", "pupil", 14),
    )
    # Professional mentors: «ООО Ромашка» twice under two spellings and «АО Завод» -> 2 enterprises.
    r1 = b.mentor("r1", "professional", employer="ООО «Ромашка»")
    r2 = b.mentor("r2", "professional", employer='  ооо   "Ромашка" ')
    z1 = b.mentor("z1", "professional", employer="АО Завод")
    b.mentor("idle", "professional", employer="ПАО Без пары")  # no pair: not counted
    first = b.pair(p12, m16, autumn)
    b.pair(p15, m17, autumn)
    b.pair(p19, r1, autumn)
    b.pair(p9, m14, autumn)
    b.pair(p14_old, r2, _at(2023, 10, 1), _at(2024, 6, 1))
    b.pair(b.pupil("p20", 20), r2, autumn)  # aged 20: not a pupil of 10-19; r2 counts
    b.pair(b.pupil("p18", 18), z1, autumn)  # p18 -> the 4th pupil mentee
    # Young teachers: y2 (2 years) -> 1; y10 is experienced, s0 is a student on practice.
    t = b.teacher_mentor("t")
    b.pair(b.teacher("y2", 2), t, autumn)
    b.pair(b.teacher("y10", 10, "learning"), t, autumn)
    b.pair(b.teacher("s0", 0, "student"), t, autumn)
    # Satisfaction 2024/25: mentees 8 and 6 -> 70 %; mentor 9 -> 90 %; a 2023/24 answer of 2.
    b.satisfaction(first, "mentee", 8, _at(2025, 5, 20))
    b.satisfaction(first, "mentee", 6, _at(2025, 5, 21))
    b.satisfaction(first, "mentor", 9, _at(2025, 5, 20))
    b.satisfaction(first, "mentee", 2, _at(2024, 5, 20))
    return b


# pupils 10-19: 20, of them 15-19: 8; young teachers: 4; enterprises of the territory: 5
DENOMINATORS = {"pupils_10_19": 20, "pupils_15_19": 8, "young_teachers": 4, "enterprises": 5}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as made:
        yield made


def _by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in body["indicators"]}


def test_each_indicator_of_a_hand_built_school(db: Database, client: TestClient) -> None:
    build_school(db)
    headers = auth(token(db, "curator", "s1"))
    stored = client.put(f"/api/v1/orgs/s1/denominators/{YEAR}", json=DENOMINATORS, headers=headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["year_label"] == "2024/25 учебный год"
    body = client.get(f"/api/v1/orgs/s1/indicators?year={YEAR}", headers=headers).json()
    got = {k: (i["numerator"], i["denominator"], i["value"]) for k, i in _by_key(body).items()}
    assert got == {
        "pupil_mentees": (4, 20, 20.0),  # p12, p15, p19, p18 of 20
        "pupil_mentors": (2, 8, 25.0),  # m16, m17 of 8
        "young_teacher_mentees": (1, 4, 25.0),  # y2 of 4
        "enterprises": (2, 5, 40.0),  # Ромашка, Завод of 5
        "mentee_satisfaction": (2, None, 70.0),  # (8 + 6) / 2 * 10
        "mentor_satisfaction": (1, None, 90.0),
    }
    indicators = _by_key(body)
    # 2024 targets of 004 §7.7: 70, 10, 70, 30, 85, 85
    assert indicators["pupil_mentees"]["target"] == 70.0
    assert indicators["pupil_mentees"]["gap"] == -50.0
    assert indicators["enterprises"]["gap"] == 10.0
    assert indicators["enterprises"]["meets_target"] is True
    assert indicators["mentor_satisfaction"]["meets_target"] is True
    assert indicators["mentee_satisfaction"]["meets_target"] is False


def test_last_year_stays_readable_and_makes_the_trend(db: Database, client: TestClient) -> None:
    build_school(db)
    headers = auth(token(db, "curator", "s1"))
    last = {"pupils_10_19": 10, "pupils_15_19": 4, "young_teachers": 2, "enterprises": 4}
    assert client.put("/api/v1/orgs/s1/denominators/2023", json=last, headers=headers).is_success
    client.put(f"/api/v1/orgs/s1/denominators/{YEAR}", json=DENOMINATORS, headers=headers)
    before = _by_key(client.get("/api/v1/orgs/s1/indicators?year=2023", headers=headers).json())
    # 2023/24: only p14-old had a pair (Oct 2023 - Jun 2024), with r2 of Ромашка
    assert before["pupil_mentees"]["numerator"] == 1
    assert before["pupil_mentees"]["value"] == 10.0
    assert before["enterprises"]["numerator"] == 1
    assert before["mentee_satisfaction"]["value"] == 20.0
    assert before["pupil_mentees"]["target"] == 50.0  # the 2023 target
    now = _by_key(client.get(f"/api/v1/orgs/s1/indicators?year={YEAR}", headers=headers).json())
    trend = [(p["year"], p["value"]) for p in now["pupil_mentees"]["trend"]]
    assert trend[-2:] == [(2023, 10.0), (2024, 20.0)]


def test_a_share_above_a_hundred_percent_is_refused(db: Database, client: TestClient) -> None:
    build_school(db)
    headers = auth(token(db, "curator", "s1"))
    too_few = DENOMINATORS | {"pupils_10_19": 3, "pupils_15_19": 3}
    refused = client.put(f"/api/v1/orgs/s1/denominators/{YEAR}", json=too_few, headers=headers)
    assert refused.status_code == 422
    message = refused.json()["errors"][0]["message"]
    assert "Школа s1" in message
    assert "4" in message
    assert "133,3 %" in message
    assert "больше 100 %" in message
    nested = DENOMINATORS | {"pupils_15_19": 30, "pupils_10_19": 25}
    refused = client.put(f"/api/v1/orgs/s1/denominators/{YEAR}", json=nested, headers=headers)
    assert refused.status_code == 422
    assert "15–19 лет (30) больше" in refused.json()["errors"][0]["message"]
    assert client.get("/api/v1/orgs/s1/denominators", headers=headers).json() == []


def _small_school(db: Database, code: str, municipality: str, mentees: int, pupils: int) -> None:
    school(db, code, municipality)
    b = Builder(db, code, {})
    mentor = b.mentor(f"{code}-m", "pupil", 16)
    for n in range(mentees):
        b.pair(b.pupil(f"{code}-p{n}", 12), mentor, _at(2024, 9, 15))
    values = {"pupils_10_19": pupils, "pupils_15_19": 10, "young_teachers": 1, "enterprises": 1}
    headers = auth(token(db, "admin", None))
    with TestClient(create_app(settings_for(db), db)) as client:
        response = client.put(
            f"/api/v1/orgs/{code}/denominators/{YEAR}", json=values, headers=headers
        )
        assert response.status_code == 200, response.text


def test_a_municipality_of_three_schools_adds_up(db: Database, client: TestClient) -> None:
    # (mentees with a pair, pupils 10-19): (1, 10), (2, 20), (3, 70) -> 6 of 100
    _small_school(db, "a", "Город", 1, 10)
    _small_school(db, "b", "Город", 2, 20)
    _small_school(db, "c", "Город", 3, 70)
    _small_school(db, "other", "Село", 3, 30)
    headers = auth(token(db, "coordinator", None, municipality="Город"))
    body = client.get(f"/api/v1/municipalities/Город/indicators?year={YEAR}", headers=headers)
    assert body.status_code == 200, body.text
    total = _by_key(body.json())
    assert (total["pupil_mentees"]["numerator"], total["pupil_mentees"]["denominator"]) == (6, 100)
    assert total["pupil_mentees"]["value"] == 6.0
    # one pupil mentor per school, 10 pupils of 15-19 each: 3 of 30
    assert total["pupil_mentors"]["value"] == 10.0
    parts = {p["code"]: _by_key(p)["pupil_mentees"]["value"] for p in body.json()["parts"]}
    assert parts == {"a": 10.0, "b": 10.0, "c": round(300 / 70, 1)}
    other = client.get("/api/v1/municipalities/Село/indicators", headers=headers)
    assert other.status_code == 404


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = [
    "Код школы",
    "Учебный год",
    "Обучающихся 10–19 лет",
    "Обучающихся 15–19 лет",
    "Молодых педагогов (стаж до 3 лет)",
    "Предприятий (организаций) территории",
]


def test_denominators_imported_from_xlsx_all_or_nothing(db: Database, client: TestClient) -> None:
    build_school(db)
    school(db, "s2", "m1")
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    bad = _xlsx([HEADER, ["s1", "2024/25", 3, 2, 4, 5], ["s2", "позже", 10, 5, 1, 1]])
    refused = client.post(
        "/api/v1/denominators/imports", files={"file": ("d.xlsx", bad)}, headers=headers
    )
    assert refused.status_code == 422
    problems = {(e["row"], e["column"]) for e in refused.json()["errors"]}
    assert problems == {(2, "Обучающихся 10–19 лет"), (3, "Учебный год")}
    assert client.get("/api/v1/orgs/s2/denominators", headers=headers).json() == []
    good = _xlsx([HEADER, ["s1", "2024/25", 20, 8, 4, 5], ["s2", 2024, 10, 5, 1, 1]])
    stored = client.post(
        "/api/v1/denominators/imports", files={"file": ("d.xlsx", good)}, headers=headers
    )
    assert stored.status_code == 201, stored.text
    assert [(d["org"], d["year"]) for d in stored.json()["stored"]] == [("s1", 2024), ("s2", 2024)]
    body = client.get(f"/api/v1/municipalities/m1/indicators?year={YEAR}", headers=headers).json()
    assert _by_key(body)["pupil_mentees"]["denominator"] == 30


def test_a_denominators_file_over_the_limits_is_refused_before_it_is_read(db: Database) -> None:
    """The limits of a questionnaire file hold for denominators too: an XLSX that unpacks past
    the limit (a "zip bomb") is refused from the archive's directory, and so is a file with
    more rows than allowed; nothing is stored."""
    build_school(db)
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    good = _xlsx([HEADER, ["s1", "2024/25", 20, 8, 4, 5], ["s1", 2023, 10, 5, 1, 1]])
    tight = settings_for(db, xlsx_unpacked_bytes=2048, file_rows=1)
    with TestClient(create_app(tight, db)) as small:
        refused = small.post(
            "/api/v1/denominators/imports", files={"file": ("d.xlsx", good)}, headers=headers
        )
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert detail.startswith("Файл не загружен: XLSX распаковывается в ")
        assert "а допускается не больше 2 КБ" in detail
    rows_only = settings_for(db, file_rows=1)
    with TestClient(create_app(rows_only, db)) as small:
        refused = small.post(
            "/api/v1/denominators/imports", files={"file": ("d.xlsx", good)}, headers=headers
        )
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("Файл не загружен: в файле больше 1 строк")
        assert small.get("/api/v1/orgs/s1/denominators", headers=headers).json() == []


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_indicators_page_enters_denominators_and_shows_definitions(
    db: Database, client: TestClient
) -> None:
    build_school(db)
    sign_in(client, db, token(db, "curator", "s1"))
    url = f"/ui/orgs/s1/indicators/{YEAR}/denominators"
    refused = client.post(url, data=DENOMINATORS | {"pupils_10_19": 3, "pupils_15_19": 3})
    assert refused.status_code == 422
    assert "больше 100 %" in _text(refused.text)
    saved = client.post(url, data={k: str(v) for k, v in DENOMINATORS.items()})
    assert saved.status_code == 303
    page = _text(client.get(f"/ui/orgs/s1/indicators?year={YEAR}").text)
    assert "2024/25 учебный год" in page
    assert "Доля обучающихся 10–19 лет" in page
    assert "20 %" in page
    assert "70 %" in page
    assert "−50 п. п." in page
    assert "делённые на число обучающихся 10–19 лет" in page


MENTEE_BASE = [
    "№",
    "ФИО наставляемого",
    "Контакты",
    "Возраст",
    "Ключевые запросы",
    "Дата вхождения в программу",
    "ФИО наставника",
    "Место работы наставника",
    "Форма наставничества",
    "Место работы/учёбы наставляемого",
    "Дата завершения",
    "Результаты",
]


def _sheet(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_bases_of_a_school_and_of_a_municipality_as_xlsx(db: Database, client: TestClient) -> None:
    b = build_school(db)
    evil = person(db, b.org, "mentee", "evil", name="=HYPERLINK(1)", spec="pupil", records={})
    evil_mentor = b.mentor("em", "pupil", 18)
    b.pair(evil, evil_mentor, _at(2024, 11, 1))
    headers = auth(token(db, "curator", "s1"))
    response = client.get(f"/api/v1/orgs/s1/bases/mentees?year={YEAR}", headers=headers)
    assert response.status_code == 200, response.text
    rows = _sheet(response.content)
    assert rows[0][0] == "База наставляемых: Школа s1, 2024/25 учебный год"
    assert rows[1] == MENTEE_BASE
    names = [r[1] for r in rows[2:]]
    # every mentee with a pair in 2024/25; p14-old's pair ended in June 2024
    pupils = ["Имя p12", "Имя p15", "Имя p19", "Имя p9", "Имя p20", "Имя p18"]
    assert sorted(names) == sorted([*pupils, "Имя y2", "Имя y10", "Имя s0", "=HYPERLINK(1)"])
    from openpyxl import load_workbook

    cell = next(
        c
        for row in load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows()
        for c in row
        if c.value == "=HYPERLINK(1)"
    )
    assert cell.data_type == "s"  # stored as text, not as a formula
    p12 = next(r for r in rows if r[1] == "Имя p12")
    assert p12[3] == 12
    assert p12[6] == "Имя m16"
    assert p12[9] == "Школа s1"
    assert p12[11] == "пара действует"
    last_year = _sheet(
        client.get("/api/v1/orgs/s1/bases/mentees?year=2023", headers=headers).content
    )
    old = next(r for r in last_year[2:] if r[1] == "Имя p14-old")
    assert old[10] == "01.06.2024"
    assert old[11] == "программа наставничества завершена"
    mentors = _sheet(
        client.get(f"/api/v1/orgs/s1/bases/mentors?year={YEAR}", headers=headers).content
    )
    assert mentors[1][:4] == ["№", "ФИО наставника", "Контакты", "Место работы"]
    teacher = next(r for r in mentors[2:] if r[1] == "Имя t")
    assert teacher[8] == "Имя y2; Имя y10; Имя s0"
    _small_school(db, "s2", "m1", 2, 10)
    coordinator = auth(token(db, "coordinator", None, municipality="m1"))
    combined = client.get(
        f"/api/v1/municipalities/m1/bases/mentees?year={YEAR}", headers=coordinator
    )
    assert combined.status_code == 200
    schools = {r[9] for r in _sheet(combined.content)[2:]}
    assert schools == {"Школа s1", "Школа s2"}
    assert client.get("/api/v1/municipalities/m1/bases/mentees", headers=headers).status_code == 403


def test_the_statement_of_a_school_and_of_a_municipality_opens_in_python_docx(
    db: Database, client: TestClient
) -> None:
    from docx import Document

    build_school(db)
    headers = auth(token(db, "admin", None))
    client.put(f"/api/v1/orgs/s1/denominators/{YEAR}", json=DENOMINATORS, headers=headers)
    _small_school(db, "s2", "m1", 2, 10)
    for url in ("/api/v1/orgs/s1/statement", "/api/v1/municipalities/m1/statement"):
        response = client.get(f"{url}?year={YEAR}", headers=headers)
        assert response.status_code == 200, response.text
        document = Document(io.BytesIO(response.content))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Аналитическая справка" in text
        assert "2024/25 учебный год" in text
        indicators = document.tables[1]
        rows = [[c.text for c in row.cells] for row in indicators.rows]
        assert rows[0] == [
            "Показатель",
            "Числитель",
            "Знаменатель",
            "Значение",
            "Цель",
            "Отклонение",
        ]
        assert len(rows) == 7
        assert len(document.inline_shapes) == 3  # indicators, trend, satisfaction
    # the municipality's: 4 + 2 pupil mentees of 20 + 10 pupils -> 20 %; s2 has its own line
    assert rows[1][1:4] == ["6", "30", "20 %"]
    schools = [[c.text for c in row.cells] for row in document.tables[-1].rows]
    assert [r[0] for r in schools[1:]] == ["Школа s1", "Школа s2"]


def _docx_text(content: bytes) -> tuple[str, list[list[list[str]]]]:
    from docx import Document

    document = Document(io.BytesIO(content))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return "\n".join(p.text for p in document.paragraphs), tables


HEADING = {"number": "46-о", "date": "2024-10-02", "basis": "Положением о наставничестве"}


def test_three_more_orders(db: Database, client: TestClient) -> None:
    school(db, "s1", "m1")
    org = org_id(db, "s1")
    agreed = person(db, org, "mentor", "a", name="Петрова Анна")
    refused = person(db, org, "mentor", "r", name="Сидоров Пётр", consent=False)
    other = person(db, org, "mentor", "o", name="Орлова Ольга")
    mentee = person(db, org, "mentee", "e", name="Иванов Иван")
    headers = auth(token(db, "curator", "s1"))
    url = "/api/v1/orgs/s1/orders"
    # appointing mentors: a mentor without consent is refused, by name
    body = HEADING | {"mentor_ids": [agreed, refused]}
    answer = client.post(f"{url}/mentors", json=body, headers=headers)
    assert answer.status_code == 422
    assert "нет письменного согласия наставника Сидоров Пётр" in answer.text
    answer = client.post(f"{url}/mentors", json=HEADING | {"mentor_ids": [agreed]}, headers=headers)
    assert answer.status_code == 200, answer.text
    text, tables = _docx_text(answer.content)
    assert "О назначении наставников" in text
    assert tables[0][1][1] == "Петрова Анна"
    # appointing the curator
    body = HEADING | {"curator_name": "Кузнецова Мария", "curator_post": "заместитель директора"}
    answer = client.post(f"{url}/curator", json=body, headers=headers)
    assert answer.status_code == 200
    text, _ = _docx_text(answer.content)
    assert "куратором реализации программ наставничества Кузнецова Мария" in text
    # replacing a mentor: nothing replaced yet -> refused; then a replacement is in the order
    assert client.post(f"{url}/replacements", json=HEADING, headers=headers).status_code == 422
    # (the replacement itself, as service.pairs.replace_mentor stores it: the old pair ended with
    # the reason, the new one referring to it)
    with db.write() as session:
        old = Pair(
            org_id=org,
            mentee_id=mentee,
            mentor_id=agreed,
            form="teacher_teacher",
            place=1,
            status="ended",
            started_at=_at(2024, 9, 2),
            ended_at=_at(2024, 9, 30),
            end_reason="transfer",
        )
        session.add(old)
        session.flush()
    group_id, group_size = group(db, org, other)
    with db.write() as session:
        session.add(
            Pair(
                group_id=group_id,
                group_size=group_size,
                org_id=org,
                mentee_id=mentee,
                mentor_id=other,
                form="teacher_teacher",
                place=1,
                started_at=_at(2024, 9, 30),
                previous_pair_id=old.id,
            )
        )
    answer = client.post(f"{url}/replacements", json=HEADING, headers=headers)
    assert answer.status_code == 200, answer.text
    text, tables = _docx_text(answer.content)
    assert "О замене наставника" in text
    assert tables[0][1][1:5] == [
        "Иванов Иван",
        "Петрова Анна",
        "Орлова Ольга",
        "перевод на другую работу или в другую организацию",
    ]
    # the page offers the three forms and refuses the same mistakes
    sign_in(client, db, token(db, "curator", "s1"))
    page = _text(client.get("/ui/orgs/s1/orders").text)
    assert "О назначении куратора" in page
    assert "нет — назначить нельзя" in page
    refused_page = client.post(
        "/ui/orgs/s1/orders/mentors", data=HEADING | {"mentor": str(refused)}
    )
    assert refused_page.status_code == 422
    assert "нет письменного согласия наставника Сидоров Пётр" in _text(refused_page.text)


def _in_region(db: Database, region: str, *codes: str) -> None:
    from sqlalchemy import update

    from service.core.models import Organisation

    with db.write() as session:
        session.execute(
            update(Organisation).where(Organisation.code.in_(codes)).values(region=region)
        )


def test_a_region_of_two_municipalities_adds_up(db: Database, client: TestClient) -> None:
    # Город: (1, 10), (2, 20); Село: (3, 70); -> the region: 6 pupil mentees of 100 pupils
    _small_school(db, "a", "Город", 1, 10)
    _small_school(db, "b", "Город", 2, 20)
    _small_school(db, "c", "Село", 3, 70)
    _small_school(db, "far", "Далеко", 3, 30)
    _in_region(db, "Удмуртия", "a", "b", "c")
    _in_region(db, "Другой", "far")
    operator = auth(token(db, "region", None, region="Удмуртия"))
    body = client.get(f"/api/v1/regions/Удмуртия/indicators?year={YEAR}", headers=operator)
    assert body.status_code == 200, body.text
    total = _by_key(body.json())["pupil_mentees"]
    assert (total["numerator"], total["denominator"], total["value"]) == (6, 100, 6.0)
    parts = {p["code"]: _by_key(p)["pupil_mentees"] for p in body.json()["parts"]}
    assert {k: (v["numerator"], v["denominator"]) for k, v in parts.items()} == {
        "Город": (3, 30),
        "Село": (3, 70),
    }
    # the operator sees each municipality's page of their region, not another region's
    town = client.get(f"/api/v1/municipalities/Город/indicators?year={YEAR}", headers=operator)
    assert town.status_code == 200
    assert _by_key(town.json())["pupil_mentees"]["value"] == 10.0
    assert (
        client.get("/api/v1/municipalities/Далеко/indicators", headers=operator).status_code == 404
    )
    assert client.get("/api/v1/regions/Другой/indicators", headers=operator).status_code == 404
    assert client.get("/api/v1/orgs/far/indicators", headers=operator).status_code == 404
    coordinator = auth(token(db, "coordinator", None, municipality="Город"))
    assert client.get("/api/v1/regions/Удмуртия/indicators", headers=coordinator).status_code == 403
    statement = client.get(f"/api/v1/regions/Удмуртия/statement?year={YEAR}", headers=operator)
    assert statement.status_code == 200
    _, tables = _docx_text(statement.content)
    assert [r[0] for r in tables[-1][1:]] == ["Город", "Село"]
    sign_in(client, db, token(db, "region", None, region="Удмуртия"))
    page = _text(client.get(f"/ui/regions/Удмуртия/indicators?year={YEAR}").text)
    assert "Регион «Удмуртия»" in page
    assert "По муниципалитетам" in page
