"""The pages of a school's people over real HTTP: consents on paper and a mentor's limit.

Forms are posted as a browser posts them, with the login cookie, on both database engines.
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
from service.core.models import AuditEvent, Consent, Pair, Person
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token

DATA = Path(__file__).with_name("data")


@dataclass
class Web:
    client: TestClient
    db: Database
    admin: dict[str, str]

    def login(self, value: str) -> None:
        sign_in(self.client, self.db, value)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return _text(response.text)

    def pair(self, mentee: int, mentor: int) -> int:
        url = (
            f"/api/v1/proposals/{proposal(self.db, org_id(self.db, 's1'), mentee, mentor)}/confirm"
        )
        response = self.client.post(url, headers=self.admin)
        assert response.status_code == 201, response.text
        return int(response.json()["pair_id"])


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        found = Web(client, db, auth(token(db, "admin", None)))
        found.login(token(db, "curator", "s1"))
        yield found


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _count(db: Database, what: object, *where: object) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(what)  # type: ignore[arg-type]
        return int(session.scalar(query.where(*where)) or 0)  # type: ignore[arg-type]


def _imported(web: Web) -> dict[str, int]:
    for side in ("mentors", "mentees"):
        files = {"file": (f"{side}.csv", (DATA / f"{side}.csv").read_bytes())}
        response = web.client.post(
            f"/api/v1/orgs/s1/imports/{side}", files=files, headers=web.admin
        )
        assert response.status_code == 201
    people = web.client.get("/api/v1/orgs/s1/people", headers=web.admin).json()
    return {p["external_id"].split("@")[0]: p["id"] for p in people}


def test_a_consent_form_with_mistakes_is_refused_whole_and_a_withdrawal_flags_the_pair(
    web: Web,
) -> None:
    org = org_id(web.db, "s1")
    mentor = person(web.db, org, "mentor", "m", name="Петрова Анна Ивановна", capacity=2)
    mentee = person(web.db, org, "mentee", "e", name="Сидоров Олег Петрович")
    waiting = person(web.db, org, "mentee", "w", name="Белова Ольга Николаевна")
    pair = web.pair(mentee, mentor)
    open_one = proposal(web.db, org, waiting, mentor)
    url = f"/ui/orgs/s1/people/{mentor}/consent"
    page = web.page(url)
    assert "Все нужные согласия есть" in page
    assert "согласие родителя" not in page  # a teacher's questionnaire does not ask for one

    before = (_count(web.db, Consent), _count(web.db, AuditEvent))
    bad = {"kind": "parent", "signed_on": "01.01.2099"}
    response = web.client.post(url, data=bad)
    assert response.status_code == 422
    page = _text(response.text)
    assert "Согласие не записано" in page
    assert "Чьё согласие: выберите одно из: «согласие участника" in page
    assert "Согласие: выберите одно из: «дано», «отозвано»" in page
    assert "Дата документа: дата не может быть позже" in page
    assert (_count(web.db, Consent), _count(web.db, AuditEvent)) == before

    withdrawal = {"kind": "participant", "decision": "withdrawn", "signed_on": "14.10.2024"}
    response = web.client.post(url, data=withdrawal)
    assert (response.status_code, response.headers["location"]) == (303, url)
    page = web.page(url)
    assert "отозвано, документ от 14.10.2024" in page
    assert "снято открытых предложений — 1" in page
    assert f"Действующие пары (№ {pair}) сохранены" in page
    assert "в новые предложения пар не попадает" in page
    history = page[page.index("История") :]
    assert "отозвано 14.10.2024 на бумаге, внёс куратор" in history
    assert _count(web.db, Pair, Pair.status == "active") == 1
    pairs = web.page("/ui/orgs/s1/pairs")
    assert "Нет согласия наставника: пара сохранена" in pairs
    school_page = web.page("/ui/orgs/s1")
    assert "Предложений нет" in school_page
    assert str(open_one) not in re.findall(r'data-proposal="(\d+)"', school_page)
    people = web.page("/ui/orgs/s1/people")
    assert re.search(
        r"Петрова Анна Ивановна \S+ · исправить наставник .* педагог – педагог нет", people
    )


def test_a_limit_below_the_load_keeps_the_pairs_and_gives_no_new_places(web: Web) -> None:
    ids = _imported(web)
    orlova = ids["orlova"]  # agreed to three mentees
    first, second = web.pair(ids["ivanova"], orlova), web.pair(ids["kozlov"], orlova)
    url = f"/ui/orgs/s1/mentors/{orlova}/capacity"
    page = web.page(url)
    assert "Предел наставляемых: Орлова Вера Сергеевна" in page
    assert re.search(r"Может вести Сейчас пар Свободных мест 3 нет 3 2 1", page)

    response = web.client.post(url, data={"limit": "1"})
    assert (response.status_code, response.headers["location"]) == (303, url)
    page = web.page(url)
    assert "Предел 1: наставник может вести до 1, сейчас пар — 2" in page
    assert "Действующие пары сохраняются, новых мест нет" in page
    assert "сверх предела" in page
    assert re.search(r"Свободных мест 3 1 1 2 сверх предела: пары сохраняются 0", page)
    assert _count(web.db, Pair, Pair.status == "active", Pair.mentor_id == orlova) == 2
    for pair_id in (first, second):
        assert f'data-pair="{pair_id}"' in web.client.get(url).text
    # No new place: not suggested, not proposed by a run, not confirmable.
    suggestions = web.client.get(
        f"/api/v1/orgs/s1/mentees/{ids['belova']}/suggestions", headers=web.admin
    ).json()
    assert orlova not in {s["mentor_id"] for s in suggestions}
    web.client.post("/ui/orgs/s1/run")
    run = web.client.get("/api/v1/orgs/s1/proposals", headers=web.admin).json()
    assert orlova not in {p["mentor_id"] for p in run}
    refused = web.client.post(
        f"/api/v1/proposals/{proposal(web.db, org_id(web.db, 's1'), ids['belova'], orlova)}/confirm",
        headers=web.admin,
    )
    assert refused.json()["code"] == "mentor_full"

    events = _count(web.db, AuditEvent)
    for bad in ({"limit": "4"}, {"limit": "много"}, {}):
        response = web.client.post(url, data=bad)
        assert response.status_code == 422
        assert "Предел не сохранён" in _text(response.text)
    with web.db.read() as session:
        assert session.get_one(Person, orlova).capacity_limit == 1
    assert _count(web.db, AuditEvent) == events

    web.client.post(url, data={"limit": "none"})
    assert "Предел снят: наставник может вести до 3, сейчас пар — 2. Свободных мест — 1" in (
        web.page(url)
    )


def test_a_limit_above_the_mentors_answer_is_refused(web: Web) -> None:
    ids = _imported(web)
    smirnov = ids["smirnov"]  # agreed to one mentee
    api = f"/api/v1/orgs/s1/mentors/{smirnov}/capacity-limit"
    response = web.client.put(api, json={"capacity_limit": 2}, headers=web.admin)
    assert response.status_code == 422
    assert "больше, чем наставник готов взять по анкете (1)" in response.json()["detail"]
    page = _text(
        web.client.post(f"/ui/orgs/s1/mentors/{smirnov}/capacity", data={"limit": "2"}).text
    )
    assert "Предел наставляемых: выберите одно из" in page
    assert web.client.put(api, json={"capacity_limit": 0}, headers=web.admin).json() == {
        "mentor_id": smirnov, "capacity_limit": 0, "places": 0, "active_pairs": 0
    }  # fmt: skip


def test_another_schools_people_pages_answer_404(web: Web) -> None:
    org = org_id(web.db, "s1")
    mentor = person(web.db, org, "mentor", "m", name="Петрова Анна Ивановна")
    mentee = person(web.db, org, "mentee", "e", name="Сидоров Олег Петрович")
    school(web.db, "s2", "m1")
    web.login(token(web.db, "curator", "s2"))
    for url in ("/ui/orgs/s1/people", f"/ui/orgs/s1/people/{mentee}/consent",
                f"/ui/orgs/s2/people/{mentee}/consent", f"/ui/orgs/s1/mentors/{mentor}/capacity",
                f"/ui/orgs/s2/mentors/{mentor}/capacity"):  # fmt: skip
        response = web.client.get(url)
        assert response.status_code == 404, url
        assert "Петрова" not in response.text
        assert "Сидоров" not in response.text
    consent = {"kind": "participant", "decision": "withdrawn", "signed_on": "01.10.2024"}
    assert web.client.post(f"/ui/orgs/s1/people/{mentee}/consent", data=consent).status_code == 404
    assert (
        web.client.post(f"/ui/orgs/s1/mentors/{mentor}/capacity", data={"limit": "0"}).status_code
        == 404
    )
    web.login(token(web.db, "curator", "s1"))
    assert web.client.get(f"/ui/orgs/s1/mentors/{mentee}/capacity").status_code == 404  # a mentee
    with web.db.read() as session:
        assert session.get_one(Person, mentee).consent is True
        assert session.get_one(Person, mentor).capacity_limit is None
