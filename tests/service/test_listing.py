"""Lists on the server: search among namesakes, filters, sorts and pages that keep each other
(API and pages), bulk confirmation, proposals superseded with the reason, undoing a reject.

Through the real application over HTTP, on both database engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token


@dataclass
class Api:
    client: TestClient
    db: Database
    headers: dict[str, str]
    org: int

    def get(self, url: str, status: int = 200) -> dict:
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        value = token(db, "curator", "s1")
        sign_in(client, db, value)
        yield Api(client, db, auth(value), org_id(db, "s1"))


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _crowd(api: Api, n: int = 120) -> list[int]:
    """``n`` mentees, two of them namesakes «Васильева Анна Андреевна», one «Ёлкина Анна»."""
    ids = [
        person(api.db, api.org, "mentee", "v1", name="Васильева Анна Андреевна"),
        person(api.db, api.org, "mentee", "v2", name="Васильева Анна Андреевна", consent=False),
        person(api.db, api.org, "mentee", "e1", name="Ёлкина Анна Петровна"),
    ]
    ids += [
        person(api.db, api.org, "mentee", f"p{k:03d}", name=f"Смирнов {k:03d}") for k in range(n)
    ]
    return ids


def test_search_finds_namesakes_and_a_filter_tells_them_apart(api: Api) -> None:
    _crowd(api)
    found = api.get("/api/v1/orgs/s1/people/paged?q=васильева+АННА")
    assert found["total"] == 2
    assert {p["external_id"] for p in found["items"]} == {"v1", "v2"}
    one = api.get("/api/v1/orgs/s1/people/paged?q=Васильева&consent=no")
    assert [p["external_id"] for p in one["items"]] == ["v2"]
    # «ё» is found as «е», and the reverse
    assert api.get("/api/v1/orgs/s1/people/paged?q=елкина")["total"] == 1


def test_pages_of_the_api_count_the_whole_filtered_list(api: Api) -> None:
    _crowd(api)
    first = api.get("/api/v1/orgs/s1/people/paged?q=Смирнов&per_page=50")
    assert (first["total"], first["pages"], len(first["items"])) == (120, 3, 50)
    last = api.get("/api/v1/orgs/s1/people/paged?q=Смирнов&per_page=50&page=3&sort=-name")
    assert [p["name"] for p in last["items"]][-1] == "Смирнов 000"
    assert len(last["items"]) == 20
    bad = api.client.get("/api/v1/orgs/s1/people/paged?sort=age", headers=api.headers)
    assert bad.status_code == 422
    assert "по столбцам «Участник», «Дата вступления»" in bad.json()["detail"]
    assert bad.json()["allowed_sorts"] == ["name", "-name", "entered", "-entered"]


def test_the_people_page_keeps_the_search_filter_and_page_in_its_links(api: Api) -> None:
    _crowd(api)
    html = api.client.get("/ui/orgs/s1/people?q=Смирнов&side=mentee&sort=name").text
    text = _text(html)
    assert "Найдено: 120" in text
    assert "страница 1 из 3" in text
    assert (
        'href="/ui/orgs/s1/people?q=%D0%A1%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2&amp;side=mentee&amp;sort=name&amp;page=2"'
        in html
    )
    second = _text(api.client.get("/ui/orgs/s1/people?q=Смирнов&side=mentee&sort=name&page=2").text)
    assert "страница 2 из 3" in second
    assert "Смирнов 050" in second
    assert "Смирнов 049" not in second
    assert "Васильева" not in second
    bad = api.client.get("/ui/orgs/s1/people?page=zero")
    assert bad.status_code == 422
    assert "Страница" in _text(bad.text)


def _school_with_proposals(api: Api) -> dict[str, int]:
    full = person(api.db, api.org, "mentor", "m1", name="Орлова Вера Сергеевна", capacity=1)
    free = person(api.db, api.org, "mentor", "m2", name="Петрова Анна Ивановна", capacity=3)
    a = person(api.db, api.org, "mentee", "a", name="Сидоров Олег Петрович")
    b = person(api.db, api.org, "mentee", "b", name="Кузнецова Мария Олеговна")
    return {
        "a-full": proposal(api.db, api.org, a, full, 0.9),
        "b-full": proposal(api.db, api.org, b, full, 0.8),
        "a-free": proposal(api.db, api.org, a, free, 0.7),
        "b-free": proposal(api.db, api.org, b, free, 0.6),
    }


def test_bulk_confirm_confirms_each_and_says_by_name_why_not(api: Api) -> None:
    ids = _school_with_proposals(api)
    body = {"proposal_ids": [ids["a-full"], ids["b-full"], ids["a-free"], ids["b-free"]]}
    response = api.client.post("/api/v1/proposals/confirm", json=body, headers=api.headers)
    assert response.status_code == 200, response.text
    done = response.json()
    assert [(c["mentee_name"], c["mentor_name"]) for c in done["confirmed"]] == [
        ("Сидоров Олег Петрович", "Орлова Вера Сергеевна"),
        ("Кузнецова Мария Олеговна", "Петрова Анна Ивановна"),
    ]
    refused = {(r["mentee_name"], r["mentor_name"]): r["reason"] for r in done["refused"]}
    assert "свободных мест нет" in refused[("Кузнецова Мария Олеговна", "Орлова Вера Сергеевна")]
    assert (
        "уже есть действующая пара" in refused[("Сидоров Олег Петрович", "Петрова Анна Ивановна")]
    )
    assert not any(re.search(r"\bid\b|№", r) for r in refused.values())
    pairs = api.get("/api/v1/orgs/s1/pairs/paged?status=active")
    assert pairs["total"] == 2


def test_stale_proposals_are_superseded_with_the_reason(api: Api) -> None:
    ids = _school_with_proposals(api)
    assert (
        api.client.post(
            f"/api/v1/proposals/{ids['a-full']}/confirm", headers=api.headers
        ).status_code
        == 201
    )
    left = api.get("/api/v1/orgs/s1/proposals/paged?status=superseded&sort=-score")["items"]
    assert [(p["proposal_id"], p["status_reason"]) for p in left] == [
        (ids["b-full"], "mentor_full"),
        (ids["a-free"], "mentee_paired"),
    ]
    assert api.get("/api/v1/orgs/s1/proposals/paged?status=open")["total"] == 1
    html = _text(api.client.get("/ui/orgs/s1?status=superseded").text)
    assert "снято: у наставника не осталось свободных мест" in html
    refused = api.client.post(f"/api/v1/proposals/{ids['b-full']}/confirm", headers=api.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "mentor_full"
    assert "свободных мест нет: занято 1 из 1" in refused.json()["detail"]


def test_the_school_page_confirms_the_shown_proposals_and_lists_the_result(api: Api) -> None:
    ids = _school_with_proposals(api)
    page = _text(api.client.get("/ui/orgs/s1?q=Кузнецова").text)
    assert "Найдено: 2" in page
    shown = [ids["b-full"], ids["b-free"]]
    response = api.client.post(
        "/ui/orgs/s1/proposals/confirm",
        data={"which": "shown", "shown": [str(i) for i in shown], "back": "/ui/orgs/s1?q=x"},
    )
    assert response.status_code == 200
    text = _text(response.text)
    assert "Подтверждено: 1, не подтверждено: 1." in text
    assert "Кузнецова Мария Олеговна" in text
    assert "уже есть действующая пара с наставником Орлова Вера Сергеевна" in text
    nothing = api.client.post("/ui/orgs/s1/proposals/confirm", data={"which": "selected"})
    assert nothing.status_code == 303


def test_a_reject_is_undone_from_the_page(api: Api) -> None:
    ids = _school_with_proposals(api)
    rejected = ids["a-free"]
    api.client.post(f"/ui/proposals/{rejected}/reject", data={"org": "s1"})
    page = api.client.get("/ui/orgs/s1?status=rejected").text
    assert f'action="/ui/proposals/{rejected}/undo-reject"' in page
    back = api.client.post(f"/ui/proposals/{rejected}/undo-reject", data={"org": "s1"})
    assert back.status_code == 303
    open_now = api.get("/api/v1/orgs/s1/proposals/paged?status=open")["items"]
    assert rejected in [p["proposal_id"] for p in open_now]


def test_waiting_and_pairs_lists_page_and_search(api: Api) -> None:
    _crowd(api, 60)
    waiting = api.get("/api/v1/orgs/s1/waiting/paged?q=анна&sort=name")
    assert [w["name"] for w in waiting["items"]] == [
        "Васильева Анна Андреевна",
        "Ёлкина Анна Петровна",
    ]
    assert api.get("/api/v1/orgs/s1/waiting/paged?per_page=10&page=8")["items"] == []
    assert api.get("/api/v1/orgs/s1/waiting/paged?per_page=10")["total"] == 62
    text = _text(api.client.get("/ui/orgs/s1/waiting?q=Ёлкина").text)
    assert "Найдено: 1" in text
    assert "Ёлкина Анна Петровна" in text
    assert api.get("/api/v1/orgs/s1/pairs/paged")["total"] == 0


def test_a_limit_of_zero_says_no_new_mentees_rather_than_up_to_zero(api: Api) -> None:
    mentor = person(api.db, api.org, "mentor", "m", name="Орлова Вера Сергеевна", capacity=2)
    url = f"/ui/orgs/s1/mentors/{mentor}/capacity"
    assert api.client.post(url, data={"limit": "0"}).status_code == 303
    text = _text(api.client.get(url).text)
    assert "Предел 0: наставник новых наставляемых не берёт, сейчас пар — 0." in text
    assert "до 0" not in text


def test_archive_keeps_the_history_and_removal_is_only_for_a_wrong_import(api: Api) -> None:
    ids = _school_with_proposals(api)
    paired = api.client.post(f"/api/v1/proposals/{ids['a-full']}/confirm", headers=api.headers)
    mentee = paired.json()["mentee_id"]
    refused = api.client.post(f"/api/v1/orgs/s1/people/{mentee}/archive", headers=api.headers)
    assert refused.status_code == 409
    assert "Сидоров Олег Петрович в действующей паре" in refused.json()["detail"]

    waiting = api.get("/api/v1/orgs/s1/waiting/paged")["items"]
    kuznetsova = next(w["mentee_id"] for w in waiting if w["name"].startswith("Кузнецова"))
    response = api.client.post(
        f"/ui/orgs/s1/people/{kuznetsova}/archive", data={"back": "/ui/orgs/s1/people?side=mentee"}
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/ui/orgs/s1/people?side=mentee",
    )
    assert api.get("/api/v1/orgs/s1/waiting/paged")["total"] == 0  # left the programme
    archived = api.get("/api/v1/orgs/s1/people/paged?archived=yes")["items"]
    assert [p["name"] for p in archived] == ["Кузнецова Мария Олеговна"]
    left = api.get("/api/v1/orgs/s1/proposals/paged?status=superseded")["items"]
    reasons = {p["proposal_id"]: p["status_reason"] for p in left}
    assert reasons[ids["b-free"]] == "archived"  # was open
    assert reasons[ids["b-full"]] == "mentor_full"  # superseded before, reason kept
    page = _text(api.client.get("/ui/orgs/s1/people?archived=yes").text)
    assert "в архиве с" in page

    # Removal: never for someone who was in a pair; a wrong import goes whole, audited.
    kept = api.client.delete(f"/api/v1/orgs/s1/people/{mentee}", headers=api.headers)
    assert kept.status_code == 409
    stray = person(api.db, api.org, "mentee", "x", name="Чужая Ученица Другой Школы")
    gone = api.client.delete(f"/api/v1/orgs/s1/people/{stray}", headers=api.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["name"] == "Чужая Ученица Другой Школы"
    assert api.get("/api/v1/orgs/s1/people/paged?q=Чужая")["total"] == 0


def test_the_export_holds_what_the_curator_filtered_and_never_a_formula(api: Api) -> None:
    import io

    from openpyxl import load_workbook

    _crowd(api, 5)
    person(api.db, api.org, "mentee", "evil", name='=HYPERLINK("http://x","Васильева")')
    response = api.client.get("/ui/orgs/s1/export/people.xlsx?q=Васильева&sort=name")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("ФИО", "Кто")
    names = [r[0] for r in rows[1:]]
    assert sorted(names) == sorted(
        [
            "Васильева Анна Андреевна",
            "Васильева Анна Андреевна",
            '=HYPERLINK("http://x","Васильева")',
        ]
    )
    formula = next(c for c in sheet["A"] if str(c.value).startswith("="))
    assert formula.data_type == "s"  # stored as text
    assert sheet.auto_filter.ref
    waiting = api.client.get("/ui/orgs/s1/export/waiting.xlsx?q=Смирнов")
    assert len(list(load_workbook(io.BytesIO(waiting.content)).active.iter_rows())) == 1 + 5
    assert api.client.get("/ui/orgs/s1/export/secrets.xlsx").status_code == 404


def test_waiting_and_proposals_filter_by_class_and_subject(api: Api) -> None:
    """A curator narrows the waiting list by the mentee's class, and the proposals by a subject
    the mentee asks for or the mentor offers; an unknown class is refused naming the filter."""

    def pupil(key: str, grade: str, subjects: list[str]) -> int:
        records = {"grade": grade, "subjects": subjects}
        return person(api.db, api.org, "mentee", key, records=records, spec="pupil")

    seventh = pupil("a7", "g7", ["math"])
    ninth = pupil("b9", "g9", ["biology"])
    pupil("c9", "g9", ["math", "biology"])
    tutor = person(api.db, api.org, "mentor", "t1", records={"subjects": ["geography"]})
    proposal(api.db, api.org, seventh, tutor)
    proposal(api.db, api.org, ninth, tutor)

    nine = api.get("/api/v1/orgs/s1/waiting/paged?grade=9")
    assert {w["name"] for w in nine["items"]} == {"Имя b9", "Имя c9"}
    assert api.get("/api/v1/orgs/s1/waiting/paged?grade=9&subject=math")["total"] == 1
    math = api.get("/api/v1/orgs/s1/proposals/paged?subject=math")
    assert [p["mentee_id"] for p in math["items"]] == [seventh]
    # the mentor offers geography: both proposals have it
    assert api.get("/api/v1/orgs/s1/proposals/paged?subject=geography")["total"] == 2
    assert api.get("/api/v1/orgs/s1/proposals/paged?grade=9")["total"] == 1
    assert api.get("/api/v1/orgs/s1/pairs/paged?grade=9")["total"] == 0
    bad = api.client.get("/api/v1/orgs/s1/waiting/paged?grade=13", headers=api.headers)
    assert bad.status_code == 422
    assert "Класс" in bad.json()["detail"]

    html = _text(api.client.get("/ui/orgs/s1/waiting?grade=9&subject=math").text)
    assert "Имя c9" in html
    assert "Имя b9" not in html
    assert "Имя a7" not in html
