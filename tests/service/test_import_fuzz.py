"""Hostile and random questionnaire files, through the real application over HTTP and through the
command line: each is refused with a Russian message saying what is wrong and where (or, rarely,
accepted), never a 500 or a traceback, and a refused file stores nothing (issue 9).

Also: a row naming another school of the service is refused (docs/rules.md#import-organisation),
and a failed import writes no personal data to any log.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app as cli
from service.core.db import Database
from service.core.models import Answers, AuditEvent, Consent, Import, Organisation, Person
from tests.service.util import auth, school, settings_for, token

SAMPLE = Path(__file__).parents[2] / "examples" / "teachers"
HEADERS = [
    "Адрес электронной почты",
    "ФИО",
    "Образовательная организация",
    "Должность",
    "Преподаваемые предметы",
    "Педагогический стаж (лет)",
    "Сколько наставляемых вы готовы взять (1–3)?",
]
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    school(db, "s1", "m1")
    school(db, "s2", "m1")
    app = create_app(settings_for(db, xlsx_unpacked_bytes=2 * 2**20, file_rows=200), db)
    with TestClient(app, follow_redirects=False) as found:
        found.headers.update(auth(token(db, "curator", "s1")))
        yield found


def _stored(db: Database) -> tuple[int, ...]:
    """What an import writes: people, answers, consents, imports, audit entries, and
    organisations (a big import's hidden holder of its new people: gone once the import ends,
    whatever its end)."""
    with db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Person, Answers, Consent, Import, AuditEvent, Organisation)
        )


def _refused(client: TestClient, db: Database, data: bytes, name: str) -> dict[str, Any] | None:
    """Upload ``data``; assert a 201, or a 4xx whose Russian message names the file and each
    problem's place, with nothing stored. Returns the refusal (None when accepted)."""
    before = _stored(db)
    answer = client.post(
        "/api/v1/orgs/s1/imports/mentors", files={"file": (name, data)}, data={"spec": "teacher"}
    )
    assert answer.status_code in (201, 422), (answer.status_code, answer.text[:500])
    if answer.status_code == 201:
        return None
    body = answer.json()
    assert body["code"] == "invalid"
    assert CYRILLIC.search(body["detail"]), body
    assert "Ничего не сохранено" in body["detail"] or body["errors"], body
    for item in body["errors"]:
        assert CYRILLIC.search(item["message"]), item
        assert item["row"] is None or item["row"] >= 1
    assert _stored(db) == before, "a refused file stored something"
    return dict(body)


