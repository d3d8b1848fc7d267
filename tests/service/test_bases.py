"""The bases of 004 §6.3 beyond mentees and mentors: curators, mentors by category with their own
organisation, and the results of a pair written in when it ends (000 roadmap 26)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service.app import create_app
from service.core.db import Database
from tests.service.test_statistics import YEAR, build
from tests.service.util import auth, org_id, person, proposal, school, settings_for, token


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as made:
        yield made


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(content))
    return {s.title: [[c.value for c in r] for r in s.iter_rows()] for s in book.worksheets}


HEADING = {"basis": "Положением о наставничестве"}


def test_the_municipal_base_of_curators(db: Database, client: TestClient) -> None:
    for code in ("s1", "s2"):
        school(db, code, "m1")
    school(db, "s9", "m9")
    curator = auth(token(db, "curator", "s1"))  # one account of a curator of s1
    first = HEADING | {"number": "12-о", "date": "2024-08-30", "curator_name": "Кузнецова Мария",
                       "curator_post": "заместитель директора по УВР"}  # fmt: skip
    second = HEADING | {"number": "3-о", "date": "2025-01-15", "curator_name": "Орлов Пётр",
                        "curator_post": "заместитель директора по ВР"}  # fmt: skip
    for body in (first, second):
        made = client.post("/api/v1/orgs/s1/orders/curator", json=body, headers=curator)
        assert made.status_code == 200, made.text
    coordinator = auth(token(db, "coordinator", None, municipality="m1"))
    answer = client.get(
        f"/api/v1/municipalities/m1/bases/curators?year={YEAR}", headers=coordinator
    )
    assert answer.status_code == 200, answer.text
    rows = _sheets(answer.content)["База"]
    assert rows[0][0] == "База кураторов: муниципалитет m1, 2024/25 учебный год"
    assert rows[1] == [
        "№",
        "Образовательная организация",
        "Муниципалитет",
        "ФИО куратора",
        "Должность",
        "Приказ о назначении",
        "Куратор в учебном году",
        "Учётных записей кураторов в сервисе",
    ]
    assert rows[2:] == [
        [1, "Школа s1", "m1", "Кузнецова Мария", "заместитель директора по УВР",
         "№ 12-о от 30.08.2024", "с 30.08.2024 по 15.01.2025", 1],
        [2, "Школа s1", "m1", "Орлов Пётр", "заместитель директора по ВР",
         "№ 3-о от 15.01.2025", "с 15.01.2025", 1],
        [3, "Школа s2", "m1", "не назначен приказом", None, None, None, 0],
    ]  # fmt: skip
    # the next year: only the curator then in office
    later = client.get("/api/v1/municipalities/m1/bases/curators?year=2025", headers=coordinator)
    assert [r[3] for r in _sheets(later.content)["База"][2:]] == [
        "Орлов Пётр",
        "не назначен приказом",
    ]
    # 30 August 2024 is still in 2023/24; in 2022/23 nobody was appointed yet
    earlier = client.get("/api/v1/orgs/s1/bases/curators?year=2023", headers=curator)
    assert _sheets(earlier.content)["База"][2][3:7] == [
        "Кузнецова Мария",
        "заместитель директора по УВР",
        "№ 12-о от 30.08.2024",
        "с 30.08.2024",
    ]
    before = client.get("/api/v1/orgs/s1/bases/curators?year=2022", headers=curator)
    assert _sheets(before.content)["База"][2][3] == "не назначен приказом"
    assert (
        client.get("/api/v1/municipalities/m1/bases/curators", headers=curator).status_code == 403
    )


def test_the_municipal_base_of_mentors_has_a_sheet_per_category(
    db: Database, client: TestClient
) -> None:
    build(db)
    coordinator = auth(token(db, "coordinator", None, municipality="m1"))
    answer = client.get(f"/api/v1/municipalities/m1/bases/mentors?year={YEAR}", headers=coordinator)
    assert answer.status_code == 200, answer.text
    sheets = _sheets(answer.content)
    assert list(sheets) == ["База", "Педагоги", "Предприятия и организации", "Обучающиеся",
                            "Студенты"]  # fmt: skip
    assert sheets["База"][1] == [  # DOMAIN.md «База наставников», then the category and school
        "№",
        "ФИО наставника",
        "Контакты",
        "Место работы",
        "Ключевые компетенции",
        "Интересы",
        "Желаемый возраст (класс) наставляемых",
        "Дата вхождения в программу",
        "ФИО наставляемых",
        "Форма наставничества",
        "Результаты",
        "Категория наставника",
        "Образовательная организация",
    ]
    names = {title: sorted(r[1] for r in rows[2:]) for title, rows in sheets.items()}
    # mentors with a pair in 2024/25 (z1's pair ended in June 2024)
    assert names["Педагоги"] == ["Имя h", "Имя t"]
    assert names["Предприятия и организации"] == ["Имя r1", "Имя r2"]
    assert names["Обучающиеся"] == ["Имя m14", "Имя m16", "Имя m17"]
    assert names["Студенты"] == ["Имя st"]
    r1 = next(r for r in sheets["База"][2:] if r[1] == "Имя r1")
    assert (r1[3], r1[11], r1[12]) == (
        "ООО «Ромашка»",
        "специалист предприятия (организации)",
        "Школа s1",
    )
    assert [r[0] for r in sheets["Обучающиеся"][2:]] == [1, 2, 3]
    mentees = _sheets(
        client.get(
            f"/api/v1/municipalities/m1/bases/mentees?year={YEAR}", headers=coordinator
        ).content
    )["База"]
    a20 = next(r for r in mentees[2:] if r[1] == "Имя a20")
    assert (a20[6], a20[7]) == ("Имя r1", "ООО «Ромашка»")  # the mentor's own organisation
    v13 = next(r for r in mentees[2:] if r[1] == "Имя v13")
    assert v13[7] == "Школа s2"  # a virtual pair's mentor is of another school
    school_base = client.get(f"/api/v1/orgs/s1/bases/mentors?year={YEAR}", headers=coordinator)
    assert list(_sheets(school_base.content)) == ["База"]


def test_results_are_written_into_the_bases_when_a_pair_ends(
    db: Database, client: TestClient
) -> None:
    school(db, "s1", "m1")
    org = org_id(db, "s1")
    admin = auth(token(db, "admin", None))
    mentor = person(db, org, "mentor", "mentor@school.ru", name="Петрова Анна", capacity=2)
    anna, oleg = (person(db, org, "mentee", k, name=n) for k, n in
                  (("ivanova@school.ru", "Иванова Ольга"), ("sidorov@school.ru", "Сидоров Олег")))  # fmt: skip
    pairs = []
    for mentee in (anna, oleg):
        made = client.post(f"/api/v1/proposals/{proposal(db, org, mentee, mentor)}/confirm",
                           headers=admin)  # fmt: skip
        assert made.status_code == 201, made.text
        pairs.append(made.json()["pair_id"])
    first, second = pairs
    # while the pairs go on, the bases say so
    before = _sheets(client.get("/api/v1/orgs/s1/bases/mentees", headers=admin).content)["База"]
    assert {r[1]: r[11] for r in before[2:]} == {
        "Иванова Ольга": "пара действует",
        "Сидоров Олег": "пара действует",
    }
    # the first pair ends the regular way: satisfaction questionnaires, then both final reports
    for author, score in (("mentee", 9), ("mentor", 8)):
        given = client.post(f"/api/v1/pairs/{first}/feedback", headers=admin,
                            json={"author": author, "kind": "satisfaction", "score": score})  # fmt: skip
        assert given.status_code == 201, given.text
    reports = {"mentee": "Научилась планировать уроки", "mentor": "Ольга ведёт уроки сама"}
    for side, who in (("mentee", anna), ("mentor", mentor)):
        link = client.post("/api/v1/orgs/s1/invitations", headers=admin,
                           json={"person_id": who, "purpose": "pair", "pair_id": first})  # fmt: skip
        assert link.status_code == 201, link.text
        secret = link.json()["url"].rstrip("/").rsplit("/", 1)[-1]
        sent = client.post(f"/api/v1/links/{secret}/final-report",
                           json={"text": reports[side], "score": 10})  # fmt: skip
        assert sent.status_code == 201, sent.text
    # the second ends early, at the mentee's request
    ended = client.post(f"/api/v1/pairs/{second}/end", json={"reason": "mentee_request"},
                        headers=admin)  # fmt: skip
    assert ended.status_code == 200, ended.text
    assert client.get(f"/api/v1/pairs/{first}", headers=admin).json()["status"] == "completed"
    mentees = _sheets(client.get("/api/v1/orgs/s1/bases/mentees", headers=admin).content)["База"]
    rows = {r[1]: r for r in mentees[2:]}
    olga, oleg_row = rows["Иванова Ольга"], rows["Сидоров Олег"]
    today = f"{datetime.now(settings_for(db).zone):%d.%m.%Y}"
    assert (olga[10], oleg_row[10]) == (today, today)  # the end dates are written in
    assert olga[11] == (
        "программа наставничества завершена; удовлетворённость 9 из 10; "
        "итоговый отчёт наставляемого: «Научилась планировать уроки» (оценка 10 из 10); "
        "итоговый отчёт наставника: «Ольга ведёт уроки сама» (оценка 10 из 10)"
    )
    assert oleg_row[11] == "по просьбе наставляемого"
    mentors = _sheets(client.get("/api/v1/orgs/s1/bases/mentors", headers=admin).content)["База"]
    results = mentors[2][10]
    assert "Иванова Ольга: программа наставничества завершена; удовлетворённость 8 из 10" in results
    assert "Сидоров Олег: по просьбе наставляемого" in results


def test_pages_import_denominators_and_appoint_a_curator(db: Database, client: TestClient) -> None:
    from tests.service.test_indicators import HEADER, _xlsx
    from tests.service.util import sign_in

    school(db, "s1", "m1")
    school(db, "s2", "m1")
    sign_in(client, db, token(db, "coordinator", None, municipality="m1"))
    back_to = f"/ui/municipalities/m1/indicators?year={YEAR}"
    bad = _xlsx([HEADER, ["s1", "2024/25", 10, 20, 1, 1], ["s7", 2024, 10, 5, 1, 1]])
    refused = client.post("/ui/denominators/import", data={"return_to": back_to},
                          files={"file": ("d.xlsx", bad)})  # fmt: skip
    assert refused.status_code == 422
    assert "обучающихся 15–19 лет (20) больше" in refused.text
    assert "школа «s7» не найдена или вам не видна" in refused.text
    good = _xlsx([HEADER, ["s1", "2024/25", 20, 8, 4, 5], ["s2", 2024, 10, 5, 1, 1]])
    stored = client.post("/ui/denominators/import", data={"return_to": back_to},
                         files={"file": ("d.xlsx", good)})  # fmt: skip
    assert stored.status_code == 303
    assert stored.headers["location"] == back_to
    page = client.get(back_to).text
    assert "Файл принят: сохранено строк — 2." in page
    admin = auth(token(db, "admin", None))
    totals = client.get(f"/api/v1/municipalities/m1/indicators?year={YEAR}", headers=admin).json()
    assert totals["denominators"] == {
        "pupils_10_19": 30,
        "pupils_15_19": 13,
        "young_teachers": 5,
        "enterprises": 6,
    }
    # the order appointing the curator, from the page, fills the base of curators
    sign_in(client, db, token(db, "curator", "s2"))
    order = client.post("/ui/orgs/s2/orders/curator", data={"number": "7-о", "date": "2024-09-02",
                        "basis": "Положением о наставничестве", "curator_name": "Белова Нина",
                        "curator_post": "заместитель директора"})  # fmt: skip
    assert order.status_code == 200, order.text
    assert order.headers["content-type"].startswith("application/vnd.openxmlformats")
    downloaded = client.get(f"/ui/orgs/s2/bases/curators?year={YEAR}")
    assert _sheets(downloaded.content)["База"][2][3:6] == [
        "Белова Нина",
        "заместитель директора",
        "№ 7-о от 02.09.2024",
    ]
