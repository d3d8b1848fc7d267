"""A big import on both engines: its new people stay hidden until its last transaction, other
schools write meanwhile, a killed import leaves nothing visible, a competing import of the same
people is refused clearly, and no statement carries more than a few thousand parameters.

A big import writes its new people ``service.people.people._CHUNK`` (2,000) at a time; the
tests make the chunk small, so that a file of a few dozen rows goes the way of a 100,000-row one.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from service.app import create_app
from service.core.db import Database
from service.core.models import Answers, AuditEvent, Organisation, Person, utcnow
from service.core.security import Actor
from service.people import people
from tests.service.util import auth, live_server, org_id, school, settings_for, token

SAMPLE = Path(__file__).parents[2] / "examples" / "teachers" / "mentors.csv"


def _mentors(count: int, first: int = 0) -> bytes:
    """A teachers' mentors file of ``count`` people, known by the e-mails t{first}@… onwards."""
    rows = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()))
    header, template = rows[0], rows[1]
    email = header.index("Адрес электронной почты")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for k in range(first, first + count):
        row = list(template)
        row[email] = f"t{k}@school.example"
        writer.writerow(row)
    return out.getvalue().encode()


def _hidden(db: Database) -> tuple[int, int]:
    """(hidden organisations, people in them): what imports in progress or cut short hold."""
    with db.read() as session:
        holders = select(Organisation.id).where(Organisation.pending_import.is_not(None))
        return (
            int(session.scalar(select(func.count()).select_from(holders.subquery())) or 0),
            int(
                session.scalar(select(func.count(Person.id)).where(Person.org_id.in_(holders))) or 0
            ),
        )


def _visible(db: Database, org: str) -> list[str]:
    """The identities of the people of school ``org``, as its pages and the API list them."""
    with db.read() as session:
        return sorted(p.external_id for p in people.people(session, Actor.command_line(), org))


def test_a_big_import_is_hidden_until_its_last_transaction_and_other_schools_write_meanwhile(
    live_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = live_db
    monkeypatch.setattr(people, "_CHUNK", 10)
    school(db, "big")
    school(db, "other")
    big, other, admin = (
        token(db, "curator", "big"),
        token(db, "curator", "other"),
        token(db, "admin", None),
    )
    midway, go = threading.Event(), threading.Event()
    pause = people._pause

    def held(database: Database) -> None:  # the big import stops after its first chunk
        if not midway.is_set():
            midway.set()
            assert go.wait(120)
        pause(database)

    monkeypatch.setattr(people, "_pause", held)
    answers: dict[str, httpx.Response] = {}
    with live_server(db) as base:

        def upload() -> None:
            with httpx.Client(base_url=base, timeout=120) as client:
                answers["big"] = client.post(
                    "/api/v1/orgs/big/imports/mentors",
                    files={"file": ("big.csv", _mentors(40))},
                    headers=auth(big),
                )

        thread = threading.Thread(target=upload)
        thread.start()
        try:
            assert midway.wait(120)
            hidden_midway = _hidden(db)
            with httpx.Client(base_url=base, timeout=120) as client:
                written = client.post(
                    "/api/v1/orgs/other/imports/mentors",
                    files={"file": ("small.csv", _mentors(3, first=1000))},
                    headers=auth(other),
                )
                listed_midway = client.get("/api/v1/orgs/big/people", headers=auth(big)).json()
                schools = client.get("/api/v1/orgs", headers=auth(admin)).json()
            finished_first = "big" in answers
        finally:
            go.set()
            thread.join(timeout=120)
        with httpx.Client(base_url=base, timeout=120) as client:
            listed = client.get("/api/v1/orgs/big/people", headers=auth(big)).json()
    # Midway: a chunk of the big file is written, yet no one sees it; the other school's write
    # was stored while the big import was still running.
    assert hidden_midway == (1, 10)
    assert listed_midway == []
    assert sorted(s["code"] for s in schools) == ["big", "other"]
    assert written.status_code == 201, written.text
    assert written.json()["created"] == 3
    assert not finished_first
    assert answers["big"].status_code == 201, answers["big"].text
    assert answers["big"].json()["created"] == 40
    assert len(listed) == 40
    assert _hidden(db) == (0, 0)
    with db.read() as session:
        order = session.scalars(
            select(AuditEvent.org_id).where(AuditEvent.action == "import").order_by(AuditEvent.id)
        ).all()
    assert order == [org_id(db, "other"), org_id(db, "big")]


_KILLED = """
import sys, time
from pathlib import Path
from service.core.db import Database
from service.core.security import Actor
from service.people import people

people._CHUNK = 10
people._pause = lambda db: time.sleep(0.3)
data = Path(sys.argv[2]).read_bytes()
people.import_answers(Database(sys.argv[1]), Actor.command_line(), "s1", "mentors", data, "m.csv")
print("finished")
"""


def test_a_killed_import_leaves_no_visible_people_and_a_later_import_sweeps_it(
    live_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = live_db
    school(db, "s1")
    upload = tmp_path / "m.csv"
    upload.write_bytes(_mentors(60))
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED, db.url, str(upload)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 120
    while _hidden(db)[1] < 20:  # two chunks written, four to go
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.kill()  # SIGKILL: nothing of the importer runs after this
    out, _ = process.communicate(timeout=60)
    assert b"finished" not in out
    assert _visible(db, "s1") == []
    assert _hidden(db)[1] >= 20  # left as it was, unseen
    # The same file again: every person created once, whatever the killed import left.
    monkeypatch.setattr(people, "_CHUNK", 10)
    again = people.import_answers(db, Actor.command_line(), "s1", "mentors", _mentors(60), "m.csv")
    assert again.created == 60
    assert len(_visible(db, "s1")) == 60
    assert _hidden(db)[0] == 1  # a day may not have passed: it could still be running
    with db.write() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.pending_import.is_not(None))
            .values(created_at=utcnow() - timedelta(days=2))
        )
    later = people.import_answers(
        db, Actor.command_line(), "s1", "mentors", _mentors(2, 500), "x.csv"
    )
    assert later.created == 2
    assert _hidden(db) == (0, 0)
    with db.read() as session:
        assert session.scalar(select(func.count(Person.id))) == 62
        assert session.scalar(select(func.count(Answers.id))) == 62