def _xlsx(rows: list[list[Any]], merged: str | None = None, sheets: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merged:
        sheet.merge_cells(merged)
    for k in range(1, sheets):
        book.create_sheet(f"Лист{k + 1}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- random files -----------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["", " ", "учитель", "Физика", "=1+1", "\x00", "\x07текст", "a" * 5000, "3"])
_HEADER = st.sampled_from([*HEADERS, "", "ФИО", "Столбец"]) | _TEXT


@given(data=st.binary(max_size=3000))
@FUZZ
def test_random_bytes(client: TestClient, db: Database, data: bytes) -> None:
    _refused(client, db, data, "random.csv")


@given(
    header=st.lists(_HEADER, min_size=0, max_size=9),
    rows=st.lists(st.lists(_TEXT, max_size=10), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16", "koi8-r"]),
)
@FUZZ
def test_random_csv_shapes(
    client: TestClient,
    db: Database,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    encoding: str,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    _refused(client, db, out.getvalue().encode(encoding, errors="replace"), "анкеты.csv")


_CELL = (
    st.none()
    | _TEXT
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=False)
    | st.booleans()
    | st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1))
)


@given(
    header=st.lists(_HEADER.filter(lambda h: "\x00" not in h), max_size=8),
    rows=st.lists(st.lists(_CELL, max_size=8), max_size=5),
    merged=st.sampled_from([None, "A1:B1", "A2:A4", "B2:D3"]),
    sheets=st.integers(1, 3),
)
@FUZZ
def test_random_xlsx(
    client: TestClient,
    db: Database,
    header: list[str],
    rows: list[list[Any]],
    merged: str | None,
    sheets: int,
) -> None:
    from openpyxl.utils.exceptions import IllegalCharacterError

    try:
        data = _xlsx([header, *rows], merged, sheets)
    except IllegalCharacterError:
        return  # openpyxl itself refuses to write control characters into a cell
    _refused(client, db, data, "анкеты.xlsx")


# -- hostile files ----------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def _with_sheet(sheet: bytes) -> bytes:
    """A real workbook whose first sheet's XML is replaced by ``sheet``."""
    with zipfile.ZipFile(io.BytesIO(_xlsx([HEADERS]))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet
    return _zip(parts)


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY file SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&file;</t></is></c></row></sheetData></worksheet>"""


def _bomb() -> bytes:
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
    body = row * 4000  # 4 MB of XML, a few kilobytes packed
    return _with_sheet(
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + body + b"</sheetData></worksheet>"
    )


HOSTILE = {
    "bomb": (_bomb, "распаковывается"),
    "entities": (lambda: _with_sheet(LAUGHS), "XLSX"),
    "external entity": (lambda: _with_sheet(EXTERNAL), "XLSX"),
    "truncated": (lambda: _xlsx([HEADERS, ["a@b.ru"]])[:700], "XLSX"),
    "zip of no workbook": (lambda: _zip({"hello.txt": b"hi"}), "XLSX"),
    "old xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "XLS"),
    "empty": (lambda: b"", "пуст"),
    "only a header": (lambda: ";".join(HEADERS).encode("cp1251"), "ни одной анкеты"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_by_the_api(client: TestClient, db: Database, kind: str) -> None:
    make, says = HOSTILE[kind]
    name = "анкеты.csv" if kind == "only a header" else "анкеты.xlsx"  # a CSV, named as one
    refusal = _refused(client, db, make(), name)
    assert refusal is not None
    text = refusal["detail"] + " ".join(i["message"] for i in refusal["errors"])
    assert says in text, text
    assert "root:" not in text  # no file of the server read through an entity


def test_hostile_and_random_files_are_refused_by_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    files = {kind: make() for kind, (make, _) in HOSTILE.items()}
    files["random"] = bytes(range(256)) * 3
    files["control characters"] = ";".join(HEADERS).encode() + b"\na@b.ru;\x07\x00;x\n"
    for kind, data in files.items():
        path = tmp_path / "mentors.xlsx"
        path.write_bytes(data)
        found = runner.invoke(
            cli,
            [
                "match",
                "--mentors",
                str(path),
                "--mentees",
                str(SAMPLE / "mentees.csv"),
                "--out",
                str(tmp_path / "out.xlsx"),
            ],
        )
        assert found.exit_code == 1, (kind, found.output, found.exception)
        assert isinstance(found.exception, SystemExit), (kind, found.exception)
        assert "Traceback" not in found.output
        assert CYRILLIC.search(found.output), (kind, found.output)
        assert not (tmp_path / "out.xlsx").exists()


# -- another school in the organisation column ------------------------------------------------


def _sample(org_column: list[str]) -> bytes:
    lines = (SAMPLE / "mentors.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines))
    column = rows[0].index("Образовательная организация")
    for row, value in zip(rows[1:], org_column, strict=False):
        row[column] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows[: len(org_column) + 1])
    return out.getvalue().encode()


def test_rows_naming_another_school_are_refused(client: TestClient, db: Database) -> None:
    data = _sample(["Школа s1", "школа  S1", "ООО «Ромашка»", "«Школа s2»", "Школа s1"])
    refusal = _refused(client, db, data, "mentors.csv")
    assert refusal is not None
    assert [(e["row"], e["column"], e["value"]) for e in refusal["errors"]] == [
        (5, "Образовательная организация", "«Школа s2»")
    ]
    assert "другая школа («Школа s2»)" in refusal["errors"][0]["message"]
    assert "«Школа s1»" in refusal["errors"][0]["message"]
    # The school's own name written differently, or an organisation the service does not know
    # (an enterprise's mentor, docs/rules.md#organisation), is accepted.
    accepted = _refused(client, db, _sample(["Школа s1", "школа  S1", "ООО «Ромашка»"]), "m.csv")
    assert accepted is None


def test_a_file_over_the_headcount_stores_nothing_and_a_big_one_leaves_no_holder(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The headcount refuses a file before anything is written; a file of more new people than
    one chunk goes through a hidden organisation, which is gone once the import ends."""
    from service.people import people

    monkeypatch.setattr(people, "_CHUNK", 2)  # three new people: two chunks, hidden first
    school(db, "s1", "m1")
    app = create_app(settings_for(db, people_per_school=3), db)
    with TestClient(app) as client:
        client.headers.update(auth(token(db, "curator", "s1")))
        before = _stored(db)
        answer = client.post(
            "/api/v1/orgs/s1/imports/mentors",
            files={"file": ("m.csv", (SAMPLE / "mentors.csv").read_bytes())},
        )
        assert answer.status_code == 422, answer.text
        assert "допускается не больше 3" in answer.json()["detail"]
        assert _stored(db) == before
        good = _sample(["Школа s1"] * 3)
        assert (
            client.post("/api/v1/orgs/s1/imports/mentors", files={"file": ("m.csv", good)}).json()[
                "created"
            ]
            == 3
        )
        listed = client.get("/api/v1/orgs/s1/people").json()
    assert len(listed) == 3
    after = _stored(db)
    assert after[0] == before[0] + 3  # people
    assert after[1] == before[1] + 3  # one version of answers each
    assert after[-1] == before[-1]  # no hidden organisation is left


# -- no personal data in the logs -------------------------------------------------------------


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


def test_a_failed_import_logs_no_personal_data(client: TestClient, db: Database) -> None:
    lines = (SAMPLE / "mentors.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines))
    people = rows[1:6]
    # Two failures: a bad value in one row (parsing), and a person of another school (store).
    bad = [row[:] for row in people]
    bad[2][rows[0].index("Педагогический стаж (лет)")] = "много"
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], *bad])
    other = _sample(["Школа s2"] * 5)
    personal = {v for row in people for v in row[1:3]}  # e-mail and ФИО
    assert personal
    assert all("@" in row[1] for row in people)

    handler = _Everything()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "sqlalchemy", "uvicorn")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        for data in (out.getvalue().encode(), other):
            answer = client.post("/api/v1/orgs/s1/imports/mentors", files={"file": ("m.csv", data)})
            assert answer.status_code == 422
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    logged = "\n".join(handler.lines)
    assert handler.lines, "nothing was logged at all: the test would prove nothing"
    leaked = sorted(value for value in personal if value in logged)
    assert not leaked, leaked
