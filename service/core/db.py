"""Engines, transactions and migrations.

Every unit of work is one transaction opened by :meth:`Database.write` or :meth:`Database.read`:
it commits when the block ends and rolls back on any error, so nothing is half written. A web
request owns one such transaction (``service.core.deps``: ``SessionDep`` and ``WriteSessionDep``);
domain functions take the ``session`` of their caller and never open one of their own, except a
matching run, which reads, solves outside any transaction and then writes.
SQL parameters are never logged (``hide_parameters``): they hold names and e-mail addresses.
On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` (the database's write lock is
taken at once, so two writers queue instead of both reading stale counts); on PostgreSQL the
workflow locks the rows it decides on with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Executable, Integer, bindparam, create_engine, event
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "EncodedJSON", "alembic_config", "among", "columns", "upgrade"]

_SQLITE_BUSY_MS = 30_000


class EncodedJSON(str):
    """A JSON document encoded before its transaction (``json.dumps``), stored as it is.

    A big import encodes its answers before taking SQLite's write lock, so that the lock is held
    for the writing only (see ``service.people.people``)."""


def _json_dumps(value: Any) -> str:
    """The engines' JSON serializer: ``json.dumps``, except for an :class:`EncodedJSON`."""
    return str(value) if isinstance(value, EncodedJSON) else json.dumps(value)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _private_file(database: str) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it.

    SQLite gives its -wal and -shm files the mode of the database file.
    """
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_engine(url: str, echo: bool, busy_ms: int = _SQLITE_BUSY_MS) -> Engine:
    # A request's session may be opened in one worker thread and closed in another (FastAPI
    # runs a dependency's set-up and tear-down apart); it is never used by two at once.
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        json_serializer=_json_dumps,
        connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.close()
        # SQLite's own lower() knows only ASCII: a search for «иванова» must find «Иванова».
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("nastavnik_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def among(column: Any, values: Any) -> ColumnElement[bool]:
    """``column IN (values)`` for any number of integer ids, or ``column IN (subquery)``.

    The ids are written into the statement as integer literals (``int()`` of each: nothing can be
    injected) instead of one bound parameter each: PostgreSQL refuses a statement of more than
    65,535 parameters and SQLite one of more than 32,766, and a school of 40,000 people has more.
    """
    if hasattr(values, "subquery") or hasattr(values, "_is_clause_element"):
        return column.in_(values)
    ids = sorted({int(v) for v in values})
    found: ColumnElement[bool] = column.in_(
        bindparam("ids", ids, type_=Integer, expanding=True, literal_execute=True, unique=True)
    )
    return found


def columns(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run a statement of columns in the session's transaction, its rows as the database gives
    them: without the ORM's loading of each row (about half the cost of a statement of hundreds
    of rows that a page runs at every view). Flushes first, as ``Session.execute`` does."""
    session.flush()
    return session.connection().execute(statement, params)


class Database:
    """The service's database: an engine and transactions for reading and for writing.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL; ``sqlite:///path`` or ``postgresql+psycopg://...``.
    """

    def __init__(self, url: str, echo: bool = False, busy_ms: int = _SQLITE_BUSY_MS) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _private_file(parsed.database)
            self.engine = _sqlite_engine(url, echo, busy_ms)
        else:
            self.engine = create_engine(
                url,
                echo=echo,
                hide_parameters=True,
                json_serializer=_json_dumps,
                pool_pre_ping=True,
                pool_size=10,
            )
        writer = self.engine.execution_options(nastavnik_write=True)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Open a write transaction; commit at the end of the block, roll back on error."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a transaction for reading; objects read stay usable after it ends."""
        with self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    """Return the Alembic configuration of the migrations shipped inside this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "service:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (create it when empty)."""
    from alembic import command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _private_file(str(parsed.database))
    command.upgrade(alembic_config(url), revision)
