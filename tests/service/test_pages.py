"""The curator's pages in a real Chromium (Debian's /usr/bin/chromium driven by Playwright).

Without Chromium these tests skip, unless NASTAVNIK_TEST_REQUIRE_BROWSER=1, when they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from service.db import Database
from tests.service.util import live_server, org_id, person, proposal, school, token

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("NASTAVNIK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("NASTAVNIK_TEST_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(message + " but NASTAVNIK_TEST_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the tests of this module."""
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _login(page: Any, base: str, value: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Токен доступа").fill(value)
    page.get_by_role("button", name="Войти").click()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_logs_in_confirms_and_rejects_proposals(db: Database, page: Any) -> None:
    org = org_id(db, school(db, "s1"))
    mentor = person(db, org, "mentor", "m", name="Петрова Анна Ивановна", capacity=2)
    first = person(db, org, "mentee", "e1", name="Сидоров Олег Петрович")
    second = person(db, org, "mentee", "e2", name="Кузнецова Мария Олеговна")
    proposal(db, org, first, mentor, 0.91)
    proposal(db, org, second, mentor, 0.42)
    with live_server(db) as base:
        _login(page, base, "неверный")
        assert "Токен не подошёл" in page.get_by_role("alert").inner_text()

        _login(page, base, token(db, "curator", "s1"))
        assert page.url.endswith("/ui/orgs/s1")
        rows = page.locator("#proposals tr[data-proposal]")
        assert rows.count() == 2
        assert "Сидоров Олег Петрович" in rows.nth(0).inner_text()  # best score first
        assert "тест" in rows.nth(0).inner_text()  # the reasons are shown

        rows.nth(0).get_by_role("button", name="Подтвердить").click()
        assert "Пара подтверждена" in page.get_by_role("status").inner_text()
        page.locator("#proposals tr[data-proposal]").nth(0).get_by_role(
            "button", name="Отклонить"
        ).click()
        assert "Предложение отклонено" in page.get_by_role("status").inner_text()
        assert "Предложений нет" in page.content()

        page.get_by_role("link", name="Пары").click()
        pairs = page.locator("#pairs tr[data-pair]")
        assert pairs.count() == 1
        assert "Петрова Анна Ивановна" in pairs.nth(0).inner_text()
        assert "действует" in pairs.nth(0).inner_text()

        pairs.nth(0).locator("select[name=reason]").select_option("transfer")
        pairs.nth(0).get_by_role("button", name="Закрыть пару").click()
        assert "прекращена" in page.locator("#pairs tr[data-pair]").nth(0).inner_text()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_cannot_open_another_school(db: Database, page: Any) -> None:
    school(db, "s1")
    other = org_id(db, school(db, "s2"))
    person(db, other, "mentee", "e", name="Чужая Ученица")
    with live_server(db) as base:
        _login(page, base, token(db, "curator", "s1"))
        response = page.goto(f"{base}/ui/orgs/s2")
        assert response is not None
        assert response.status == 404
        assert "не найден" in page.get_by_role("alert").inner_text()
        assert "Чужая Ученица" not in page.content()
        page.get_by_role("button", name="Выйти").click()
        page.goto(f"{base}/ui/orgs/s1")
        assert page.url.endswith("/login")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_uploads_questionnaires_and_runs_the_matching(
    db: Database, page: Any, tmp_path: Any
) -> None:
    from pathlib import Path

    data = Path(__file__).with_name("data")
    school(db, "s1")
    bad = tmp_path / "mentees.csv"
    lines = (data / "mentees.csv").read_text().splitlines()
    lines[1] = lines[1].replace(";1;постоянно;", ";много;постоянно;")
    bad.write_text("\n".join(lines))
    with live_server(db) as base:
        _login(page, base, token(db, "curator", "s1"))
        page.locator("select[name=side]").select_option("mentees")
        page.locator("input[type=file]").set_input_files(str(bad))
        page.get_by_role("button", name="Загрузить").click()
        assert "Файл не принят" in page.locator("h1").inner_text()
        errors = page.locator("#errors tr").nth(1).inner_text()
        assert "Педагогический стаж" in errors
        assert "много" in errors

        for side in ("mentors", "mentees"):
            page.goto(f"{base}/ui/orgs/s1")
            page.locator("select[name=side]").select_option(side)
            page.locator("input[type=file]").set_input_files(str(data / f"{side}.csv"))
            page.get_by_role("button", name="Загрузить").click()
            assert "Файл принят: новых — 4" in page.get_by_role("status").inner_text()
        page.get_by_role("button", name="Подобрать пары").click()
        assert "Подбор выполнен: предложено пар — 3" in page.get_by_role("status").inner_text()
        first = page.locator("#proposals tr[data-proposal]").nth(0).inner_text()
        assert "Иванова Ирина Андреевна" in first
        assert "закрывает 2 из 2 запросов" in first
