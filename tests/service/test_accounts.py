"""Schools, users and tokens through the real command line."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from service.cli import app
from service.core.db import Database
from service.core.models import AuditEvent, User
from service.core.security import hash_token


@pytest.fixture
def db(live_db: Database) -> Database:
    """The command line opens the database itself and commits for real."""
    return live_db


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    from service.core.config import get_settings

    monkeypatch.setenv("NASTAVNIK_DATABASE_URL", db.url)
    monkeypatch.setenv("NASTAVNIK_SECRET_KEY", "cli-test-secret-0123456789")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_users_add_prints_a_token_once_and_stores_only_its_hash(
    cli: CliRunner, db: Database
) -> None:
    result = cli.invoke(
        app, ["orgs", "add", "school-7", "--name", "Школа № 7", "--municipality", "Армавир"]
    )
    assert result.exit_code == 0, result.output
    result = cli.invoke(
        app, ["users", "add", "--login", "ivanova", "--role", "curator", "--org", "school-7"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    assert len(token) >= 40
    with db.read() as session:
        user = session.scalars(select(User)).one()
        stored = [user.token_hash, user.login, user.role]
        audit = session.scalars(select(AuditEvent.action)).all()
    assert token not in stored
    assert stored[0] == hash_token(token, "cli-test-secret-0123456789")
    assert audit == ["create", "create"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add", "--login", "x", "--role", "curator"], "нужна организация"),
        (["users", "add", "--login", "x", "--role", "boss"], "неизвестна"),
        (["users", "add", "--login", "x", "--role", "curator", "--org", "nope"], "не найден"),
        (["orgs", "add", "школа", "--name", "X"], "латинских букв"),
    ],
)
def test_bad_commands_say_what_is_wrong(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output


def test_a_school_code_is_unique(cli: CliRunner) -> None:
    assert cli.invoke(app, ["orgs", "add", "s1", "--name", "A"]).exit_code == 0
    result = cli.invoke(app, ["orgs", "add", "s1", "--name", "B"])
    assert result.exit_code == 1
    assert "уже есть" in result.output