def test_a_person_added_while_a_big_file_is_written_makes_a_clear_conflict(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people, "_CHUNK", 10)
    school(db, "s1")
    hide = people._hide

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        hidden = hide(*args, **kwargs)
        # Another curator imports one of the big file's new people before its last transaction.
        people.import_answers(db, Actor.command_line(), "s1", "mentors", _mentors(1, 7), "one.csv")
        return hidden

    monkeypatch.setattr(people, "_hide", meanwhile)
    with TestClient(create_app(settings_for(db), db)) as client:
        answer = client.post(
            "/api/v1/orgs/s1/imports/mentors",
            files={"file": ("big.csv", _mentors(30))},
            headers=auth(token(db, "curator", "s1")),
        )
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "concurrent_import"
    assert "повторите загрузку" in answer.json()["detail"]
    assert _visible(db, "s1") == ["t7@school.example"]
    assert _hidden(db) == (0, 0)
    with db.read() as session:
        assert session.scalar(select(func.count(Answers.id))) == 1


def test_no_statement_of_an_import_has_more_than_a_few_thousand_parameters(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people, "_CHUNK", 700)  # one hidden chunk of 700 and one of 100
    school(db, "s1")
    counts: list[int] = []

    def count(_conn: Any, _cursor: Any, _sql: str, parameters: Any, _ctx: Any, many: bool) -> None:
        # one set of parameters, or (executemany) a list of them
        nested = (
            many
            and isinstance(parameters, tuple | list)
            and parameters
            and isinstance(parameters[0], tuple | list | dict)
        )
        counts.append(len(parameters[0] if nested else parameters or ()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        created = people.import_answers(
            db, Actor.command_line(), "s1", "mentors", _mentors(800), "m.csv"
        ).created
        again = people.import_answers(
            db, Actor.command_line(), "s1", "mentors", _mentors(800, 400), "m.csv"
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert (created, again.created, again.unchanged) == (800, 400, 400)
    assert len(_visible(db, "s1")) == 1200
    assert 0 < max(counts) <= 3000
