"""A virtual pair across two schools, seen from both: each curator for their own person.

The mentor's school opens the pair, records its mentor's feedback and may end the pair; only the
mentee's school chooses a new mentor; each school sees of the other's person the name, not their
own words; a third school sees nothing. API and pages, on both database engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import Feedback, Pair
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token


@dataclass
class Virtual:
    client: TestClient
    db: Database
    pair: int
    mentee: int
    mentor: int
    tokens: dict[str, str]  # curators of s1 (mentee), s2 (mentor), s3 (neither)

    def api(self, code: str) -> dict[str, str]:
        return auth(self.tokens[code])

    def as_curator(self, code: str) -> None:
        sign_in(self.client, self.db, self.tokens[code])


@pytest.fixture
def virtual(db: Database) -> Iterator[Virtual]:
    for code in ("s1", "s2", "s3"):
        school(db, code, "m1")
    mentee = person(db, org_id(db, "s1"), "mentee", "olga@s1.ru", name="Белова Ольга Николаевна")
    mentor = person(db, org_id(db, "s2"), "mentor", "igor@s2.ru", name="Смирнов Игорь Павлович")
    tokens = {code: token(db, "curator", code) for code in ("s1", "s2", "s3")}
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        confirmed = client.post(
            f"/api/v1/proposals/{proposal(db, org_id(db, 's1'), mentee, mentor)}/confirm",
            headers=auth(tokens["s1"]),
        )
        assert confirmed.status_code == 201
        yield Virtual(client, db, confirmed.json()["pair_id"], mentee, mentor, tokens)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _feedback(v: Virtual, code: str, author: str, comment: str) -> int:
    response = v.client.post(
        f"/api/v1/pairs/{v.pair}/feedback",
        json={"author": author, "score": 8, "comment": comment},
        headers=v.api(code),
    )
    return response.status_code


def test_both_schools_open_the_pair_and_a_third_does_not(virtual: Virtual) -> None:
    v = virtual
    for code in ("s1", "s2"):
        pair = v.client.get(f"/api/v1/pairs/{v.pair}", headers=v.api(code)).json()
        assert (pair["org"], pair["mentor_org"], pair["status"]) == ("s1", "s2", "active")
        listed = v.client.get(f"/api/v1/orgs/{code}/pairs", headers=v.api(code)).json()
        assert [p["pair_id"] for p in listed] == [v.pair]
    for method, url, body in (
        ("get", f"/api/v1/pairs/{v.pair}", None),
        ("get", f"/api/v1/pairs/{v.pair}/feedback", None),
        ("post", f"/api/v1/pairs/{v.pair}/feedback", {"author": "mentor", "score": 5}),
        ("post", f"/api/v1/pairs/{v.pair}/end", {"reason": "other"}),
        ("post", f"/api/v1/pairs/{v.pair}/replace-mentor", {"mentor_id": 1, "reason": "other"}),
    ):
        response = v.client.request(method, url, json=body, headers=v.api("s3"))
        assert response.status_code == 404, url
    v.as_curator("s3")
    for url in (f"/ui/pairs/{v.pair}/feedback", f"/ui/pairs/{v.pair}/replace"):
        response = v.client.get(url)
        assert response.status_code == 404
        assert "Белова" not in response.text


def test_each_school_records_its_own_persons_feedback_and_sees_only_the_others_scores(
    virtual: Virtual,
) -> None:
    v = virtual
    assert _feedback(v, "s2", "mentor", "Встречи раз в неделю, всё по плану") == 201
    assert _feedback(v, "s1", "mentee", "Стесняюсь спрашивать при всех") == 201
    assert _feedback(v, "s2", "mentee", "за другую школу") == 403
    assert _feedback(v, "s1", "mentor", "за другую школу") == 403
    with v.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 2

    seen = v.client.get(f"/api/v1/pairs/{v.pair}/feedback", headers=v.api("s2")).json()
    assert [(r["author"], r["score"], r["comment"], r["withheld"]) for r in seen] == [
        ("mentor", 8, "Встречи раз в неделю, всё по плану", False),
        ("mentee", 8, None, True),
    ]
    seen = v.client.get(f"/api/v1/pairs/{v.pair}/feedback", headers=v.api("s1")).json()
    assert [(r["author"], r["comment"]) for r in seen] == [
        ("mentor", None), ("mentee", "Стесняюсь спрашивать при всех")
    ]  # fmt: skip
    coordinator = auth(token(v.db, "coordinator", None, municipality="m1"))
    seen = v.client.get(f"/api/v1/pairs/{v.pair}/feedback", headers=coordinator).json()
    assert not any(r["withheld"] for r in seen)  # sees both schools

    v.as_curator("s2")
    page = v.client.get(f"/ui/pairs/{v.pair}/feedback")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Наставляемый: Белова Ольга Николаевна (Школа s1)" in text
    assert "Смирнов Игорь Павлович (Школа s2, дистанционно)" in text
    assert "Стесняюсь" not in text
    assert "olga@s1.ru" not in text  # the other school's person: the name only
    assert "текст ответа виден куратору школы участника" in text
    authors = re.findall(r'<option value="(mentor|mentee)"', page.text)
    assert set(authors) == {"mentor"}
    response = v.client.post(
        f"/ui/pairs/{v.pair}/feedback", data={"kind": "feedback", "author": "mentor", "score": "9"}
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/ui/pairs/{v.pair}/feedback",
    )
    assert re.search(r'href="/ui/orgs/s2/pairs"', v.client.get(f"/ui/pairs/{v.pair}/feedback").text)


def test_only_the_mentees_school_replaces_the_mentor_and_either_may_end_the_pair(
    virtual: Virtual,
) -> None:
    v = virtual
    other = person(v.db, org_id(v.db, "s2"), "mentor", "anna@s2.ru")
    response = v.client.post(
        f"/api/v1/pairs/{v.pair}/replace-mentor",
        json={"mentor_id": other, "reason": "mentor_request"},
        headers=v.api("s2"),
    )
    assert response.status_code == 403
    assert "куратор школы наставляемого" in response.json()["detail"]

    v.as_curator("s2")
    page = _text(v.client.get(f"/ui/pairs/{v.pair}/replace").text)
    assert "Нового наставника наставляемому подбирает куратор его школы (Школа s1)" in page
    assert "Заменить наставника" not in page.split("Нового наставника")[1]
    pairs = v.client.get("/ui/orgs/s2/pairs").text
    assert f'href="/ui/pairs/{v.pair}/replace"' not in pairs
    assert "наставника заменяет школа наставляемого" in _text(pairs)
    assert "Белова Ольга Николаевна Школа s1" in _text(pairs)
    forged = v.client.post(
        f"/ui/pairs/{v.pair}/replace", data={"reason": "transfer", "mentor_id": str(other)}
    )
    assert forged.status_code == 403
    with v.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Pair)) == 1

    ended = v.client.post(f"/ui/pairs/{v.pair}/end", data={"reason": "transfer", "org": "s2"})
    assert (ended.status_code, ended.headers["location"]) == (303, "/ui/orgs/s2/pairs")
    with v.db.read() as session:
        pair = session.get_one(Pair, v.pair)
        assert (pair.status, pair.end_reason) == ("ended", "transfer")
    waiting = v.client.get("/api/v1/orgs/s1/waiting", headers=v.api("s1")).json()
    assert [w["mentee_id"] for w in waiting] == [v.mentee]  # the mentee's school takes it up
