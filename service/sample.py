"""The demo school of ``make run``: the sample questionnaires and a curator with a fresh token."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from service.accounts import add_organisation, add_user
from service.config import Settings
from service.db import Database
from service.models import Organisation
from service.people import import_answers
from service.security import Actor

__all__ = ["DEMO_ORG", "load_sample"]

DEMO_ORG = "demo"


def load_sample(db: Database, settings: Settings, folder: Path, spec: str = "teacher") -> str:
    """Create the demo school (once), import ``folder``'s questionnaires, return a new token.

    Files whose names contain ``mentor`` are mentors' answers, ``mentee`` mentees'.
    Re-running is safe: known people are updated, not duplicated.
    """
    with db.read() as session:
        exists = session.scalar(select(Organisation.id).where(Organisation.code == DEMO_ORG))
    if exists is None:
        add_organisation(db, DEMO_ORG, "Демонстрационная школа", "Демо-район")
    for path in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.xlsx")):
        side = "mentees" if "mentee" in path.name else "mentors" if "mentor" in path.name else None
        if side is not None:
            import_answers(
                db, Actor.command_line(), DEMO_ORG, side, path.read_bytes(), path.name, spec
            )
    login = f"curator-{DEMO_ORG}-{_count_users(db) + 1}"
    return add_user(db, settings.secret_key, login, "curator", DEMO_ORG)


def _count_users(db: Database) -> int:
    from sqlalchemy import func

    from service.models import User

    with db.read() as session:
        return int(session.scalar(select(func.count(User.id))) or 0)
