"""The curator's pages in a real Chromium (Debian's /usr/bin/chromium driven by Playwright).

Without Chromium these tests skip, unless NASTAVNIK_TEST_REQUIRE_BROWSER=1, when they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from service.core.db import Database
from tests.service.util import (
    PASSWORD,
    live_server,
    login_of,
    org_id,
    person,
    proposal,
    school,
    settings_for,
    token,
)

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


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


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


def _login(page: Any, base: str, login: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
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
        _login(page, base, "nobody", "неверный-пароль")
        assert "Логин или пароль не подошёл" in page.get_by_role("alert").inner_text()

        _login(page, base, login_of(db, token(db, "curator", "s1")))
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
        assert (
            "Пара отклонена (наставник Петрова Анна Ивановна — наставляемый Кузнецова Мария "
            "Олеговна): она больше не будет предложена."
        ) in page.get_by_role("status").inner_text()
        assert "Предложений нет" in page.content()

        page.get_by_role("link", name="Пары").click()
        page.wait_for_url("**/ui/orgs/s1/pairs")  # count() does not wait for the navigation
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
        _login(page, base, login_of(db, token(db, "curator", "s1")))
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
        _login(page, base, login_of(db, token(db, "curator", "s1")))
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
        # The run's result: its proposals with reasons, who is left without a pair and why.
        first = page.locator("#run-proposals tr[data-proposal]").nth(0).inner_text()
        assert "Иванова Ирина Андреевна" in first
        assert "закрывает 2 из 2 запросов" in first
        [left] = page.locator("#unmatched tr[data-mentee]").all()
        assert "Фролов Максим Юрьевич" in left.inner_text()
        assert "нет записанного согласия" in left.inner_text()
        page.get_by_role("link", name="Решить по предложениям этого подбора").click()
        assert page.locator("#proposals tr[data-proposal]").count() == 3


def _import_sample(db: Database, org: str) -> None:
    from pathlib import Path

    from service.core.security import Actor
    from service.people.people import import_answers

    data = Path(__file__).with_name("data")
    for side in ("mentors", "mentees"):
        content = (data / f"{side}.csv").read_bytes()
        import_answers(db, Actor.command_line(), org, side, content, f"{side}.csv")


def _row(page: Any, table: str, text: str) -> Any:
    return page.locator(f"{table} tr").filter(has_text=text)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_walks_from_suggestions_to_the_report_and_the_order(
    db: Database, page: Any, tmp_path: Any
) -> None:
    from datetime import datetime

    import docx

    school(db, "s1")
    _import_sample(db, "s1")
    # The order prints the school's local date (Moscow by default), which is not UTC's after 21:00.
    today = datetime.now(settings_for(db).zone).strftime("%d.%m.%Y")
    with live_server(db) as base:
        _login(page, base, login_of(db, token(db, "curator", "s1")))
        waiting = _row(page, "#waiting", "Иванова Ирина Андреевна")
        assert "срок 30 дней пропущен" in waiting.inner_text()  # entered in September 2024
        waiting.get_by_role("link", name="Подобрать наставника").click()

        # Suggestions: ranked mentors with score and reasons; no mentor without consent.
        assert page.locator("h1").inner_text() == "Кто мог бы стать наставником"
        suggestions = page.locator("#suggestions tr[data-mentor]")
        assert suggestions.count() == 3
        best = suggestions.nth(0).inner_text()
        assert "Петрова Анна Ивановна" in best
        assert "закрывает 2 из 2 запросов: методика, ИКТ" in best
        assert "0 из 2" in best  # places taken of the mentor's capacity
        assert "Носов" not in page.locator("#suggestions").inner_text()
        suggestions.nth(0).get_by_role("button", name="Предложить пару").click()

        # Propose -> confirm on the school page.
        assert "Пара предложена" in page.get_by_role("status").inner_text()
        proposed = _row(page, "#proposals", "Иванова Ирина Андреевна")
        assert "Петрова Анна Ивановна" in proposed.inner_text()
        proposed.get_by_role("button", name="Подтвердить").click()
        assert "Пара подтверждена" in page.get_by_role("status").inner_text()
        assert "Иванова" not in page.locator("#waiting").inner_text()

        # Replace the mentor: an empty form is refused with every problem, then accepted.
        page.get_by_role("link", name="Пары").click()
        _row(page, "#pairs", "Иванова").get_by_role("link", name="Заменить наставника").click()
        page.get_by_role("button", name="Заменить наставника").click()
        problems = page.locator("#problems").inner_text()
        assert "Причина замены: выберите одно из" in problems
        assert "Новый наставник: выберите нового наставника из списка" in problems
        page.locator("#reason").select_option("mentee_request")
        page.get_by_label("Смирнов Игорь Павлович").check()
        page.get_by_role("button", name="Заменить наставника").click()
        assert "Наставник заменён" in page.get_by_role("status").inner_text()
        rows = page.locator("#pairs tr[data-pair]")
        assert rows.count() == 2
        assert "прекращена (по просьбе наставляемого)" in rows.nth(0).inner_text()
        assert "Петрова Анна Ивановна" in rows.nth(0).inner_text()
        assert "Смирнов Игорь Павлович" in rows.nth(1).inner_text()
        assert "действует" in rows.nth(1).inner_text()

        # The satisfaction questionnaire: a half-filled form keeps the answers and names the rest.
        rows.nth(1).get_by_role("link", name="Отзывы и анкеты").click()
        form = page.locator("#satisfaction")
        form.locator("select[name=author]").select_option("mentee")
        scores = {"effectiveness": "9", "comfort": "9", "usefulness": "8", "clarity": "8"}
        for key, value in scores.items():
            form.locator(f"select[name={key}]").select_option(value)
        form.locator("textarea[name=valuable]").fill("Разбор уроков")
        form.get_by_role("button", name="Сохранить анкету").click()
        problems = page.locator("#problems").inner_text()
        assert "Насколько вы ощущали поддержку: поле не заполнено" in problems
        assert "Хотели бы вы продолжить работу в паре: выберите одно из" in problems
        assert "Ответов пока нет" in page.content()  # nothing stored
        form = page.locator("#satisfaction")
        assert form.locator("select[name=effectiveness]").input_value() == "9"
        assert form.locator("textarea[name=valuable]").input_value() == "Разбор уроков"
        form.locator("select[name=support]").select_option("10")
        form.locator("select[name=joint_work]").select_option("9")
        form.get_by_role("radio", name="да").check()
        form.get_by_role("button", name="Сохранить анкету").click()
        assert "Ответ сохранён" in page.get_by_role("status").inner_text()
        response = page.locator("#responses tr").nth(1).inner_text()
        assert "наставляемый" in response
        assert "Разбор уроков" in response

        # The report: coverage, satisfaction against the target, waiting mentees, mentor load.
        page.get_by_role("link", name="Отчёт").click()
        assert "33,3 %" in page.locator("#coverage").inner_text()  # 1 of 3 with consent
        mentees = page.locator("#satisfaction tr[data-side=mentees]").inner_text()
        assert "88,3 %" in mentees  # mean of 9, 9, 8, 8, 10, 9 on the 1-10 scale
        assert "цель достигнута" in mentees
        waiting_now = page.locator("#waiting").inner_text()
        assert "Козлов Денис Олегович" in waiting_now
        assert "Иванова" not in waiting_now
        assert "срок 30 дней пропущен" in waiting_now
        load = page.locator("#load tr[data-mentor]").filter(has_text="Смирнов").inner_text()
        assert "мест нет" in load

        # The order fixing the pairs, from the pairs page.
        page.get_by_role("link", name="Пары").click()
        page.get_by_role("button", name="Сформировать приказ о закреплении пар").click()
        page.locator("input[name=number]").fill("12-о")
        with page.expect_download() as download:
            page.get_by_role("button", name="Скачать приказ (Word)").click()
        path = tmp_path / "order.docx"
        download.value.save_as(path)
    table = docx.Document(str(path)).tables[0]
    assert len(table.rows) == 2
    cells = [cell.text for cell in table.rows[1].cells]
    assert cells[0] == "1"
    assert cells[1].startswith("Смирнов Игорь Павлович")
    assert cells[2].startswith("Иванова Ирина Андреевна")
    assert cells[3:5] == ["педагог – педагог", today]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_curator_records_a_withdrawn_consent_and_lowers_a_mentors_limit(
    db: Database, page: Any
) -> None:
    school(db, "s1")
    _import_sample(db, "s1")
    with live_server(db) as base:
        _login(page, base, login_of(db, token(db, "curator", "s1")))
        # A pair to keep: Петрова mentors Иванова.
        _row(page, "#waiting", "Иванова Ирина Андреевна").get_by_role(
            "link", name="Подобрать наставника"
        ).click()
        page.locator("#suggestions tr[data-mentor]").nth(0).get_by_role(
            "button", name="Предложить пару"
        ).click()
        _row(page, "#proposals", "Иванова").get_by_role("button", name="Подтвердить").click()

        # Петрова withdraws her consent on paper: the form says whose consent and the date.
        page.get_by_role("link", name="Участники").click()
        _row(page, "#people", "Петрова Анна Ивановна").get_by_role("link", name="Согласия").click()
        assert "Все нужные согласия есть" in page.locator("#consent-summary").inner_text()
        form = page.locator("#consent-form")
        form.get_by_label("согласие участника на участие в программе").check()
        form.get_by_label("отозвано").check()
        form.locator("input[name=signed_on]").fill("2024-10-14")
        form.get_by_role("button", name="Записать").click()
        status = page.get_by_role("status").inner_text()
        assert "отозвано, документ от 14.10.2024" in status
        assert "сохранены: решите на странице пар" in status
        assert "отозвано" in page.locator("#consents tr[data-kind=participant]").inner_text()

        # The pair stays, flagged for the curator's decision.
        page.get_by_role("link", name="Пары").click()
        pair = _row(page, "#pairs", "Иванова")
        assert "действует" in pair.inner_text()
        assert "Нет согласия наставника: пара сохранена" in pair.get_by_role("note").inner_text()

        # Орлова may take three; the curator lowers it to one.
        page.get_by_role("link", name="Участники").click()
        _row(page, "#people", "Орлова Вера Сергеевна").get_by_role(
            "link", name="Предел наставляемых"
        ).click()
        page.locator("#limit").select_option("1")
        page.get_by_role("button", name="Сохранить предел").click()
        assert "Предел 1: наставник может вести до 1" in page.get_by_role("status").inner_text()
        page.get_by_role("link", name="Участники").click()
        assert "0 из 1" in _row(page, "#people", "Орлова").inner_text()
