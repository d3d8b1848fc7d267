"""A new curator in a real Chromium (branch outsider3): the pages ask nothing of a script their
Content-Security-Policy blocks — removing a wrongly imported person asks for a tick, not a
confirm() dialog that never shows."""

from __future__ import annotations

from typing import Any

import pytest

from service.core.db import Database

# the fixtures of a live server's database and a fresh Russian browser context
from tests.service.test_outsider_browser import db, tab  # noqa: F401
from tests.service.test_pages import _login, browser  # noqa: F401 (the fixture)
from tests.service.util import live_server, login_of, org_id, person, proposal, school, token

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_removes_a_wrong_record_with_a_tick_and_no_script_is_blocked(
    db: Database,  # noqa: F811 (the imported fixture)
    tab: Any,  # noqa: F811
) -> None:
    page = tab
    org = org_id(db, school(db, "s1"))
    mentor = person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2)
    proposal(db, org, person(db, org, "mentee", "e1", name="Сидоров Олег Петрович"), mentor)
    person(db, org, "mentee", "e2", name="Лишняя Запись Петровна")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Security Policy" in m.text else None)
    with live_server(db) as base:
        _login(page, base, login_of(db, token(db, "curator", "s1")))
        assert page.locator("#proposals tr[data-proposal]").count() == 1
        page.goto(f"{base}/ui/orgs/s1/people")
        row = page.locator("#people tr[data-person]").filter(has_text="Лишняя Запись Петровна")
        row.get_by_text("Удалить…").click()
        remove = row.get_by_role("button", name="Удалить: Лишняя Запись Петровна")
        remove.click()  # not ticked: the browser itself asks for the tick, nothing is sent
        assert page.locator("#people tr[data-person]").count() == 3
        row.get_by_label("удалить без следа (только ошибочно загруженную запись)").check()
        remove.click()
        status = page.get_by_role("status").inner_text()
        assert "Удалена ошибочно загруженная запись: Лишняя Запись Петровна." in status
        assert page.locator("#people tr[data-person]").count() == 2
    assert not blocked, blocked


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_first_page_leaves_no_error_in_the_browsers_console(
    db: Database,  # noqa: F811 (the imported fixture)
    tab: Any,  # noqa: F811
) -> None:
    """A new curator's first pages: no error in the console (the browser's own request for
    /favicon.ico was a 404 there), and the pages' icon is the service's."""
    page = tab
    school(db, "s1")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with live_server(db) as base:
        page.goto(f"{base}/login")
        icon = page.request.get(f"{base}/favicon.ico")
        assert icon.status == 200
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
        _login(page, base, login_of(db, token(db, "curator", "s1")))
        page.wait_for_load_state("networkidle")
    assert not errors, errors
