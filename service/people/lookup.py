"""Finding one person of a school the user may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.core.models import Person, Side
from service.core.security import Actor, organisation_for

__all__ = ["person_of"]


def person_of(
    session: Session,
    actor: Actor,
    org: str,
    person_id: int,
    side: Side | None = None,
    lock: bool = False,
) -> Person:
    """Return one person of school ``org`` (of ``side`` when given), or raise NotFound.

    ``lock`` locks the person's row for the rest of the transaction (PostgreSQL; SQLite's write
    transaction holds the database's lock anyway).
    """
    organisation = organisation_for(session, actor, org)
    query = select(Person).where(Person.id == person_id)
    person = session.scalar(query.with_for_update() if lock else query)
    if person is None or person.org_id != organisation.id:
        raise NotFound(side.value if side else "person", person_id)
    if side is not None and person.side != side.value:
        raise NotFound(side.value, person_id)
    return person
