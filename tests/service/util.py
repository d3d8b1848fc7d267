"""Small factories for service tests: schools, users with tokens, logins to the pages, people,
proposals, a live server."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import sessionmaker

from service.accounts.accounts import add_organisation, add_user
from service.core.config import Settings
from service.core.db import Database
from service.core.models import Answers, ApiToken, Consent, Person, Proposal, User
from service.core.security import hash_password, hash_token

SECRET = "test-secret-key-0123456789"
PASSWORD = "test-password-0123"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class RolledBackDatabase(Database):
    """A service database whose every transaction is a savepoint inside one outer transaction,
    rolled back by :meth:`dispose`: nothing a test writes outlives it, and no table is emptied.

    The application code is unchanged: ``read()`` and ``write()`` open sessions joined to the one
    connection (``join_transaction_mode="create_savepoint"``), so a failed request still rolls back
    only what its own transaction wrote. Requests must not run at once on it: tests of
    concurrency and of a live server use the ``live_db`` fixture.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._connection = self.engine.connect()
        self._outer = self._connection.begin()
        joined = sessionmaker(
            bind=self._connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        self._reader = self._writer = joined

    def dispose(self) -> None:
        """Roll back everything the test wrote and close the connection."""
        self._outer.rollback()
        self._connection.close()
        super().dispose()


def settings_for(db: Database, **overrides: Any) -> Settings:
    """Settings of a test application on ``db``."""
    return Settings(environment="test", secret_key=SECRET, database_url=db.url, **overrides)


def school(db: Database, code: str = "s1", municipality: str | None = "m1") -> str:
    """Create a school; return its code."""
    with db.write() as session:
        add_organisation(session, code, f"Школа {code}", municipality)
    return code


def token(db: Database, role: str = "curator", org: str | None = "s1", **kw: Any) -> str:
    """Create a user; return their token."""
    login = kw.pop("login", f"{role}-{org}-{time.monotonic_ns()}")
    with db.write() as session:
        return add_user(session, SECRET, login, role, org, **kw)


def login_of(db: Database, value: str) -> str:
    """The login of the user of the token ``value``; gives them the password ``PASSWORD``."""
    from sqlalchemy import select

    with db.write() as session:
        user = session.scalar(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_token(value, SECRET))
        )
        assert user is not None, "no user has this token"
        if user.password_hash is None:
            user.password_hash = hash_password(PASSWORD)
        return user.login


def sign_in(client: Any, db: Database, value: str) -> str:
    """Log ``client`` (a TestClient) in to the pages as the user of the token ``value``, as the
    login form does; it then sends the session's anti-forgery token with every request (the
    ``X-CSRF-Token`` header, as the forms' hidden field would). Returns that token."""
    from service.core.deps import CSRF_HEADER

    client.headers.pop(CSRF_HEADER, None)
    answer = client.post(
        "/login", data={"login": login_of(db, value), "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    found = _CSRF.search(client.get("/login").text)
    assert found is not None, "the pages carry no anti-forgery token"
    client.headers[CSRF_HEADER] = found.group(1)
    return found.group(1)


def auth(value: str) -> dict[str, str]:
    """The header of a bearer token."""
    return {"Authorization": f"Bearer {value}"}


def person(
    db: Database,
    org_id: int,
    side: str,
    external_id: str,
    *,
    name: str | None = None,
    consent: bool = True,
    capacity: int | None = None,
    records: dict[str, Any] | None = None,
    spec: str = "teacher",
) -> int:
    """Store a person with one version of answers; return the id."""
    with db.write() as session:
        p = Person(
            org_id=org_id,
            side=side,
            external_id=external_id,
            name=name or f"Имя {external_id}",
            spec=spec,
            consent=consent,
            capacity=capacity,
        )
        session.add(p)
        session.flush()
        session.add(Answers(person_id=p.id, version=1, spec=spec, records=records or {}))
        session.add(Consent(person_id=p.id, given=consent, source="questionnaire"))
        return p.id


def proposal(db: Database, org_id: int, mentee_id: int, mentor_id: int, score: float = 0.5) -> int:
    """Store an open proposal; return its id."""
    with db.write() as session:
        p = Proposal(
            org_id=org_id, mentee_id=mentee_id, mentor_id=mentor_id, score=score, reasons=["тест"]
        )
        session.add(p)
        session.flush()
        return p.id


def group(
    db: Database, org_id: int, mentor_id: int, form: str = "teacher_teacher", size: int = 3
) -> tuple[int, int]:
    """Store an active group of a mentor (as ``service.pairs`` forms one); return (id, size):
    the ``group_id`` and ``group_size`` of a pair written straight into the database."""
    from service.core.models import MentorGroup

    with db.write() as session:
        made = MentorGroup(org_id=org_id, mentor_id=mentor_id, form=form, size_limit=size)
        session.add(made)
        session.flush()
        return made.id, made.size_limit


def org_id(db: Database, code: str) -> int:
    """The id of a school."""
    from sqlalchemy import select

    from service.core.models import Organisation

    with db.read() as session:
        return int(session.scalar(select(Organisation.id).where(Organisation.code == code)) or 0)


@contextmanager
def live_server(db: Database, solver: Any = None, **overrides: Any) -> Iterator[str]:
    """Serve the real application with uvicorn on a free loopback port; yield its base URL."""
    import uvicorn

    from service.app import create_app

    app = create_app(settings_for(db, **overrides), db)
    if solver is not None:
        app.state.solver = solver
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
