"""The region's indicators page with its charts in a real Chromium (Playwright), and the charts'
SVG over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.db import Database
from tests.service.test_indicators import YEAR, _in_region, _small_school, build_school
from tests.service.test_pages import _login, browser, page  # noqa: F401 (fixtures)
from tests.service.util import auth, live_server, login_of, token

KINDS = ("indicators", "trend", "coverage", "waiting", "satisfaction", "load")


@pytest.fixture
def live(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


@pytest.mark.browser
@pytest.mark.parametrize("live_db", ["sqlite"], indirect=True)
def test_the_region_page_shows_indicators_and_charts(live: Database, page: Any) -> None:  # noqa: F811
    _small_school(live, "a", "Город", 1, 10)
    _small_school(live, "b", "Село", 3, 70)
    _in_region(live, "Удмуртия", "a", "b")
    with live_server(live) as base:
        _login(page, base, login_of(live, token(live, "region", None, region="Удмуртия")))
        page.get_by_role("link", name="Регион").click()
        page.locator("select[name=year]").select_option(str(YEAR))
        page.get_by_role("button", name="Показать").click()
        assert "Регион «Удмуртия»" in page.locator("h1").inner_text()
        row = page.locator('#indicators tr[data-indicator="pupil_mentees"]')
        assert "5 %" in row.inner_text()  # 4 pupil mentees of 80 pupils
        parts = page.locator("#parts tr[data-part]")
        assert [parts.nth(k).get_attribute("data-part") for k in range(parts.count())] == [
            "Город",
            "Село",
        ]
        images = page.locator("#charts img[data-chart]")
        assert images.count() == len(KINDS)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#charts img')].every(i => i.complete)",
            timeout=120_000,
        )
        for k in range(images.count()):
            image = images.nth(k)
            width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width > 0, image.get_attribute("src")
        parts.nth(0).get_by_role("link").click()
        assert "Муниципалитет «Город»" in page.locator("h1").inner_text()


def test_charts_are_svg_with_russian_titles(db: Database) -> None:
    from service.app import create_app
    from tests.service.util import settings_for

    build_school(db)
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        for kind, title in zip(
            KINDS,
            [
                "Показатели и целевые значения",
                "Показатели по учебным годам",
                "Охват наставляемых по месяцам",
                "Ожидание наставника",
                "Оценки удовлетворённости",
                "Загрузка наставников",
            ],
            strict=True,
        ):
            answer = client.get(f"/api/v1/orgs/s1/charts/{kind}?year={YEAR}", headers=headers)
            assert answer.status_code == 200, (kind, answer.text)
            assert answer.headers["content-type"].startswith("image/svg+xml")
            assert answer.text.lstrip().startswith("<?xml")
            assert title in answer.text
        assert client.get("/api/v1/orgs/s1/charts/pie", headers=headers).status_code == 422
