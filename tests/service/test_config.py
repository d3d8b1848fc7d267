"""Configuration: defaults for development, and no default secret anywhere else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.core.config import DEFAULT_SECRET, Settings


def test_development_defaults_to_an_embedded_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NASTAVNIK_DATABASE_URL", "NASTAVNIK_ENVIRONMENT", "NASTAVNIK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.sqlite_path() is not None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("environment", ["production", "test"])
def test_default_secret_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="NASTAVNIK_SECRET_KEY"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASTAVNIK_ENVIRONMENT", "production")
    monkeypatch.setenv("NASTAVNIK_SECRET_KEY", "a-real-secret-of-production")
    monkeypatch.setenv("NASTAVNIK_DATABASE_URL", "postgresql+psycopg://u@db/nastavnik")
    settings = Settings()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.sqlite_path() is None
