"""The curator's and the coordinator's pages in a real Chromium on a generated municipality of
ten schools, one of them of 600 pupils asking for a mentor (issue 10).

The data are built once for the module, as a school would load them: the questionnaire exports
of ``experiments.cohorts`` imported through ``service.people.people.import_answers`` and one
matching run through the API. Each test then does what a curator does and checks what the page
shows: search among namesakes, a filter and a page change that keep each other, the mentees left
without a pair after a run and why, confirming 50 proposals at once, undoing a rejection,
archiving a person, and the coordinator's municipality page down to a school.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from service.core.db import Database
from service.core.rules import UNMATCHED_REASONS
from tests.service.test_pages import CHROMIUM_ARGS, _chromium, _login
from tests.service.util import auth, live_server, login_of, token

pytestmark = pytest.mark.browser

MUNICIPALITY = "Армавир"
BIG = "sosh-1"
NAMESAKE = "Васильева Анна Андреевна"
NAMESAKE_CLASSES = ("5", "7", "9")
SCHOOLS = 10


@dataclass
class World:
    db: Database
    base: str
    curator: str  # logins (password: tests.service.util.PASSWORD)
    coordinator: str
    admin: dict[str, str]  # an API token's header
    mentees: int  # of the big school


def _csv(table: Any) -> bytes:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, sep=";")
    return buffer.getvalue().encode()


def _build(db: Database) -> int:
    """Ten schools of one municipality with their pupils' questionnaires; return the number of
    mentees of the big school."""
    from experiments.cohorts import make_city
    from service.accounts.accounts import add_organisation
    from service.core.security import Actor
    from service.people.people import import_answers

    big = make_city(seed=3, spec="pupil", mentees=600, mentors=225, schools=1)
    small = make_city(seed=4, spec="pupil", mentees=270, mentors=110, schools=SCHOOLS - 1)
    mentees = big.mentees_table.copy()
    for row, grade in zip((10, 20, 30), NAMESAKE_CLASSES, strict=True):
        mentees.loc[row, "ФИО"] = NAMESAKE
        mentees.loc[row, "Класс"] = grade
    org_column = "Образовательная организация"
    files: dict[str, dict[str, Any]] = {"МБОУ СОШ № 1": {"mentors": big.mentors_table,
                                                        "mentees": mentees}}  # fmt: skip
    for side, table, orgs in (("mentors", small.mentors_table, small.mentor_orgs),
                              ("mentees", small.mentees_table, small.mentee_orgs)):  # fmt: skip
        for name in sorted(set(orgs)):
            number = int(name.split()[-1]) + 1  # № 1 is the big school
            part = table[np.asarray(orgs) == name].copy()
            part[org_column] = f"МБОУ СОШ № {number}"
            files.setdefault(f"МБОУ СОШ № {number}", {})[side] = part
    actor = Actor.command_line()
    with db.write() as session:
        for name in files:
            code = f"sosh-{name.split()[-1]}"
            add_organisation(session, code, name, MUNICIPALITY, "Краснодарский край")
    for name, sides in files.items():
        code = f"sosh-{name.split()[-1]}"
        for side in ("mentors", "mentees"):
            import_answers(db, actor, code, side, _csv(sides[side]), f"{side}.csv", spec="pupil")
    return len(mentees)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The municipality on its own SQLite file, served live, with one matching run of the big
    school already made (its open proposals wait for the curator)."""
    from service.core.db import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('municipality') / 'armavir.sqlite3'}"
    upgrade(url)
    db = Database(url)
    mentees = _build(db)
    admin = auth(token(db, "admin", None))
    with live_server(db) as base:
        made = httpx.post(f"{base}/api/v1/orgs/{BIG}/matching-runs", headers=admin, timeout=300)
        assert made.status_code == 201, made.text
        yield World(
            db,
            base,
            login_of(db, token(db, "curator", BIG)),
            login_of(db, token(db, "coordinator", None, municipality=MUNICIPALITY)),
            admin,
            mentees,
        )
    db.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for the tests of this module (as tests/service/test_pages.py launches it)."""
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page."""
    context = chromium.new_context(locale="ru-RU")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def _rows(page: Any, table: str) -> Any:
    return page.locator(f"#{table} tr[data-{'person' if table == 'people' else 'proposal'}]")


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _status(page: Any) -> str:
    return str(page.get_by_role("status").inner_text())


