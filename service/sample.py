"""The demo school of ``make run``: the sample questionnaires and a curator with a fresh token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from service.accounts.accounts import add_organisation, add_user
from service.core.config import Settings
from service.core.db import Database
from service.core.errors import Invalid
from service.core.models import Organisation
from service.core.security import Actor
from service.people.people import import_answers

__all__ = ["DEMO_ORG", "Demo", "load_sample"]

DEMO_ORG = "demo"


@dataclass(frozen=True, slots=True)
class Demo:
    """The demo curator made by :func:`load_sample` and what happened to each sample file."""

    login: str
    password: str
    token: str
    report: list[str]


def load_sample(db: Database, settings: Settings, folder: Path, spec: str = "teacher") -> Demo:
    """Create the demo school (once), import ``folder``'s questionnaires; make a new curator
    with a fresh random password (for the pages) and a token (for the API).

    Files whose names contain ``mentor`` are mentors' answers, ``mentee`` mentees'.
    Re-running is safe: known people are updated, not duplicated. Also returns one line per file
    saying what happened to it (a file that does not fit the spec is reported and skipped).
    """
    with db.read() as session:
        exists = session.scalar(select(Organisation.id).where(Organisation.code == DEMO_ORG))
    if exists is None:
        with db.write() as session:
            add_organisation(session, DEMO_ORG, "Демонстрационная школа", "Демо-район")
    report = []
    for path in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.xlsx")):
        side = "mentees" if "mentee" in path.name else "mentors" if "mentor" in path.name else None
        if side is None:
            continue
        try:
            result = import_answers(
                db, Actor.command_line(), DEMO_ORG, side, path.read_bytes(), path.name, spec
            )
        except Invalid as exc:
            report.append(f"{path.name}: {exc.message}")
            continue
        report.append(
            f"{path.name}: новых — {result.created}, обновлено — {result.updated}, "
            f"без изменений — {result.unchanged}"
        )
    login = f"curator-{DEMO_ORG}-{_count_users(db) + 1}"
    password = secrets.token_urlsafe(9)  # 12 characters, printed once by `make run`
    with db.write() as session:
        token = add_user(
            session,
            settings.secret_key,
            login,
            "curator",
            DEMO_ORG,
            password=password,
            token_days=settings.token_days,
        )
    return Demo(login, password, token, report)


def _count_users(db: Database) -> int:
    from sqlalchemy import func

    from service.core.models import User

    with db.read() as session:
        return int(session.scalar(select(func.count(User.id))) or 0)
