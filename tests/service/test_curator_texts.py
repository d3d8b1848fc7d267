"""What a new curator reads, as an outside tester walked the pages (branch outsider3): guidance in
Russian, not the administrator's commands; errors naming the bad field by its Russian title; numbers
with a decimal comma; messages naming people.

Through the real application over HTTP, on both database engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as found:
        yield found


def _text(html: str) -> str:
    """A page's text as a curator reads it."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_login_page_tells_a_curator_whom_to_ask_not_which_command_to_run(
    client: TestClient,
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Учётную запись выдаёт администратор системы" in text
    assert "nastavnik" not in text
    assert "users add" not in text


LISTS = [  # (a page, its API, the Russian titles of its sort columns)
    ("/ui/orgs/s1/people", "/api/v1/orgs/s1/people/paged", ["Участник", "Дата вступления"]),
    ("/ui/orgs/s1", "/api/v1/orgs/s1/proposals/paged", ["Совместимость", "Наставляемый"]),
    ("/ui/orgs/s1/pairs", "/api/v1/orgs/s1/pairs/paged", ["Дата начала", "Наставник"]),
    ("/ui/orgs/s1/feedback", "/api/v1/orgs/s1/feedback/paged", ["Дата", "Оценка"]),
    ("/ui/orgs/s1/waiting", "/api/v1/orgs/s1/waiting/paged", ["Дней ожидания", "Наставляемый"]),
]
_KEYS = re.compile(r"\b(name|entered|score|mentee|mentor|created|started|days)\b")


@pytest.mark.parametrize(("page_url", "api_url", "columns"), LISTS)
def test_a_bad_sort_is_refused_in_russian_naming_the_columns(
    client: TestClient, db: Database, page_url: str, api_url: str, columns: list[str]
) -> None:
    value = token(db, "curator", "s1")
    answer = client.get(f"{api_url}?sort=age", headers=auth(value))
    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"].startswith("Неизвестный порядок сортировки «age».")
    for title in columns:
        assert f"«{title}»" in body["detail"]
    assert not _KEYS.search(body["detail"]), body["detail"]
    assert body["errors"][0]["column"] == "Порядок"  # the label of the page's sort list
    assert not _KEYS.search(body["errors"][0]["message"])
    assert len(body["allowed_sorts"]) == 2 * len(body["allowed_sorts"][::2])  # machine keys kept
    sign_in(client, db, value)
    page = client.get(f"{page_url}?sort=age")
    assert page.status_code == 422
    text = _text(page.text)
    assert "Неизвестный порядок сортировки «age»" in text
    assert all(f"«{title}»" in text for title in columns)
    assert not _KEYS.search(text.split("Неизвестный порядок", 1)[1].split(".", 2)[1])


