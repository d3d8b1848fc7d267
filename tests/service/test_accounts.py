"""Schools, users and tokens through the real command line."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from service.cli import app
from service.core.db import Database
from service.core.models import ApiToken, AuditEvent, User
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
        tokens = session.scalars(select(ApiToken)).all()
        stored = [tokens[0].token_hash, user.login, user.role, user.password_hash]
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


def _api_status(db: Database, value: str) -> int:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.core.config import Settings

    settings = Settings(environment="test", secret_key="cli-test-secret-0123456789")
    with TestClient(create_app(settings, db)) as client:
        return client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {value}"}).status_code


def test_tokens_are_listed_added_and_revoked_and_passwords_set(
    cli: CliRunner, db: Database
) -> None:
    assert cli.invoke(app, ["orgs", "add", "s1", "--name", "Школа"]).exit_code == 0
    added = cli.invoke(
        app, ["users", "add", "--login", "ivanova", "--role", "curator", "--org", "s1"]
    )
    first = added.output.split()[-1]
    second = cli.invoke(app, ["users", "token", "ivanova", "--days", "30"]).output.split()[-1]
    assert _api_status(db, first) == _api_status(db, second) == 200

    listed = cli.invoke(app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ivanova\tcurator\ts1\tпароля нет" in listed.output
    assert listed.output.count("токен № ") == 2
    assert first not in listed.output
    assert second not in listed.output

    with db.read() as session:
        second_id = max(session.scalars(select(ApiToken.id)))
    one = cli.invoke(app, ["users", "revoke", "ivanova", "--token", str(second_id)])
    assert one.exit_code == 0, one.output
    assert (_api_status(db, first), _api_status(db, second)) == (200, 401)
    assert cli.invoke(app, ["users", "revoke", "ivanova"]).exit_code == 0
    assert _api_status(db, first) == 401
    assert "отозван" in cli.invoke(app, ["users", "list"]).output

    short = cli.invoke(app, ["users", "passwd", "ivanova", "--password-stdin"], input="короткий\n")
    assert short.exit_code == 1
    assert "не меньше 10 символов" in short.output
    done = cli.invoke(app, ["users", "passwd", "ivanova"], input="длинный-пароль\nдлинный-пароль\n")
    assert done.exit_code == 0, done.output
    with db.read() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "длинный-пароль" not in stored
    assert "пароль задан" in cli.invoke(app, ["users", "list"]).output


def test_an_expired_token_is_refused(cli: CliRunner, db: Database) -> None:
    from datetime import timedelta

    from service.core.models import utcnow

    cli.invoke(app, ["orgs", "add", "s1", "--name", "Школа"])
    added = cli.invoke(app, ["users", "add", "--login", "a", "--role", "admin", "--days", "1"])
    value = added.output.split()[-1]
    assert _api_status(db, value) == 200
    with db.write() as session:
        for stored in session.scalars(select(ApiToken)):
            stored.expires_at = utcnow() - timedelta(seconds=1)
    assert _api_status(db, value) == 401
