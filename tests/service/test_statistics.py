"""Counts of participants for the federal statistics forms (004 roadmap 6.1) on hand-built schools.

Every person and pair is written below; the expected counts are worked out by hand in the comments
(not by the code's rules). The API, the XLSX and the page are driven over the real application.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from service.app import create_app
from service.core.db import Database
from service.core.models import MatchingRun, Pair, Person
from tests.service.test_pages import browser, page  # noqa: F401 (fixtures)
from tests.service.util import auth, org_id, person, school, settings_for, sign_in, token

YEAR = 2024  # 1 September 2024 - 31 August 2025


def _at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, tzinfo=UTC)


def _pupil(db: Database, code: str, key: str, age: int) -> int:
    return person(db, org_id(db, code), "mentee", key, spec="pupil", records={"age": age})


def _mentor(db: Database, code: str, key: str, role: str, age: int = 30, employer: str = "") -> int:
    records: dict[str, Any] = {"role": role, "age": age}
    if employer:
        records["school"] = employer
    return person(db, org_id(db, code), "mentor", key, spec="pupil", records=records)


def _teacher(db: Database, code: str, key: str, experience: float, status: str) -> int:
    records = {"experience": experience, "status": status}
    return person(db, org_id(db, code), "mentee", key, records=records)


def _teacher_mentor(db: Database, code: str, key: str, position: str) -> int:
    return person(db, org_id(db, code), "mentor", key, records={"position": position})


_GROUPS: dict[tuple[int, int, str], dict[str, int]] = {}


def _group_of(db: Database, org: int, mentor: int, form: str) -> dict[str, int]:
    """The group columns of a pair once pairs belong to their mentor's group (branch
    groups-service: ``tests.service.util.group``); nothing before."""
    from tests.service import util

    if not hasattr(Pair, "group_id") or not hasattr(util, "group"):
        return {}
    key = (id(db), mentor, form)
    if key not in _GROUPS:
        made = util.group(db, org, mentor, form, 10)
        _GROUPS[key] = {"group_id": made[0], "group_size": made[1]}
    return _GROUPS[key]


def _pair(
    db: Database,
    mentee: int,
    mentor: int,
    form: str,
    started: datetime,
    ended: datetime | None = None,
    reason: str | None = None,
) -> None:
    with db.read() as session:
        owner, theirs = session.get(Person, mentee), session.get(Person, mentor)
        assert owner is not None
        assert theirs is not None
        taken = session.scalars(
            select(Pair.place).where(Pair.mentor_id == mentor, Pair.ended_at.is_(None))
        ).all()
        org, mentor_org = owner.org_id, theirs.org_id
    group = _group_of(db, mentor_org, mentor, form)
    with db.write() as session:
        session.add(
            Pair(
                org_id=org,
                mentee_id=mentee,
                mentor_id=mentor,
                form=form,
                place=1 if ended is not None else len(taken) + 1,
                status="active" if ended is None else "completed",
                started_at=started,
                ended_at=ended,
                end_reason=reason,
                **group,
            )
        )


def build(db: Database) -> None:
    """Schools s1, s2, s3 of municipality m1 and s9 of m9."""
    for code, municipality in (("s1", "m1"), ("s2", "m1"), ("s3", "m1"), ("s9", "m9")):
        school(db, code, municipality)
    autumn = _at(2024, 10, 1)
    # -- s1 -------------------------------------------------------------------------------------
    a12, a15, a9, a20 = (_pupil(db, "s1", f"a{n}", n) for n in (12, 15, 9, 20))
    old14, v13 = _pupil(db, "s1", "old14", 14), _pupil(db, "s1", "v13", 13)
    m16, m14 = _mentor(db, "s1", "m16", "pupil", 16), _mentor(db, "s1", "m14", "pupil", 14)
    student = _mentor(db, "s1", "st", "student", 20)
    r1 = _mentor(db, "s1", "r1", "professional", employer="ООО «Ромашка»")
    z1 = _mentor(db, "s1", "z1", "professional", employer="АО Завод")
    y2 = _teacher(db, "s1", "y2", 2, "young")
    e10 = _teacher(db, "s1", "e10", 10, "learning")
    s0 = _teacher(db, "s1", "s0", 0, "student")
    t = _teacher_mentor(db, "s1", "t", "teacher")
    h = _teacher_mentor(db, "s1", "h", "head")
    m17 = _mentor(db, "s2", "m17", "pupil", 17)  # of s2: the mentor of s1's virtual pair
    _pair(db, a12, m16, "pupil_pupil", autumn)  # 1: started, going on
    _pair(db, a15, student, "student_pupil", _at(2024, 5, 1))  # 2: from last year, going on
    _pair(db, a9, m14, "pupil_pupil", autumn, _at(2025, 3, 1), "completed")  # 3: completed
    _pair(db, a20, r1, "employer_pupil", autumn, _at(2024, 12, 1), "mentee_request")  # 4: early
    last_year = (_at(2023, 10, 1), _at(2024, 6, 1), "completed")
    _pair(db, old14, z1, "employer_pupil", *last_year)  # 5: last year only
    _pair(db, y2, t, "teacher_teacher", _at(2024, 9, 2))  # 6
    # 7: ends in September 2025, after the year
    _pair(db, e10, h, "head_teacher", _at(2024, 9, 2), _at(2025, 9, 15), "completed")
    _pair(db, s0, t, "employer_student", _at(2024, 11, 1))  # 8
    _pair(db, v13, m17, "pupil_pupil", autumn)  # 9: virtual, the mentor at s2
    _pupil(db, "s1", "waiting", 11)  # no pair: not counted
    # -- s2: its own two pairs; «ооо "ромашка"» is the same enterprise as s1's ------------------
    b11, b16 = _pupil(db, "s2", "b11", 11), _pupil(db, "s2", "b16", 16)
    r2 = _mentor(db, "s2", "r2", "professional", employer=' ооо  "Ромашка"')
    _pair(db, b11, m17, "pupil_pupil", _at(2024, 9, 10))
    _pair(db, b16, r2, "employer_pupil", _at(2024, 9, 10))
    # -- s9 of another municipality: never in m1's counts ---------------------------------------
    c12, c17 = _pupil(db, "s9", "c12", 12), _mentor(db, "s9", "c17", "pupil", 17)
    _pair(db, c12, c17, "pupil_pupil", autumn)


#: s1 in 2024/25, counted by hand from the pairs above.
S1 = {
    "mentees": 8,  # a12, a15, a9, a20, y2, e10, s0, v13 (old14's pair ended in June 2024)
    "mentees_pupils": 5,  # a12, a15, a9, a20, v13
    "mentees_pupils_10_19": 3,  # a12, a15, v13 (a9 is 9, a20 is 20)
    "mentees_teachers": 2,  # y2, e10
    "mentees_young_teachers": 1,  # y2 (s0 is a student on practice, e10 has 10 years)
    "mentees_students": 1,  # s0
    "mentors": 6,  # m16, student, m14, r1, t, h (m17 is of s2, z1's pair was last year)
    "mentors_teachers": 2,  # t, h
    "mentors_pupils": 2,  # m16, m14
    "mentors_pupils_15_19": 1,  # m16
    "mentors_students": 1,
    "mentors_professionals": 1,  # r1
    "enterprises": 1,  # Ромашка
    "pairs": 8,  # 1, 2, 3, 4, 6, 7, 8, 9
    "pairs_started": 7,  # all but 2
    "pairs_completed": 1,  # 3 (7 ends in September 2025, after the year)
    "pairs_ended_early": 1,  # 4
    "pairs_continuing": 6,  # 1, 2, 6, 7, 8, 9
    "pairs_virtual": 1,  # 9
}
#: s2: b11 - m17, b16 - r2; m17 also mentors s1's v13.
S2 = {"mentees": 2, "mentees_pupils": 2, "mentees_pupils_10_19": 2, "mentors": 2,
      "mentors_pupils": 1, "mentors_pupils_15_19": 1, "mentors_professionals": 1,
      "enterprises": 1, "pairs": 2, "pairs_started": 2, "pairs_continuing": 2}  # fmt: skip


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as made:
        yield made


def _values(body: dict[str, Any]) -> dict[str, int | None]:
    return {c["key"]: c["value"] for c in body["counts"]}


def _expected(counts: dict[str, int]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in S1}


def test_the_counts_of_a_hand_built_school(db: Database, client: TestClient) -> None:
    build(db)
    headers = auth(token(db, "curator", "s1"))
    answer = client.get(f"/api/v1/orgs/s1/statistics?year={YEAR}", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["year_label"] == "2024/25 учебный год"
    values = _values(body)
    assert {k: values[k] for k in S1} == S1
    assert values["total_pupils_10_19"] is None  # no denominator entered
    forms = {f["form"]: f for f in body["forms"]}
    assert set(forms) == {"pupil_pupil", "student_pupil", "employer_pupil", "teacher_teacher",
                          "head_teacher", "employer_student"}  # fmt: skip
    pupil = forms["pupil_pupil"]  # pairs 1, 3, 9; mentees a12, a9, v13; mentors m16, m14 of s1
    assert pupil["title"] == "ученик – ученик"
    got = [pupil[k] for k in ("pairs", "started", "completed", "ended_early", "continuing",
                              "virtual", "mentees", "mentors")]  # fmt: skip
    assert got == [3, 3, 1, 0, 2, 1, 3, 2]
    assert forms["employer_pupil"]["ended_early"] == 1
    assert sum(f["pairs"] for f in forms.values()) == S1["pairs"]
    # last year: only old14 - z1 of АО Завод (and a15 - student, started in May 2024)
    before = _values(client.get("/api/v1/orgs/s1/statistics?year=2023", headers=headers).json())
    assert (before["mentees"], before["pairs"], before["pairs_completed"]) == (2, 2, 1)
    assert before["enterprises"] == 1
    assert client.get("/api/v1/orgs/s9/statistics", headers=headers).status_code == 404


def test_a_municipality_of_several_schools_adds_up(db: Database, client: TestClient) -> None:
    build(db)
    admin = auth(token(db, "admin", None))
    denominators = {"pupils_10_19": 40, "pupils_15_19": 15, "young_teachers": 3, "enterprises": 9}
    for code in ("s1", "s2"):
        stored = client.put(
            f"/api/v1/orgs/{code}/denominators/{YEAR}", json=denominators, headers=admin
        )
        assert stored.status_code == 200, stored.text
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    body = client.get(f"/api/v1/municipalities/m1/statistics?year={YEAR}", headers=headers).json()
    total = _values(body)
    parts = {p["code"]: p["values"] for p in body["parts"]}
    assert set(parts) == {"s1", "s2", "s3"}
    assert {k: parts["s1"][k] for k in S1} == S1
    assert {k: parts["s2"][k] for k in S1} == _expected(S2)
    assert {k: parts["s3"][k] for k in S1} == _expected({})
    for key in S1:
        if key == "enterprises":  # one Ромашка gives mentors to s1 and s2: counted once
            assert total[key] == 1
        else:
            assert total[key] == S1[key] + S2.get(key, 0), key
    assert total["total_pupils_10_19"] == 80  # two schools entered 40 each; s3 entered nothing
    assert body["schools_without_denominators"] == 1
    coordinator_of_m9 = auth(token(db, "coordinator", None, municipality="m9"))
    hidden = client.get("/api/v1/municipalities/m1/statistics", headers=coordinator_of_m9)
    assert hidden.status_code == 404
    curator = auth(token(db, "curator", "s1"))
    assert client.get("/api/v1/municipalities/m1/statistics", headers=curator).status_code == 403


def test_a_region_adds_up_its_municipalities(db: Database, client: TestClient) -> None:
    from tests.service.test_indicators import _in_region

    build(db)
    _in_region(db, "R", "s1", "s2", "s3", "s9")
    headers = auth(token(db, "region", None, region="R"))
    body = client.get(f"/api/v1/regions/R/statistics?year={YEAR}", headers=headers).json()
    parts = {p["code"]: p["values"] for p in body["parts"]}
    assert (parts["m1"]["mentees"], parts["m9"]["mentees"]) == (10, 1)
    assert _values(body)["mentees"] == 11
    assert _values(body)["pairs"] == 11


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(content))
    return {s.title: [[c.value for c in r] for r in s.iter_rows()] for s in book.worksheets}


def test_the_counts_as_xlsx_and_on_the_page(db: Database, client: TestClient) -> None:
    build(db)
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    answer = client.get(f"/api/v1/municipalities/m1/statistics.xlsx?year={YEAR}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = _sheets(answer.content)
    assert list(sheets) == ["Участники", "По формам", "По школам"]
    counts = sheets["Участники"]
    assert counts[0][0] == (
        "Сведения о количестве участников программ наставничества: муниципалитет m1, "
        "2024/25 учебный год"
    )
    by_title = {row[1]: row[2] for row in counts[2:] if row[0]}
    assert by_title["Наставляемых — всего"] == 10
    assert by_title["Наставнических пар — всего"] == 10
    assert by_title["виртуальных (наставник из другой организации)"] == 1
    forms = {row[0]: row[1:] for row in sheets["По формам"][2:]}
    assert forms["ученик – ученик"][:2] == [4, 4]  # s1's three and s2's b11 - m17
    schools = {row[0]: row[1] for row in sheets["По школам"][2:]}
    assert schools == {"Школа s1": 8, "Школа s2": 2, "Школа s3": 0}
    sign_in(client, db, token(db, "curator", "s1"))
    shown = client.get(f"/ui/orgs/s1/statistics?year={YEAR}")
    assert shown.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown.text))
    assert "количество участников программ наставничества" in text
    assert re.search(r"Наставляемых — всего 8 ", text)
    assert re.search(r"из них молодых специалистов \(стаж до 3 лет\) 1 ", text)
    assert "педагог – педагог" in text
    download = client.get(f"/ui/orgs/s1/statistics.xlsx?year={YEAR}")
    assert download.status_code == 200
    assert _sheets(download.content)["Участники"][0][0].endswith("Школа s1, 2024/25 учебный год")
    indicators = client.get(f"/ui/orgs/s1/indicators?year={YEAR}").text
    assert f"/ui/orgs/s1/statistics?year={YEAR}" in indicators
    assert client.get("/ui/municipalities/m1/statistics").status_code == 403


def test_the_statement_carries_the_counts(db: Database, client: TestClient) -> None:
    from docx import Document

    build(db)
    headers = auth(token(db, "coordinator", None, municipality="m1"))
    answer = client.get(f"/api/v1/municipalities/m1/statement?year={YEAR}", headers=headers)
    assert answer.status_code == 200, answer.text
    document = Document(io.BytesIO(answer.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "5. Количество участников (для форм статистического наблюдения)" in headings
    assert headings[-1] == "6. Показатели школ"
    counts = {r.cells[0].text: r.cells[1].text for r in document.tables[-2].rows}
    assert counts["Наставляемых — всего"] == "10"
    assert counts["Предприятий (организаций), предоставивших наставников"] == "1"
    assert counts["Обучающихся 10–19 лет — всего в организациях"] == "не введено"


def test_the_report_page_shows_its_charts(db: Database, client: TestClient) -> None:
    build(db)
    sign_in(client, db, token(db, "curator", "s1"))
    shown = client.get("/ui/orgs/s1/report")
    assert shown.status_code == 200
    found = dict(re.findall(r'<img src="([^"]+)" alt="[^"]*" data-chart="(\w+)"', shown.text))
    assert sorted(found.values()) == ["coverage", "load", "satisfaction", "waiting"]
    for url in found:
        image = client.get(url)
        assert image.status_code == 200, url
        assert image.headers["content-type"].startswith("image/svg+xml")


def test_the_region_page_runs_the_batch_with_the_chosen_objective(
    db: Database, client: TestClient
) -> None:
    from tests.service.test_indicators import _in_region

    build(db)
    _in_region(db, "R", "s1", "s2")
    _in_region(db, "E", "s3")  # a region whose school has nobody yet: its run proposes nothing
    sign_in(client, db, token(db, "admin", None))
    html = client.get(f"/ui/regions/R/indicators?year={YEAR}").text
    assert 'name="objective" value="coverage"' in html
    assert 'name="objective" value="score"' in html
    assert "/ui/regions/R/statistics?year=2024" in html
    refused = client.post("/ui/regions/E/matching-run", data={"objective": "best"})
    assert refused.status_code == 422
    done = client.post("/ui/regions/E/matching-run", data={"objective": "score"})
    assert done.status_code == 303
    assert done.headers["location"] == "/ui/regions/E/indicators"
    with db.read() as session:
        stored = session.execute(select(MatchingRun.region, MatchingRun.objective)).all()
    assert [tuple(r) for r in stored] == [("E", "score")]
    operator = auth(token(db, "region", None, region="R"))
    # the region's combined base of mentors: every school of R, a sheet per category
    base = client.get(f"/api/v1/regions/R/bases/mentors?year={YEAR}", headers=operator)
    assert base.status_code == 200
    sheets = _sheets(base.content)
    assert sheets["База"][0][0] == "База наставников: регион R, 2024/25 учебный год"
    assert {r[12] for r in sheets["База"][2:]} == {"Школа s1", "Школа s2"}
    assert sorted(r[1] for r in sheets["Студенты"][2:]) == ["Имя st"]


@pytest.mark.browser
@pytest.mark.parametrize("live_db", ["sqlite"], indirect=True)
def test_a_regional_operator_reads_the_counts_in_a_browser(live_db: Database, page: Any) -> None:  # noqa: F811
    from tests.service.test_indicators import _in_region
    from tests.service.test_pages import _login
    from tests.service.util import live_server, login_of

    build(live_db)
    _in_region(live_db, "R", "s1", "s2", "s3", "s9")
    with live_server(live_db) as base:
        _login(page, base, login_of(live_db, token(live_db, "region", None, region="R")))
        page.get_by_role("link", name="Регион").click()
        page.locator("select[name=year]").select_option(str(YEAR))
        page.get_by_role("button", name="Показать").click()
        page.get_by_role("link", name="Количество участников для форм ФСН").click()
        assert "Регион «R»" in page.locator("h1").inner_text()
        value = page.locator('#counts tr[data-count="mentees"] td.value')
        assert value.inner_text() == "11"  # m1: 8 + 2 + 0, m9: 1
        parts = page.locator("#parts tr[data-part]")
        assert [parts.nth(k).get_attribute("data-part") for k in range(parts.count())] == [
            "m1",
            "m9",
        ]
        with page.expect_download() as download:
            page.get_by_role("link", name="Скачать (XLSX)").click()
        assert download.value.suggested_filename == f"statistics-R-{YEAR}.xlsx"
        parts.nth(0).get_by_role("link").click()
        assert "Муниципалитет «m1»" in page.locator("h1").inner_text()
        schools = page.locator("#parts tr[data-part]")
        assert schools.count() == 3
        row = page.locator('#forms tr[data-form="pupil_pupil"]')
        assert row.locator("td").nth(1).inner_text() == "4"  # s1's three and s2's b11 - m17
