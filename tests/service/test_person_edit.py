"""A curator corrects a person's answers (API and page), a coordinator's municipality report,
the form of mentoring shown from a person's role, and a school's feedback one page at a time,
over real HTTP on both engines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.core.db import Database
from service.core.models import Answers, AuditEvent, Feedback, Pair, Person, Proposal
from tests.service.util import auth, org_id, proposal, school, settings_for, sign_in, token

DATA = Path(__file__).with_name("data")


@dataclass
class Web:
    client: TestClient
    db: Database
    admin: dict[str, str]
    curator: dict[str, str]
    ids: dict[str, int]


def _import(client: TestClient, headers: dict[str, str], org: str) -> dict[str, int]:
    for side in ("mentors", "mentees"):
        files = {"file": (f"{side}.csv", (DATA / f"{side}.csv").read_bytes())}
        answer = client.post(f"/api/v1/orgs/{org}/imports/{side}", files=files, headers=headers)
        assert answer.status_code == 201, answer.text
    people = client.get(f"/api/v1/orgs/{org}/people", headers=headers).json()
    return {p["external_id"].split("@")[0]: p["id"] for p in people}


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    school(db, "s1", "Армавир")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        admin = auth(token(db, "admin", None))
        curator = auth(token(db, "curator", "s1"))
        yield Web(client, db, admin, curator, _import(client, admin, "s1"))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_correction_is_a_new_version_validated_audited_and_never_lost(web: Web) -> None:
    kozlov = web.ids["kozlov"]
    url = f"/api/v1/orgs/s1/people/{kozlov}/answers"
    opened = web.client.get(url, headers=web.curator)
    assert opened.status_code == 200
    assert opened.headers["etag"] == '"1"'
    view = opened.json()
    assert view["answers"]["full_name"] == "Козлов Денис Олегович"
    keys = [q["key"] for q in view["questions"]]
    assert "consent" not in keys  # consents have their own page
    assert {"full_name", "person_id", "status", "subjects", "meeting_format"} <= set(keys)

    # Every mistake is named by its question; nothing is stored.
    bad = {"version": 1, "answers": {"full_name": None, "experience": "много", "status": "сторож"}}
    refused = web.client.patch(url, json=bad, headers=web.curator)
    assert refused.status_code == 422
    columns = {e["column"] for e in refused.json()["errors"]}
    assert {"ФИО", "Педагогический стаж (лет)", "Кто вы в программе наставничества?"} <= columns
    assert "Анкета не изменена: проблем — 3" in refused.json()["detail"]
    with web.db.read() as session:
        assert session.get_one(Person, kozlov).version == 1
    assert not _events(web.db, "edit")

    open_one = proposal(web.db, org_id(web.db, "s1"), kozlov, web.ids["petrova"])
    # Two curators open version 1; the first correction is stored, the second is refused.
    first = {"version": 1, "answers": {"full_name": "Козлов Денис Олегович-мл.",
                                       "status": "student", "meeting_format": ["remote"]}}  # fmt: skip
    stored = web.client.patch(url, json=first, headers=web.curator)
    assert stored.status_code == 200, stored.text
    assert stored.headers["etag"] == '"2"'
    assert stored.json()["person"]["name"] == "Козлов Денис Олегович-мл."
    second = web.client.patch(
        url,
        json={"answers": {"subjects": ["physics"]}},
        headers=web.admin | {"If-Match": '"1"'},
    )
    assert second.status_code == 409
    assert second.json()["code"] == "edited_meanwhile"
    assert (
        "Анкету Козлов Денис Олегович-мл. уже изменил другой пользователь"
        in (second.json()["detail"])
    )
    with web.db.read() as session:
        person = session.get_one(Person, kozlov)
        assert (person.version, person.name) == (2, "Козлов Денис Олегович-мл.")
        versions = session.scalars(
            select(Answers.records).where(Answers.person_id == kozlov).order_by(Answers.version)
        ).all()
    assert [v["status"] for v in versions] == ["young", "student"]  # the first version is kept
    assert versions[1]["subjects"] == versions[0]["subjects"] == ["math"]
    (event,) = _events(web.db, "edit")
    assert event.detail["questions"] == ["full_name", "meeting_format", "status"]
    # The proposal was scored on the answers before: superseded, with the reason.
    assert event.detail["superseded"] == 1
    with web.db.read() as session:
        stale = session.get_one(Proposal, open_one)
        assert (stale.status, stale.status_reason) == ("superseded", "answers_changed")
    # Without a version the correction is refused, naming what is missing.
    missing = web.client.patch(url, json={"answers": {"experience": 2}}, headers=web.curator)
    assert missing.status_code == 422
    assert "If-Match" in missing.json()["detail"]
    # The role decides the form of mentoring shown: a student on practice is not «педагог – педагог».
    listed = web.client.get(
        "/api/v1/orgs/s1/people/paged", params={"q": "Козлов"}, headers=web.curator
    ).json()
    assert listed["items"][0]["forms"] == ["employer_student"]


def test_the_identifying_answer_of_another_person_is_refused(web: Web) -> None:
    url = f"/api/v1/orgs/s1/people/{web.ids['kozlov']}/answers"
    taken = {"version": 1, "answers": {"person_id": "ivanova@school.ru"}}
    answer = web.client.patch(url, json=taken, headers=web.curator)
    assert answer.status_code == 409
    assert (
        "«ivanova@school.ru» уже указан в анкете другого участника школы"
        in (answer.json()["detail"])
    )
    assert "(Иванова Ирина Андреевна)" in answer.json()["detail"]
    moved = {"version": 1, "answers": {"person_id": "kozlov.d@school.ru"}}
    assert web.client.patch(url, json=moved, headers=web.curator).status_code == 200
    with web.db.read() as session:
        assert session.get_one(Person, web.ids["kozlov"]).external_id == "kozlov.d@school.ru"


def test_another_schools_curator_cannot_read_or_correct(web: Web) -> None:
    school(web.db, "s2", "Армавир")
    other = auth(token(web.db, "curator", "s2"))
    url = f"/api/v1/orgs/s1/people/{web.ids['kozlov']}/answers"
    assert web.client.get(url, headers=other).status_code == 404
    body = {"version": 1, "answers": {"full_name": "Чужой"}}
    assert web.client.patch(url, json=body, headers=other).status_code == 404
    assert (
        web.client.patch(
            f"/api/v1/orgs/s2/people/{web.ids['kozlov']}/answers", json=body, headers=other
        ).status_code
        == 404
    )
    coordinator = auth(token(web.db, "coordinator", None, municipality="Армавир"))
    assert web.client.get(url, headers=coordinator).status_code == 200


def test_the_page_shows_every_mistake_and_refuses_a_stale_form(web: Web) -> None:
    sign_in(web.client, web.db, token(web.db, "curator", "s1"))
    smirnov = web.ids["smirnov"]
    url = f"/ui/orgs/s1/people/{smirnov}/edit"
    page = web.client.get(url)
    assert page.status_code == 200
    assert 'name="version" value="1"' in page.text
    assert 'value="Смирнов Игорь Павлович"' in page.text
    form = {"version": "1", "q.person_id": "smirnov@school.ru", "q.full_name": "",
            "q.position": "teacher", "q.experience": "200", "q.competences": "methods",
            "q.meeting_format": "in_person", "q.capacity": "1", "q.subjects": "math"}  # fmt: skip
    refused = web.client.post(url, data=form)
    assert refused.status_code == 422
    text = _text(refused.text)
    assert "Анкета не изменена. Исправьте:" in text
    assert "ФИО:" in text
    assert "Педагогический стаж (лет):" in text
    fixed = form | {"q.full_name": "Смирнов Игорь Павлович", "q.meeting_format": "remote"}
    done = web.client.post(url, data=fixed | {"q.experience": "16"})
    assert done.status_code == 303, re.findall(r"<li>.*?</li>", done.text)
    listed = _text(web.client.get(done.headers["location"]).text)
    assert "Анкета исправлена: Смирнов Игорь Павлович (версия 2)" in listed
    stale = web.client.post(url, data=fixed | {"q.experience": "17"})  # the form of version 1
    assert stale.status_code == 409
    assert "уже изменил другой пользователь" in _text(stale.text)
    assert 'name="version" value="2"' in stale.text  # shown again as now stored
    with web.db.read() as session:
        assert session.get_one(Person, smirnov).version == 2


def test_a_coordinator_sees_each_school_and_the_municipality_summed(web: Web) -> None:
    school(web.db, "s2", "Армавир")
    school(web.db, "s3", "Другой город")
    s2 = _import(web.client, web.admin, "s2")
    headers = web.admin
    for org, ids in (("s1", web.ids), ("s2", s2)):
        made = web.client.post(
            f"/api/v1/orgs/{org}/proposals",
            json={"mentee_id": ids["ivanova"], "mentor_id": ids["petrova"]},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        pair = web.client.post(
            f"/api/v1/proposals/{made.json()['proposal_id']}/confirm", headers=headers
        )
        assert pair.status_code == 201, pair.text
    with web.db.write() as session:
        pair_id = session.scalars(select(Pair.id).where(Pair.org_id == org_id(web.db, "s1"))).one()
        session.add(Feedback(pair_id=pair_id, author="mentee", kind="satisfaction", score=9))
    coordinator = auth(token(web.db, "coordinator", None, municipality="Армавир"))
    report = web.client.get("/api/v1/municipalities/Армавир/report", headers=coordinator)
    assert report.status_code == 200, report.text
    found = report.json()
    assert [s["code"] for s in found["schools"]] == ["s1", "s2"]
    one = web.client.get("/api/v1/orgs/s1/report", headers=headers).json()
    s1 = found["schools"][0]
    assert s1["coverage"] == one["coverage"]
    assert s1["waiting"] == one["waiting"]
    assert s1["satisfaction"] == one["satisfaction"]
    total = found["total"]
    for key in ("mentees", "mentees_with_consent", "mentees_with_pair"):
        assert total["coverage"][key] == sum(s["coverage"][key] for s in found["schools"])
    assert total["coverage"]["mentees_with_pair"] == 2
    assert total["waiting"]["over_30_days"] == sum(
        s["waiting"]["over_30_days"] for s in found["schools"]
    )
    assert total["mentor_load"]["active_pairs"] == 2
    assert total["satisfaction"]["mentees"]["responses"] == 1
    assert total["satisfaction"]["mentees"]["percent"] == 90.0
    curator = web.client.get("/api/v1/municipalities/Армавир/report", headers=web.curator)
    assert curator.status_code in (403, 404)

    sign_in(web.client, web.db, token(web.db, "coordinator", None, municipality="Армавир"))
    page = web.client.get("/ui/municipalities/Армавир")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Всего: Армавир" in text
    assert re.search(r"Всего: Армавир \S+ % 2 из \d+", text)
    assert 'href="/ui/orgs/s1/report"' in page.text
    searched = web.client.get("/ui/municipalities/Армавир", params={"q": "s2"})
    rows = re.findall(r'<tr data-org="(s\d)"', searched.text)
    assert set(rows) == {"s2"}


def test_the_feedback_of_a_school_pages_filters_and_searches(web: Web) -> None:
    ids = web.ids
    pairs = []
    for mentee, mentor in (("ivanova", "petrova"), ("kozlov", "smirnov")):
        made = web.client.post(
            "/api/v1/orgs/s1/proposals",
            json={"mentee_id": ids[mentee], "mentor_id": ids[mentor]},
            headers=web.admin,
        )
        confirmed = web.client.post(
            f"/api/v1/proposals/{made.json()['proposal_id']}/confirm", headers=web.admin
        )
        pairs.append(confirmed.json()["pair_id"])
    for k in range(7):
        for pair in pairs:
            body = {"author": "mentee" if k % 2 else "mentor", "score": 1 + k, "comment": f"№{k}"}
            answer = web.client.post(f"/api/v1/pairs/{pair}/feedback", json=body, headers=web.admin)
            assert answer.status_code == 201, answer.text
    url = "/api/v1/orgs/s1/feedback/paged"
    first = web.client.get(url, params={"per_page": 5}, headers=web.curator).json()
    assert (first["total"], first["pages"], len(first["items"])) == (14, 3, 5)
    assert first["items"][0]["comment"] == "№6"  # newest first
    assert {"mentee_name", "mentor_name"} <= set(first["items"][0])
    third = web.client.get(url, params={"per_page": 5, "page": 3}, headers=web.curator).json()
    assert len(third["items"]) == 4
    found = web.client.get(
        url, params={"q": "Козлов", "author": "mentee", "sort": "score"}, headers=web.curator
    ).json()
    assert found["total"] == 3
    assert [i["score"] for i in found["items"]] == [2, 4, 6]
    assert {i["mentee_name"] for i in found["items"]} == {"Козлов Денис Олегович"}
    bad = web.client.get(url, params={"sort": "цвет"}, headers=web.curator)
    assert bad.status_code == 422
    assert "Неизвестный порядок сортировки «цвет»" in bad.json()["detail"]
    school(web.db, "s2", "Армавир")
    other = auth(token(web.db, "curator", "s2"))
    assert web.client.get(url, headers=other).status_code == 404

    sign_in(web.client, web.db, token(web.db, "curator", "s1"))
    page = web.client.get("/ui/orgs/s1/feedback", params={"q": "Иванова", "per_page": 3})
    assert page.status_code == 200
    text = _text(page.text)
    assert "Найдено: 7 · страница 1 из 3" in text
    assert len(re.findall(r'<tr data-feedback="\d+"', page.text)) == 3
    assert "Иванова Ирина Андреевна — Петрова Анна Ивановна" in text
    following = re.search(r'href="(/ui/orgs/s1/feedback\?[^"]*page=2[^"]*)"', page.text)
    assert following is not None
    assert "q=%D0%98" in following.group(1)  # the next page keeps the search


def test_two_curators_correcting_at_once_store_exactly_one(live_db: Database) -> None:
    """Curators send corrections made from one version together to a live server: exactly one is
    stored, the others are refused with 409 and their changes are not half-applied."""
    import threading

    import httpx

    from tests.service.util import live_server

    school(live_db, "s1", "Армавир")
    tokens = [token(live_db, "curator", "s1") for _ in range(4)]
    with TestClient(create_app(settings_for(live_db), live_db)) as client:
        ids = _import(client, auth(tokens[0]), "s1")
    url = f"/api/v1/orgs/s1/people/{ids['kozlov']}/answers"
    barrier = threading.Barrier(len(tokens))
    answers: list[httpx.Response | None] = [None] * len(tokens)
    with live_server(live_db) as base:

        def correct(k: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                barrier.wait()
                answers[k] = http.patch(
                    url,
                    json={"version": 1, "answers": {"experience": 10 + k, "interests": f"№{k}"}},
                    headers=auth(tokens[k]),
                )

        threads = [threading.Thread(target=correct, args=(k,)) for k in range(len(tokens))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    codes = sorted(a.status_code for a in answers if a is not None)
    assert codes == [200, 409, 409, 409], [a.text for a in answers if a is not None]
    winner = next(k for k, a in enumerate(answers) if a is not None and a.status_code == 200)
    with live_db.read() as session:
        person = session.get_one(Person, ids["kozlov"])
        current = session.scalars(
            select(Answers.records).where(
                Answers.person_id == person.id, Answers.version == person.version
            )
        ).one()
    assert person.version == 2
    assert (current["experience"], current["interests"]) == (10 + winner, f"№{winner}")
    assert len(_events(live_db, "edit")) == 1
