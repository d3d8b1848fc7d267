"""A new curator's first steps in a real Chromium, as walked from outside the project: a file with
a mistake is explained in Russian, naming where; an address that is not a page is a Russian page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.core.db import Database
from tests.service.test_pages import _login, browser  # noqa: F401 (the fixture)
from tests.service.util import live_server, login_of, school, token

pytestmark = pytest.mark.browser

DATA = Path(__file__).with_name("data")


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:  # noqa: F811 (the imported fixture)
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curators_broken_files_and_a_wrong_address_are_explained_in_russian(
    db: Database, tab: Any, tmp_path: Path
) -> None:
    page = tab
    school(db, "s1")
    lines = (DATA / "mentors.csv").read_text("utf-8").splitlines()
    unclosed = tmp_path / "наставники.csv"  # a quote opened in the third line and never closed
    unclosed.write_text("\n".join([*lines[:2], '"' + lines[2], *lines[3:]]), "utf-8")
    renamed = tmp_path / "наставники.xlsx"  # a CSV saved under a workbook's name
    renamed.write_bytes((DATA / "mentors.csv").read_bytes())
    with live_server(db) as base:
        _login(page, base, login_of(db, token(db, "curator", "s1")))
        shown = {}
        for path in (unclosed, renamed):
            page.goto(f"{base}/ui/orgs/s1")
            page.locator("input[type=file]").set_input_files(str(path))
            page.get_by_role("button", name="Загрузить").click()
            assert "Файл не принят" in page.locator("h1").inner_text()
            shown[path.suffix] = page.locator("main").inner_text()
        assert "в строке 3 кавычка открыта и не закрыта до конца файла" in shown[".csv"]
        assert "tokenizing" not in shown[".csv"]
        assert "файл не читается как XLSX" in shown[".xlsx"]
        assert "нет обязательного столбца" not in shown[".xlsx"]

        answer = page.goto(f"{base}/ui/orgs/s1/no-such-page")
        assert answer is not None
        assert answer.status == 404
        assert "Такой страницы нет" in page.locator("main").inner_text()
        page.get_by_role("link", name="На главную").click()
        assert page.url.endswith("/ui/orgs/s1") or page.url.endswith("/ui")
