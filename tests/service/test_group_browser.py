"""A group's life in a real Chromium: confirm → replace one mentee → extend the term → the final
survey → the end of the programme (docs/rules.md#group, #term)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from service.core.db import Database
from service.core.models import Person, Proposal
from tests.service.test_pages import _login, browser  # noqa: F401 (the fixture)
from tests.service.util import auth, live_server, login_of, org_id, school, token

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).parents[2] / "examples" / "pupils"
ITEMS = ("effectiveness", "comfort", "usefulness", "clarity", "support", "joint_work")


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


def _school(db: Database, base: str, value: str) -> tuple[int, list[int]]:
    """Import the sample pupils; return a mentor and three mentees the rules allow with them."""
    with httpx.Client(base_url=base, headers=auth(value), timeout=60) as client:
        for side in ("mentors", "mentees"):
            answer = client.post(
                f"/api/v1/orgs/s1/imports/{side}",
                files={"file": (f"{side}.csv", (EXAMPLES / f"{side}.csv").read_bytes())},
                data={"spec": "pupil"},
            )
            assert answer.status_code == 201, answer.text
        with db.write() as session:
            session.execute(update(Person).values(consent=True))
            session.execute(update(Person).where(Person.side == "mentor").values(capacity=10))
            people = session.execute(select(Person.id, Person.side).order_by(Person.id)).all()
        mentees = [i for i, side in people if side == "mentee"]
        allowed: dict[int, list[int]] = {}
        for mentee in mentees:
            for s in client.get(f"/api/v1/orgs/s1/mentees/{mentee}/suggestions?k=50").json():
                allowed.setdefault(s["mentor_id"], []).append(mentee)
    mentor, chosen = max(allowed.items(), key=lambda item: len(item[1]))
    assert len(chosen) >= 3
    return mentor, chosen[:3]


def _survey(tab: Any, base: str, pair_id: str, author: str) -> None:
    tab.goto(f"{base}/ui/pairs/{pair_id}/feedback")
    form = tab.locator("#satisfaction")
    form.locator("select[name=author]").select_option(author)
    for key in ITEMS:
        form.locator(f"select[name={key}]").select_option("9")
    form.get_by_role("radio", name="да").check()
    form.get_by_role("button", name="Сохранить анкету").click()
    assert "Ответ сохранён" in tab.get_by_role("status").inner_text()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_group_from_confirmation_to_the_end_of_the_programme(
    db: Database,
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    page = browser.new_context(locale="ru-RU").new_page()
    page.set_default_timeout(15_000)
    org = org_id(db, school(db, "s1"))
    value = token(db, "curator", "s1")
    with live_server(db) as base:
        mentor, (first, second, newcomer) = _school(db, base, value)
        with db.write() as session:
            for k, mentee in enumerate((first, second)):
                session.add(
                    Proposal(org_id=org, mentee_id=mentee, mentor_id=mentor, score=0.9 - k / 10,
                             reasons=["тест"], form="pupil_pupil")
                )  # fmt: skip
            names = dict(session.execute(select(Person.id, Person.name)).all())
        _login(page, base, login_of(db, value))

        # confirm the proposed group at once
        page.get_by_role("link", name="Группы").click()
        row = page.locator(f"#proposed-groups tr[data-mentor='{mentor}']")
        assert names[first] in row.inner_text()
        row.get_by_role("button", name="Подтвердить группу").click()
        assert "Подтверждено в группе: 2." in page.get_by_role("status").inner_text()
        assert "Участников: 2 из 10" in page.content()
        group_url = page.url

        # replace one mentee
        members = page.locator("#members tr[data-pair]")
        leaving = members.nth(0).get_attribute("data-pair")
        page.locator("#replace-pair").select_option(leaving)
        page.locator("#replace-mentee").select_option(str(newcomer))
        page.locator("#replace-reason").select_option("mentee_request")
        page.get_by_role("button", name="Заменить участника").click()
        assert f"В группу вошёл {names[newcomer]}" in page.get_by_role("status").inner_text()
        table = page.locator("#members").inner_text()
        assert names[newcomer] in table
        assert "по просьбе наставляемого" in page.locator("#former-members").inner_text()

        # extend the group's term (by mutual consent, with the reason)
        end = (dt.date.today() + dt.timedelta(days=200)).isoformat()
        page.locator("#group-planned-end").fill(end)
        page.locator("#group-term-reason").fill("продление по согласию сторон")
        page.get_by_role("button", name="Изменить срок").click()
        assert "Срок группы изменён" in page.get_by_role("status").inner_text()
        pair_ids = page.locator("#members tr[data-pair]").evaluate_all(
            "rows => rows.map(r => r.dataset.pair)"
        )
        assert len(pair_ids) == 2

        # the end of the programme asks for the final surveys first
        page.get_by_role("button", name="Завершить программу группы").click()
        assert "нет итоговой анкеты удовлетворённости наставляемого и наставника" in (
            page.locator("#problems").inner_text()
        )
        page.goto(f"{base}/ui/pairs/{pair_ids[0]}/term")
        assert "продление по согласию сторон" in page.locator("#changes").inner_text()
        for pair_id in pair_ids:
            for author in ("mentee", "mentor"):
                _survey(page, base, pair_id, author)
        page.goto(f"{base}/ui/pairs/{pair_ids[0]}/term")
        assert page.locator("#surveys-done").is_visible()

        # and the group ends: every pair completed
        page.goto(group_url)
        page.get_by_role("button", name="Завершить программу группы").click()
        assert "Программа группы завершена" in page.get_by_role("status").inner_text()
        assert "В группе нет действующих участников." in page.content()
        assert "программа наставничества завершена" in page.locator("#former-members").inner_text()
