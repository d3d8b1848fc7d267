"""The curators' forms over real HTTP: bad input gets a Russian answer and nothing is half written.

The browser walk-through is in test_pages.py; these tests post the forms directly, as a browser
would, with the login cookie, on both database engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import AuditEvent, Feedback, Pair, Person, Proposal
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token

DATA = Path(__file__).with_name("data")


@dataclass
class Browser:
    """A client that sends the login cookie of one user, as the pages do."""

    client: TestClient
    db: Database

    def login(self, value: str) -> None:
        sign_in(self.client, self.db, value)


@pytest.fixture
def web(db: Database) -> Iterator[Browser]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        browser = Browser(client, db)
        browser.login(token(db, "curator", "s1"))
        yield browser


def _count(db: Database, what: object, *where: object) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(what)  # type: ignore[arg-type]
        return int(session.scalar(query.where(*where)) or 0)  # type: ignore[arg-type]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _pair(web: Browser, mentor_capacity: int = 2) -> tuple[int, int]:
    """An active pair of s1 made through the API; returns (pair id, mentee id)."""
    org = org_id(web.db, "s1")
    mentee = person(web.db, org, "mentee", "e1", name="Сидоров Олег Петрович")
    mentor = person(web.db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2)
    admin = auth(token(web.db, "admin", None))
    url = f"/api/v1/proposals/{proposal(web.db, org, mentee, mentor)}/confirm"
    return web.client.post(url, headers=admin).json()["pair_id"], mentee


def test_a_half_filled_questionnaire_is_refused_whole(web: Browser) -> None:
    pair_id, _ = _pair(web)
    events = _count(web.db, AuditEvent)
    answer = {"kind": "satisfaction", "author": "mentee", "effectiveness": "9", "comfort": "11",
              "usefulness": "восемь", "clarity": "8", "support": "10", "valuable": "Разбор уроков"}  # fmt: skip
    response = web.client.post(f"/ui/pairs/{pair_id}/feedback", data=answer)
    assert response.status_code == 422
    page = _text(response.text)
    assert "Ответ не сохранён" in page
    assert (
        "Насколько комфортным было общение с наставником (наставляемым): нужно целое число от 1 до 10 (введено: «11»)"
        in page
    )
    assert (
        "Насколько полезными были встречи: нужно целое число от 1 до 10 (введено: «восемь»)" in page
    )
    assert "Насколько вы довольны совместной работой: поле не заполнено" in page
    assert "Хотели бы вы продолжить работу в паре: выберите одно из" in page
    assert "Разбор уроков" in page  # what was typed is kept in the form
    assert (_count(web.db, Feedback), _count(web.db, AuditEvent)) == (0, events)

    answer |= {"comfort": "9", "usefulness": "8", "joint_work": "9", "would_continue": "yes"}
    response = web.client.post(f"/ui/pairs/{pair_id}/feedback", data=answer)
    assert response.status_code == 303
    with web.db.read() as session:
        [stored] = session.scalars(select(Feedback)).all()
        assert (stored.kind, stored.author, stored.score) == ("satisfaction", "mentee", 9)
        assert stored.answers["would_continue"] is True
        assert stored.answers["valuable"] == "Разбор уроков"
    page = _text(web.client.get(f"/ui/pairs/{pair_id}/feedback").text)
    assert "Ответ сохранён: анкета удовлетворённости (наставляемый)" in page


def test_monthly_feedback_needs_a_score_or_a_comment(web: Browser) -> None:
    pair_id, _ = _pair(web)
    empty = web.client.post(
        f"/ui/pairs/{pair_id}/feedback", data={"kind": "feedback", "author": "mentor"}
    )
    assert empty.status_code == 422
    assert "поставьте оценку от 1 до 10 или напишите комментарий" in _text(empty.text)
    assert _count(web.db, Feedback) == 0
    given = web.client.post(
        f"/ui/pairs/{pair_id}/feedback",
        data={"kind": "feedback", "author": "mentor", "comment": "Встречались дважды"},
    )
    assert given.status_code == 303
    assert _count(web.db, Feedback) == 1


def _imported(web: Browser, code: str = "s1") -> dict[str, int]:
    """Import the sample questionnaires into school ``code``; return person ids by e-mail name."""
    headers = auth(token(web.db, "admin", None))
    for side in ("mentors", "mentees"):
        files = {"file": (f"{side}.csv", (DATA / f"{side}.csv").read_bytes())}
        url = f"/api/v1/orgs/{code}/imports/{side}"
        assert web.client.post(url, files=files, headers=headers).status_code == 201
    people = web.client.get(f"/api/v1/orgs/{code}/people", headers=headers).json()
    return {p["external_id"].split("@")[0]: p["id"] for p in people}


def test_replacing_without_a_reason_or_with_a_foreign_mentor_changes_nothing(
    web: Browser,
) -> None:
    ids = _imported(web)
    chosen = {"mentee_id": str(ids["ivanova"]), "mentor_id": str(ids["petrova"])}
    assert web.client.post("/ui/orgs/s1/proposals", data=chosen).status_code == 303
    with web.db.read() as session:
        proposal_id = session.scalars(select(Proposal.id)).one()
    web.client.post(f"/ui/proposals/{proposal_id}/confirm", data={"org": "s1"})
    with web.db.read() as session:
        pair_id = session.scalars(select(Pair.id)).one()
    form = _text(web.client.get(f"/ui/pairs/{pair_id}/replace").text)
    assert "Смирнов Игорь Павлович" in form  # suggested instead of the current mentor
    school(web.db, "s2", "m1")
    foreign = _imported(web, "s2")["smirnov"]
    response = web.client.post(f"/ui/pairs/{pair_id}/replace", data={"mentor_id": str(foreign)})
    assert response.status_code == 422
    assert "Причина замены: выберите одно из" in _text(response.text)
    response = web.client.post(
        f"/ui/pairs/{pair_id}/replace", data={"mentor_id": str(foreign), "reason": "transfer"}
    )
    assert response.status_code == 404
    assert f"Наставник № {foreign} не найден" in _text(response.text)
    assert _count(web.db, Pair) == 1
    assert _count(web.db, Pair, Pair.status == "active") == 1
    response = web.client.post(
        f"/ui/pairs/{pair_id}/replace",
        data={"mentor_id": str(ids["smirnov"]), "reason": "mentor_request"},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/ui/orgs/s1/pairs")
    with web.db.read() as session:
        old, new = session.scalars(select(Pair).order_by(Pair.id)).all()
    assert (old.status, old.end_reason, new.previous_pair_id) == ("ended", "mentor_request", old.id)
    assert (new.mentor_id, new.status) == (ids["smirnov"], "active")


def test_ending_a_pair_needs_one_of_the_reasons(web: Browser) -> None:
    pair_id, _ = _pair(web)
    response = web.client.post(f"/ui/pairs/{pair_id}/end", data={"reason": ""})
    assert (response.status_code, response.headers["location"]) == (303, "/ui/orgs/s1/pairs")
    page = web.client.get("/ui/orgs/s1/pairs")
    assert "Выберите причину, по которой пара закрывается" in _text(page.text)
    assert _count(web.db, Pair, Pair.status == "active") == 1
    response = web.client.post(f"/ui/pairs/{pair_id}/end", data={"reason": "completed"})
    assert response.status_code == 303
    assert _count(web.db, Pair, Pair.status == "completed") == 1


def test_proposing_from_the_suggestions_twice_makes_one_proposal(web: Browser) -> None:
    ids = _imported(web)
    page = _text(web.client.get(f"/ui/orgs/s1/mentees/{ids['ivanova']}").text)
    assert page.index("Петрова Анна Ивановна") < page.index("Смирнов Игорь Павлович")
    chosen = {"mentee_id": str(ids["ivanova"]), "mentor_id": str(ids["petrova"])}
    for _ in range(2):
        response = web.client.post("/ui/orgs/s1/proposals", data=chosen)
        assert (response.status_code, response.headers["location"]) == (303, "/ui/orgs/s1")
    assert _count(web.db, Proposal) == 1
    refused = _text(web.client.get(f"/ui/orgs/s1/mentees/{ids['frolov']}").text)
    assert "Нет записанного согласия наставляемого" in refused


def test_the_order_form_names_every_problem_and_records_nothing(web: Browser) -> None:
    _pair(web)
    form = web.client.get("/ui/orgs/s1/order")
    assert form.status_code == 200
    assert "Сидоров Олег Петрович" in form.text
    response = web.client.post(
        "/ui/orgs/s1/order", data={"number": "", "date": "31.02.2024", "basis": "Положением"}
    )
    assert response.status_code == 422
    page = _text(response.text)
    assert "Номер приказа: поле не заполнено" in page
    assert "Дата приказа: нужна дата в виде ДД.ММ.ГГГГ (введено: «31.02.2024»)" in page
    assert "Пары: отметьте хотя бы одну пару" in page
    assert _count(web.db, AuditEvent, AuditEvent.action == "order") == 0


def test_another_schools_pages_answer_404_without_names(web: Browser) -> None:
    pair_id, mentee = _pair(web)
    school(web.db, "s2", "m1")
    web.login(token(web.db, "curator", "s2"))
    for url in (f"/ui/orgs/s1/mentees/{mentee}", f"/ui/pairs/{pair_id}/replace",
                f"/ui/pairs/{pair_id}/feedback", "/ui/orgs/s1/report", "/ui/orgs/s1/order",
                f"/ui/orgs/s2/mentees/{mentee}"):  # fmt: skip
        response = web.client.get(url)
        assert response.status_code == 404, url
        assert "Сидоров" not in response.text
    for url, data in ((f"/ui/pairs/{pair_id}/feedback", {"kind": "feedback", "author": "mentee",
                                                         "score": "5"}),
                      (f"/ui/pairs/{pair_id}/replace", {"reason": "transfer", "mentor_id": "1"}),
                      ("/ui/orgs/s1/order", {"number": "1", "date": "2024-09-01", "basis": "x",
                                             "pair": str(pair_id)})):  # fmt: skip
        assert web.client.post(url, data=data).status_code == 404, url
    assert _count(web.db, Feedback) == 0
    assert _count(web.db, Pair) == 1


def test_an_unreadable_address_gets_a_russian_page(web: Browser) -> None:
    response = web.client.get("/ui/pairs/abc/feedback")
    assert response.status_code == 404
    assert "Такой страницы нет" in response.text
    api = web.client.get("/api/v1/pairs/abc", headers=auth(token(web.db, "admin", None)))
    assert api.status_code == 422
    assert api.json()["code"] == "invalid"  # the documented ErrorOut, not FastAPI's own shape
    assert api.json()["errors"][0]["column"] == "pair_id"
    assert api.json()["errors"][0]["value"] == "abc"


def test_a_coordinator_matches_the_municipality_from_its_page(web: Browser) -> None:
    """s1 has mentees who also meet remotely, s2 mentors: the run pairs across the schools."""
    school(web.db, "s2", "m1")
    school(web.db, "s3", "m2")
    mentees = (DATA / "mentees.csv").read_text().replace(";Очно;", ";Очно, Дистанционно;")
    mentors = (DATA / "mentors.csv").read_text().replace(";Очно;", ";Очно, Дистанционно;")
    admin = auth(token(web.db, "admin", None))
    for code, side, content in (("s1", "mentees", mentees), ("s2", "mentors", mentors)):
        files = {"file": (f"{side}.csv", content.encode())}
        url = f"/api/v1/orgs/{code}/imports/{side}"
        assert web.client.post(url, files=files, headers=admin).status_code == 201
    assert web.client.get("/ui/municipalities/m1").status_code == 403  # a curator
    web.login(token(web.db, "coordinator", None, municipality="m1"))
    assert web.client.get("/ui/municipalities/m2").status_code == 404
    page = web.client.get("/ui/municipalities/m1")
    assert page.status_code == 200
    assert "Школа s1" in page.text
    assert "Школа s2" in page.text
    assert "Школа s3" not in page.text
    response = web.client.post("/ui/municipalities/m1/run", data={"objective": "coverage"})
    assert (response.status_code, response.headers["location"]) == (303, "/ui/municipalities/m1")
    page = _text(web.client.get("/ui/municipalities/m1").text)
    assert ("Подбор по муниципалитету выполнен: предложено пар — 3, без пары осталось — 0, "
            "без записанного согласия (в подбор не попали) — 1, действующих пар сохранено — 0."
            ) in page  # fmt: skip
    assert re.search(r"Школа s1 0 3 0 3 3", page)  # 3 proposals, all with a mentor of s2
    with web.db.read() as session:
        [run] = session.scalars(select(AuditEvent).where(AuditEvent.action == "run")).all()
        assert run.detail["municipality"] == "m1"
    # one more mentee withdraws consent: the next run counts both
    with web.db.write() as session:
        withdrawn = session.scalars(
            select(Person).where(Person.side == "mentee").order_by(Person.id)
        ).first()
        assert withdrawn is not None
        withdrawn.consent = False
    again = web.client.post("/ui/municipalities/m1/run", data={"objective": "coverage"})
    assert again.status_code == 303, again.text
    page = _text(web.client.get("/ui/municipalities/m1").text)
    assert ("Подбор по муниципалитету выполнен: предложено пар — 2, без пары осталось — 0, "
            "без записанного согласия (в подбор не попали) — 2") in page  # fmt: skip