def test_a_curator_finds_one_namesake_and_pages_through_a_filter(world: World, page: Any) -> None:
    _login(page, world.base, world.curator)
    page.goto(f"{world.base}/ui/orgs/{BIG}/people")
    page.get_by_label("Поиск по имени").fill(NAMESAKE)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**/people?q=*")
    namesakes = _rows(page, "people").filter(has_text=NAMESAKE)
    assert namesakes.count() == 3
    # Three people of one name, told apart by their class.
    classes = sorted(namesakes.nth(k).locator("td").nth(2).inner_text() for k in range(3))
    assert classes == [f"{c} класс" for c in sorted(NAMESAKE_CLASSES, key=int)]
    page.locator("select[name=grade]").select_option("7")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**grade=7*")
    assert _rows(page, "people").count() == 1
    assert "7 класс" in _rows(page, "people").nth(0).inner_text()
    assert _query(page)["q"] == [NAMESAKE]
    # The form of mentoring is shown from the role: a pupil fits the three pupils' forms.
    assert "ученик – ученик" in _rows(page, "people").nth(0).inner_text()

    # A filter and a page change keep each other, and the URL keeps both.
    page.goto(f"{world.base}/ui/orgs/{BIG}/people")
    page.locator("select[name=side]").select_option("mentee")
    page.locator("select[name=sort]").select_option("name")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**side=mentee*")
    pages = -(-world.mentees // 50)
    pager = page.locator("nav.pager").first
    assert f"Найдено: {world.mentees} · страница 1 из {pages}" in pager.inner_text()
    first = [_rows(page, "people").nth(k).locator("td").first.inner_text() for k in (0, 49)]
    pager.get_by_role("link", name="следующая →").click()
    page.wait_for_url("**page=2*")
    assert _query(page)["side"] == ["mentee"]
    assert _query(page)["sort"] == ["name"]
    assert page.locator("select[name=side]").input_value() == "mentee"
    assert f"страница 2 из {pages}" in page.locator("nav.pager").first.inner_text()
    rows = _rows(page, "people")
    assert rows.count() == 50
    assert {rows.nth(k).locator("td").nth(1).inner_text() for k in range(50)} == {"наставляемый"}
    second = rows.nth(0).locator("td").first.inner_text()
    assert first[0].split("\n")[0] <= first[1].split("\n")[0] <= second.split("\n")[0]
    page.go_back()
    page.wait_for_url("**side=mentee*")
    assert "page=2" not in page.url
    assert page.locator("select[name=side]").input_value() == "mentee"


def test_a_curator_runs_the_matching_and_sees_who_is_left_without_a_pair(
    world: World, page: Any
) -> None:
    _login(page, world.base, world.curator)
    page.get_by_role("button", name="Подобрать пары").click()
    page.wait_for_url("**/ui/runs/*")
    said = re.search(
        r"предложено пар — (\d+), без пары осталось — (\d+), без записанного согласия "
        r"\(в подбор не попали\) — (\d+)",
        _status(page),
    )
    assert said is not None, _status(page)
    proposed, left, without = (int(said.group(k)) for k in (1, 2, 3))
    assert proposed > 50
    assert left > 0
    heading = page.locator("main p").first.inner_text()
    assert f"без пары осталось: {left}, без записанного согласия" in heading
    run_id = int(page.url.rsplit("/", 1)[1])
    unmatched = page.locator("#unmatched tr[data-mentee]")
    assert unmatched.count() == left + without
    left = left + without
    reasons = set(UNMATCHED_REASONS.values())
    found = httpx.get(
        f"{world.base}/api/v1/matching-runs/{run_id}", headers=world.admin, timeout=60
    )
    names = {u["mentee_id"]: u for u in found.json()["unmatched"]} if found.is_success else {}
    for k in range(min(left, 40)):
        cells = unmatched.nth(k).locator("td")
        name, school, why = (cells.nth(i).inner_text() for i in range(3))
        assert re.fullmatch(r"[А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё]+( [А-ЯЁ][а-яё]+)?", name), name
        assert school == "МБОУ СОШ № 1"  # the school's name, not its code
        assert why in reasons, why
        mentee = int(unmatched.nth(k).get_attribute("data-mentee"))
        if names:
            assert names[mentee]["why"] == why
    # From the list, the curator goes to one mentee's suggestions.
    unmatched.nth(0).get_by_role("link", name="Подобрать наставника").click()
    page.wait_for_url("**/mentees/*")
    assert "Кто мог бы стать наставником" in page.content()


def test_a_curator_confirms_50_proposals_at_once(world: World, page: Any) -> None:
    _login(page, world.base, world.curator)
    page.goto(f"{world.base}/ui/orgs/{BIG}/pairs?status=active")
    before = int(re.search(r"Найдено: (\d+)", page.content()).group(1))  # type: ignore[union-attr]
    page.goto(f"{world.base}/ui/orgs/{BIG}")
    rows = _rows(page, "proposals")
    assert rows.count() == 50
    shown = {rows.nth(k).locator("td").nth(1).inner_text() for k in range(50)}
    page.get_by_role("button", name="Подтвердить все показанные (50)").click()
    page.wait_for_url("**/proposals/confirm")
    assert _status(page) == "Подтверждено: 50, не подтверждено: 0."
    confirmed = page.locator("#confirmed tr").filter(has=page.locator("td"))
    assert confirmed.count() == 50
    assert {confirmed.nth(k).locator("td").first.inner_text() for k in range(50)} == shown
    page.get_by_role("link", name="Пары школы").click()
    page.wait_for_url("**/pairs")
    page.goto(f"{world.base}/ui/orgs/{BIG}/pairs?status=active")
    assert f"Найдено: {before + 50}" in page.content()
    # Confirmed ones are no longer waiting for a decision.
    page.goto(f"{world.base}/ui/orgs/{BIG}")
    still = {_rows(page, "proposals").nth(k).locator("td").nth(1).inner_text() for k in range(10)}
    assert not still & shown


def test_a_curator_rejects_a_proposal_and_undoes_it(world: World, page: Any) -> None:
    _login(page, world.base, world.curator)
    page.goto(f"{world.base}/ui/orgs/{BIG}?sort=mentee")
    row = _rows(page, "proposals").nth(3)
    mentee = row.locator("td").nth(1).inner_text()
    mentor = row.locator("td").nth(2).inner_text().split("\n")[0]
    row.get_by_role("button", name="Отклонить").click()
    assert f"Пара отклонена (наставник {mentor} — наставляемый {mentee})" in _status(page)
    page.goto(f"{world.base}/ui/orgs/{BIG}")
    page.get_by_label("Поиск по имени").fill(mentee)
    page.locator("select[name=status]").select_option("rejected")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**status=rejected*")
    rejected = _rows(page, "proposals").filter(has_text=mentor)
    assert rejected.count() == 1
    assert "отклонено" in rejected.inner_text()
    rejected.get_by_role("button", name="Вернуть в ожидающие").click()
    assert f"Отклонение отменено (наставник {mentor} — наставляемый {mentee})" in _status(page)
    page.goto(f"{world.base}/ui/orgs/{BIG}")
    page.get_by_label("Поиск по имени").fill(mentee)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**q=*")
    back = _rows(page, "proposals").filter(has_text=mentor)
    assert back.count() == 1
    assert back.get_by_role("button", name="Подтвердить").is_visible()


def test_a_curator_archives_a_person(world: World, page: Any) -> None:
    _login(page, world.base, world.curator)
    page.goto(f"{world.base}/ui/orgs/{BIG}/people?side=mentee&pair=no&archived=no&grade=9")
    page.get_by_label("Поиск по имени").fill(NAMESAKE)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**q=*")
    rows = _rows(page, "people")
    assert rows.count() == 1
    person = rows.nth(0).get_attribute("data-person")
    rows.nth(0).get_by_role("button", name=f"В архив: {NAMESAKE}").click()
    assert f"В архиве: {NAMESAKE}. История пар и анкет сохранена." in _status(page)
    assert _rows(page, "people").count() == 0  # the filter «в программе» is kept
    assert "Никого не найдено" in page.content()
    page.locator("select[name=archived]").select_option("yes")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**archived=yes*")
    archived = page.locator(f'#people tr[data-person="{person}"]')
    assert "в архиве с" in archived.inner_text()
    assert archived.get_by_role("button").count() == 0
    page.goto(f"{world.base}/ui/orgs/{BIG}/waiting?q={NAMESAKE}")
    assert page.locator(f'tr[data-mentee="{person}"]').count() == 0


def test_a_coordinator_sees_each_school_and_the_municipality(world: World, page: Any) -> None:
    _login(page, world.base, world.coordinator)
    page.goto(f"{world.base}/ui/municipalities/{MUNICIPALITY}")
    table = page.locator("#school-indicators")
    schools = table.locator("tr[data-org]:not([data-org=''])")
    assert schools.count() == SCHOOLS
    report = httpx.get(
        f"{world.base}/api/v1/municipalities/{MUNICIPALITY}/report", headers=world.admin
    ).json()
    total = table.locator("tr[data-org='']").inner_text()
    coverage = report["total"]["coverage"]
    assert f"Всего: {MUNICIPALITY}" in total
    assert f"{coverage['mentees_with_pair']} из {coverage['mentees_with_consent']}" in total
    assert f"ждут: {report['total']['waiting']['mentees']}" in total
    assert coverage["mentees_with_consent"] == sum(
        s["coverage"]["mentees_with_consent"] for s in report["schools"]
    )
    big = table.locator(f"tr[data-org='{BIG}']").inner_text()
    one = report["schools"][[s["code"] for s in report["schools"]].index(BIG)]
    assert f"{one['coverage']['mentees_with_pair']} из" in big
    # A school is found by its name, and the coordinator goes down to its report.
    page.get_by_label("Школа").fill("№ 10")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**q=*")
    assert schools.count() == 1
    schools.get_by_role("link", name="МБОУ СОШ № 10").click()
    page.wait_for_url("**/ui/orgs/sosh-10/report")
    assert "МБОУ СОШ № 10" in page.locator("h1").inner_text()