@pytest.mark.parametrize(("limit", "shown"), [(int(1.5 * 2**20), "1,5 МБ"), (2 * 2**20, "2 МБ")])
def test_a_file_too_big_names_the_limit_with_a_decimal_comma(
    db: Database, limit: int, shown: str
) -> None:
    school(db, "s1", "m1")
    value = token(db, "curator", "s1")
    big = b"a;b\n" * (limit // 4 + 1)
    with TestClient(create_app(settings_for(db, upload_bytes=limit), db)) as client:
        answer = client.post(
            "/api/v1/orgs/s1/imports/mentors",
            files={"file": ("big.csv", big)},
            data={"spec": "teacher"},
            headers=auth(value),
        )
        assert answer.status_code == 422
        assert answer.json()["detail"] == f"Файл больше {shown}: разделите выгрузку на части."
        sign_in(client, db, value)
        page = client.post(
            "/ui/orgs/s1/import", files={"file": ("big.csv", big)}, data={"side": "mentors"}
        )
        assert page.status_code == 422
        text = _text(page.text)
        assert f"Файл больше {shown}:" in text
        assert not re.search(r"\d\.\d+ МБ|,0 МБ", text)


def test_deciding_on_a_proposal_names_the_mentor_and_the_mentee(
    client: TestClient, db: Database
) -> None:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m1", name="Иванова Анна Сергеевна", capacity=2)
    mentee = person(db, org, "mentee", "e1", name="Петров Борис Олегович")
    other = person(db, org, "mentee", "e2", name="Кузнецова Мария Олеговна")
    by_api, on_page = proposal(db, org, mentee, mentor), proposal(db, org, other, mentor)
    value = token(db, "curator", "s1")
    answer = client.post(f"/api/v1/proposals/{by_api}/reject", headers=auth(value))
    assert answer.status_code == 200
    assert answer.json()["detail"] == (
        "Пара отклонена (наставник Иванова Анна Сергеевна — наставляемый Петров Борис Олегович): "
        "она больше не будет предложена."
    )
    undone = client.post(f"/api/v1/proposals/{by_api}/undo-reject", headers=auth(value))
    assert undone.json()["detail"].startswith(
        "Отклонение отменено (наставник Иванова Анна Сергеевна — наставляемый Петров Борис Олегович)"
    )
    sign_in(client, db, value)
    page = client.post(f"/ui/proposals/{by_api}/confirm", data={"org": "s1"})
    assert page.status_code == 303
    shown = _text(client.get(page.headers["location"]).text)
    assert (
        "Пара подтверждена (наставник Иванова Анна Сергеевна — наставляемый Петров Борис Олегович)."
    ) in shown  # the same order and words as a rejection
    page = client.post(f"/ui/proposals/{on_page}/reject", data={"org": "s1"})
    assert page.status_code == 303
    shown = _text(client.get(page.headers["location"]).text)
    assert (
        "Пара отклонена (наставник Иванова Анна Сергеевна — наставляемый Кузнецова Мария "
        "Олеговна): она больше не будет предложена."
    ) in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "/ui/orgs/s1/indicators?year=abc",
            "«Учебный год» в адресе страницы: нужно целое число (указано «abc»)",
        ),
        (
            "/ui/orgs/s1/indicators?year=1990",
            "«Учебный год» в адресе страницы: нужно значение не меньше 2000 (указано «1990»)",
        ),
        (
            "/ui/orgs/s1/groups?mentor=Петрова",
            "«Наставник» в адресе страницы: нужно целое число (указано «Петрова»)",
        ),
    ],
)
def test_a_page_with_a_bad_parameter_answers_422_naming_it(
    client: TestClient, db: Database, url: str, shown: str
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get(url)
    assert page.status_code == 422
    text = _text(page.text)
    assert f"Запрос не понят: {shown}." in text
    assert "year" not in text.split("Запрос не понят", 1)[1]


def test_an_address_naming_no_page_stays_404_and_a_form_without_a_field_is_422(
    client: TestClient, db: Database
) -> None:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m1", name="Иванова Анна Сергеевна", capacity=2)
    offered = proposal(db, org, person(db, org, "mentee", "e1"), mentor)
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/pairs/abc/feedback")
    assert page.status_code == 404
    assert "Такой страницы нет" in _text(page.text)
    form = client.post(f"/ui/proposals/{offered}/reject", data={})
    assert form.status_code == 422
    assert "Запрос не понят: поле «Школа» формы: поле не заполнено." in _text(form.text)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/ui/orgs/s1/people?side=teacher", "Кто «teacher»: можно выбрать «наставники», «наставляемые»"),
        ("/ui/orgs/s1?status=done", "Состояние «done»: можно выбрать «ожидают решения», «подтверждены»"),
        ("/ui/orgs/s1/pairs?term=soon", "Срок «soon»: можно выбрать «истекает в ближайшие 14 дней», «истёк»"),
        ("/ui/orgs/s1/waiting?overdue=1", "Срок «1»: можно выбрать «больше 30 дней», «до 30 дней»"),
        ("/ui/orgs/s1/feedback?author=x", "Кто отвечает «x»: можно выбрать «наставляемый», «наставник»"),
    ],
)  # fmt: skip
def test_a_bad_filter_value_on_a_page_names_the_choices_the_page_offers(
    client: TestClient, db: Database, url: str, shown: str
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get(url)
    assert page.status_code == 422
    text = _text(page.text)
    assert f"Неверные параметры списка: {shown}" in text
    assert not re.search(r"\b(mentor|mentee|open|active|yes|no|ending|overdue)\b", text)


def test_no_template_relies_on_a_script_the_pages_policy_blocks() -> None:
    """The pages' Content-Security-Policy runs no script: an inline handler (onclick, onsubmit)
    would silently do nothing — a «select all» that selects nothing, a delete without asking."""
    from pathlib import Path

    templates = Path(__file__).parents[2] / "service" / "ui" / "templates"
    handlers = {
        path.name: found
        for path in sorted(templates.rglob("*.html"))
        if (found := re.findall(r"\son[a-z]+\s*=", path.read_text("utf-8")))
    }
    assert not handlers
    assert not [p.name for p in templates.rglob("*.html") if "<script" in p.read_text("utf-8")]


def test_removing_a_person_asks_for_the_tick_first(client: TestClient, db: Database) -> None:
    org = org_id(db, "s1")
    person(db, org, "mentee", "e1", name="Ошибочная Запись Иванович")
    removed = person(db, org, "mentee", "e2", name="Лишняя Анна Петровна")
    sign_in(client, db, token(db, "curator", "s1"))
    people = _text(client.get("/ui/orgs/s1/people").text)
    assert "удалить без следа (только ошибочно загруженную запись)" in people
    refused = client.post(f"/ui/orgs/s1/people/{removed}/remove", data={})
    assert refused.status_code == 303
    shown = _text(client.get(refused.headers["location"]).text)
    assert "Запись не удалена: отметьте «удалить без следа» рядом с кнопкой." in shown
    assert "Лишняя Анна Петровна" in shown
    done = client.post(f"/ui/orgs/s1/people/{removed}/remove", data={"sure": "yes"})
    shown = _text(client.get(done.headers["location"]).text)
    assert "Удалена ошибочно загруженная запись: Лишняя Анна Петровна." in shown
    assert shown.count("Лишняя Анна Петровна") == 1  # in the message, no longer in the list
    assert "Найдено: 1" in shown


def test_a_form_names_a_large_bound_in_groups_and_a_year_whole(
    client: TestClient, db: Database
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    fields = {"pupils_10_19": "20", "pupils_15_19": "8", "young_teachers": "4", "enterprises": "-1"}
    page = client.post("/ui/orgs/s1/indicators/2024/denominators", data=fields)
    assert page.status_code == 422
    text = _text(page.text)
    assert "нужно целое число от 0 до 1 000 000 (введено: «-1»)" in text
    assert "1\xa0000\xa0000" in page.text  # a space that never breaks the number
    assert "1000000" not in text
    year = _text(client.get("/ui/orgs/s1/indicators?year=1990").text)
    assert "не меньше 2000 " in year  # a year is never split: «2000», not «2 000»


def test_the_subject_filter_keeps_an_abbreviation_in_capitals(
    client: TestClient, db: Database
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    for url in ("/ui/orgs/s1/people", "/ui/orgs/s1/pairs", "/ui/orgs/s1"):
        page = client.get(url).text
        assert '<option value="obzr">ОБЗР</option>' in page, url
        assert '<option value="physics">физика</option>' in page, url
        assert "обзр" not in page, url


def test_the_proposals_status_filter_offers_all_once(client: TestClient, db: Database) -> None:
    """Empty means «ожидают решения» there: a second «все» showed only the open ones."""
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1").text
    status = re.search(r'<select name="status">(.*?)</select>', page, re.S)
    assert status is not None
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', status.group(1))
    assert [title for _, title in options].count("все") == 1
    assert ("all", "все") in options
    assert ("", "все") not in options
    people = re.search(
        r'<select name="side">(.*?)</select>', client.get("/ui/orgs/s1/people").text, re.S
    )
    assert people is not None
    assert '<option value="">все</option>' in people.group(1)


def test_a_whole_number_answer_shows_without_a_decimal_point(
    client: TestClient, db: Database
) -> None:
    org = org_id(db, "s1")
    whole = person(db, org, "mentor", "m1", name="Борисова Ирина", records={"experience": 37.0})
    half = person(db, org, "mentor", "m2", name="Волков Игорь", records={"experience": 2.5})
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get(f"/ui/orgs/s1/people/{whole}/edit")
    assert page.status_code == 200
    assert re.search(r'<input type="number" name="q.experience"[^>]*value="37"', page.text)
    assert 'value="37.0"' not in page.text
    # a fraction stays a number the field accepts (its value is always written with a point)
    other = client.get(f"/ui/orgs/s1/people/{half}/edit").text
    assert re.search(r'<input type="number" name="q.experience"[^>]*value="2.5"', other)


@pytest.mark.parametrize(
    "kind", ["indicators", "trend", "coverage", "waiting", "satisfaction", "load"]
)
def test_a_chart_of_a_new_school_reads_in_russian_numbers_from_zero(
    client: TestClient, db: Database, kind: str
) -> None:
    """A school with no answers yet drew «−0.04 … 0.04» on the satisfaction chart's axis."""
    org = org_id(db, "s1")
    person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2)
    person(db, org, "mentee", "e1", name="Сидоров Олег Петрович")
    sign_in(client, db, token(db, "curator", "s1"))
    chart = client.get(f"/ui/orgs/s1/charts/{kind}.svg")
    assert chart.status_code == 200
    labels = re.findall(r"<!-- (.*?) -->", chart.text)  # matplotlib names each text it draws
    assert labels
    assert not [t for t in labels if re.search(r"\d\.\d", t)], labels
    assert not [t for t in labels if t.startswith(("−", "-"))], labels
    if kind in ("satisfaction", "load", "waiting"):  # counts: whole ticks only
        assert not [t for t in labels if re.fullmatch(r"\d+,\d+", t)], labels


def test_a_satisfaction_indicator_counts_its_questionnaires_without_a_denominator(
    client: TestClient, db: Database
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.get("/ui/orgs/s1/indicators?year=2024").text
    row = re.search(r'<tr data-indicator="mentee_satisfaction">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    assert cells[1:3] == ["0 анкет", "не нужен"]  # not «0 | анкет» across two columns


def test_a_denominators_file_that_is_not_a_workbook_is_explained_in_russian(
    client: TestClient, db: Database
) -> None:
    value = token(db, "curator", "s1")
    text = ("Код школы;Учебный год\ns1;2024/25\n").encode()
    answer = client.post(
        "/api/v1/denominators/imports",
        files={"file": ("знаменатели.xlsx", text)},
        headers=auth(value),
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("Файл не загружен: файл не читается как XLSX")
    assert "zip" not in detail
    sign_in(client, db, value)
    page = client.post(
        "/ui/denominators/import",
        files={"file": ("знаменатели.xlsx", text)},
        data={"return_to": "/ui/orgs/s1/indicators"},
    )
    assert page.status_code == 422
    shown = _text(page.text)
    assert "Файл не загружен: файл не читается как XLSX" in shown
    assert "zip" not in shown


def test_the_base_of_mentors_lists_competences_in_one_case(
    client: TestClient, db: Database
) -> None:
    import io

    from openpyxl import load_workbook

    org = org_id(db, "s1")
    records = {"subjects": ["physics", "obzr", "math"]}
    person(db, org, "mentor", "m1", name="Петрова Анна Ивановна", capacity=2, records=records)
    base = client.get("/api/v1/orgs/s1/bases/mentors", headers=auth(token(db, "curator", "s1")))
    assert base.status_code == 200
    rows = list(load_workbook(io.BytesIO(base.content)).worksheets[0].iter_rows(values_only=True))
    header = rows[1]
    row = next(r for r in rows if "Петрова Анна Ивановна" in r)
    assert row[header.index("Ключевые компетенции")] == "физика; ОБЗР; математика"


def test_an_import_form_with_an_unknown_side_is_422_naming_the_field(
    client: TestClient, db: Database
) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    page = client.post(
        "/ui/orgs/s1/import", files={"file": ("m.csv", b"a;b\n1;2\n")}, data={"side": "teachers"}
    )
    assert page.status_code == 422  # the address is right: the form's choice is not
    text = _text(page.text)
    assert "«Чьи анкеты» — «teachers»: можно выбрать «наставников» или «наставляемых»" in text


def test_an_api_filter_out_of_its_choices_names_them_in_russian(
    client: TestClient, db: Database
) -> None:
    answer = client.get(
        "/api/v1/orgs/s1/groups?status=done", headers=auth(token(db, "curator", "s1"))
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert (error["column"], error["value"]) == ("status", "done")
    assert error["message"] == "допустимы: 'active' или 'ended'"  # not pydantic's «… or …»
