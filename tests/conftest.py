"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test session (worker).

PostgreSQL comes from ``NASTAVNIK_TEST_POSTGRES_URL`` (a server URL; each pytest-xdist worker
creates and later drops a database of its own on it). Without it the PostgreSQL tests skip,
unless ``NASTAVNIK_TEST_REQUIRE_POSTGRES=1``, when they fail.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test helpers live in the tests package (tests/service/util.py); make it importable however
# pytest is started (``pytest`` or ``python -m pytest``).
if str(Path(__file__).parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parents[1]))

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _require(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file of this test session."""
    from service.core.db import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'nastavnik.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this test session, dropped at its end."""
    import psycopg
    from sqlalchemy.engine import make_url

    from service.core.db import upgrade

    server = os.environ.get("NASTAVNIK_TEST_POSTGRES_URL")
    if not server:
        message = "NASTAVNIK_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"
        if _require("NASTAVNIK_TEST_REQUIRE_POSTGRES"):
            pytest.fail(message + " (NASTAVNIK_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"nastavnik_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = make_url(server).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=ENGINES)
def db(request: pytest.FixtureRequest) -> Iterator[object]:
    """An empty service database on each engine; whatever the test wrote is rolled back."""
    from tests.service.util import RolledBackDatabase

    database = RolledBackDatabase(request.getfixturevalue(f"{request.param}_url"))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=ENGINES)
def live_db(request: pytest.FixtureRequest) -> Iterator[object]:
    """A service database on each engine with real commits, for a live server and concurrent
    requests (each its own transaction); every row is deleted after the test."""
    from service.core.db import Database
    from service.core.models import Base

    database = Database(request.getfixturevalue(f"{request.param}_url"))
    try:
        yield database
    finally:
        with database.write() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        database.dispose()
