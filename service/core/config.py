"""Configuration of the service: one pydantic-settings class read from ``NASTAVNIK_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_SECRET", "Settings", "get_settings"]

DEFAULT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Every field can be set through a ``NASTAVNIK_<FIELD>`` variable, e.g. ``NASTAVNIK_DATABASE_URL``.
    Outside ``environment="development"`` the default secret is refused, so a production server
    never hashes tokens with a key that everyone can read in this file.
    """

    model_config = SettingsConfigDict(env_prefix="NASTAVNIK_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///var/nastavnik.sqlite3",
        description="SQLAlchemy URL: a SQLite file (embedded default) or postgresql+psycopg://...",
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET,
        min_length=16,
        description="Key of the HMAC that turns bearer tokens into the hashes stored in the database.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0, description="Pairs below never proposed.")
    solver_workers: int = Field(default=2, ge=1, description="Threads that solve matching runs.")
    dask_scheduler: str | None = Field(
        default=None,
        description=(
            "Where municipality batches run: unset = in-process threads, 'local' = a local Dask "
            "cluster, 'tcp://host:port' = a Dask scheduler."
        ),
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Send the pages' cookies over HTTPS only (unset: in production only).",
    )
    session_idle_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="A page session ends after this long unused."
    )
    session_hours: int = Field(
        default=12, ge=1, le=24 * 7, description="A page session ends this long after login."
    )
    token_days: int = Field(
        default=365, ge=1, le=3650, description="How long a new API token works, in days."
    )
    login_attempts_per_minute: int = Field(
        default=20,
        ge=1,
        description="Failed logins allowed per minute for one login and for one address.",
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs and /openapi.json (unset: everywhere except production).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins (https://host) besides the server's own from which the pages may be "
            "posted, e.g. the public address behind a proxy."
        ),
    )

    upload_bytes: int = Field(
        default=20 * 2**20, ge=1024, description="Largest questionnaire file accepted, in bytes."
    )
    xlsx_unpacked_bytes: int = Field(
        default=200 * 2**20, ge=1024, description="Largest unpacked size of an XLSX, in bytes."
    )
    file_cells: int = Field(default=2_000_000, ge=1, description="Most cells of one file.")
    file_rows: int = Field(default=20_000, ge=1, description="Most questionnaires in one file.")
    parse_seconds: float = Field(
        default=60.0, gt=0, description="Reading one file stops after this many seconds."
    )
    people_per_school: int = Field(
        default=20_000, ge=1, description="Most people (mentors and mentees) of one school."
    )
    pairs_per_run: int = Field(
        default=4_000_000,
        ge=1,
        description="Most mentee-mentor pairs one matching run scores (mentees x mentors).",
    )

    timezone: str = Field(
        default="Europe/Moscow",
        description=(
            "IANA time zone of the schools: the dates on pages and in orders are local dates "
            "(times are stored in UTC)."
        ),
    )

    # -- branch participation (issue 12): participants' links and the outbox --
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address participants open: the links in e-mails start with it.",
    )
    link_days: int = Field(default=30, ge=1, le=366, description="Days a participant's link works.")
    link_failures: int = Field(
        default=10, ge=1, description="Failed link openings or codes per address in 5 minutes."
    )
    smtp_host: str | None = Field(
        default=None,
        description="Mail server; unset = no e-mail is sent, messages show on the outbox page.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_sender: str = Field(default="nastavnik@localhost", description="The From address.")
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_attempts: int = Field(default=5, ge=1, le=50, description="Tries before a message fails.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"NASTAVNIK_TIMEZONE must be an IANA time zone such as 'Europe/Moscow', "
                f"'Asia/Yekaterinburg'. Got {value!r} instead."
            ) from None
        return value

    @property
    def cookies_secure(self) -> bool:
        """Whether the pages' cookies carry ``Secure`` (HTTPS only)."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.environment == "production"

    @property
    def docs_enabled(self) -> bool:
        """Whether the API documentation (/docs, /openapi.json) is served."""
        if self.api_docs is not None:
            return self.api_docs
        return self.environment != "production"

    def file_limits(self) -> Any:
        """The limits of reading one questionnaire file (``features.limits.Limits``)."""
        from features.limits import Limits

        return Limits(
            upload_bytes=self.upload_bytes,
            unpacked_bytes=self.xlsx_unpacked_bytes,
            cells=self.file_cells,
            rows=self.file_rows,
            seconds=self.parse_seconds,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The schools' time zone."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Self:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                f"NASTAVNIK_SECRET_KEY must be set to a secret of your own when "
                f"NASTAVNIK_ENVIRONMENT={self.environment!r}; the default is for development only."
            )
        return self

    def sqlite_path(self) -> Path | None:
        """Return the file of a SQLite database URL, or None for another engine."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


@lru_cache
def get_settings() -> Settings:
    """Return the settings of this process (read once from the environment)."""
    return Settings()
