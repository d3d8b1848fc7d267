"""What a new curator reads where the release was walked from outside: every answer of the pages
in Russian (an unknown address, a wrong method), no internal references in the texts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.util import (
    auth,
    org_id,
    person,
    proposal,
    school,
    settings_for,
    sign_in,
    token,
)

TEMPLATES = Path(__file__).parents[2] / "service" / "ui" / "templates"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as found:
        yield found


@pytest.mark.parametrize("signed_in", [True, False])
def test_an_unknown_page_address_answers_a_russian_page(
    client: TestClient, db: Database, signed_in: bool
) -> None:
    if signed_in:
        sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Такой страницы нет" in page.text
    assert "Not Found" not in page.text


def test_a_page_opened_with_the_wrong_method_answers_a_russian_page(
    client: TestClient, db: Database
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1/run")  # the button's address, typed into the address bar
    assert page.status_code == 405
    assert page.headers["content-type"].startswith("text/html")
    assert "Эта страница так не открывается" in page.text
    assert "Method Not Allowed" not in page.text
    assert "POST" in page.headers["allow"]


def test_an_unknown_api_address_answers_the_documented_error_shape(
    client: TestClient, db: Database
) -> None:
    headers = auth(token(db, "curator", "s1"))
    missing = client.get("/api/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert "Такого адреса в API нет" in missing.json()["detail"]
    wrong = client.delete("/api/v1/orgs", headers=headers)
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert "не принимает такой метод" in wrong.json()["detail"]
    assert "GET" in wrong.headers["allow"]


def _visible_text(template: str) -> str:
    """A template's text as a curator reads it: no Jinja, no tags, no styles."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", template, flags=re.S)
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    return re.sub(r"<[^>]*>", " ", text)


def test_pages_cite_the_regulations_by_name_not_by_the_seed_files_number() -> None:
    """docs/rules.md cites the regulations by the number of their copy in the project's seeds
    (`000 §3.7`); a curator reads «п. 3.7 положения», never «000 п. 3.7»."""
    cited = {
        path.relative_to(TEMPLATES).as_posix(): found
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (found := re.findall(r"\b\d{3} (?:п\.|§)", _visible_text(path.read_text("utf-8"))))
    }
    assert not cited
    assert "(п. 3.7 положения)" in (TEMPLATES / "term.html").read_text("utf-8")


def _pair(db: Database, client: TestClient) -> int:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2)
    mentee = person(db, org, "mentee", "e1", name="Сидоров Олег Петрович")
    url = f"/api/v1/proposals/{proposal(db, org, mentee, mentor)}/confirm"
    answer = client.post(url, headers=auth(token(db, "admin", None)))
    assert answer.status_code == 201, answer.text
    return int(answer.json()["pair_id"])


def test_a_term_too_long_is_named_by_the_forms_field_and_the_input_kept(
    client: TestClient, db: Database
) -> None:
    pair_id = _pair(db, client)
    sign_in(client, db, token(db, "curator", "s1"))
    fields = {"planned_end": "2040-01-01", "reason": "по согласию сторон"}
    page = client.post(f"/ui/pairs/{pair_id}/term/extend", data=fields)
    assert page.status_code == 422
    problems = re.search(r'<ul id="problems">(.*?)</ul>', page.text, re.S)
    assert problems is not None
    assert "Новая дата окончания: наставничество длится от 1 месяца до 1 года" in problems.group(1)
    assert "planned_end" not in problems.group(1)
    assert 'value="2040-01-01"' in page.text
    assert 'value="по согласию сторон"' in page.text


def test_an_active_pair_shows_its_planned_end_without_a_dash(
    client: TestClient, db: Database
) -> None:
    _pair(db, client)
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1/pairs")
    assert page.status_code == 200
    assert '<span class="muted">по плану: ' in page.text
    assert '—<span class="muted">по плану' not in page.text


def test_a_proposed_group_shows_compatibility_on_the_pages_one_scale(
    client: TestClient, db: Database
) -> None:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=3)
    mentee = person(db, org, "mentee", "e1", name="Сидоров Олег Петрович")
    proposal(db, org, mentee, mentor, score=0.55)
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1/groups")
    assert page.status_code == 200
    assert "Сидоров Олег Петрович" in page.text
    assert "совместимость 55 из 100" in page.text  # as on the school page, not «(0.55)»
    assert "(0.55)" not in page.text


def test_logging_out_says_so_on_the_login_page(client: TestClient, db: Database) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    out = client.post("/logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    login = client.get("/login")
    assert "Вы вышли" in login.text
    assert client.get("/ui/orgs/s1").status_code == 303  # the session is over
    assert "Вы вышли" not in client.get("/login").text  # said once
