"""Co-mentors (docs/rules.md#co-mentors): a mentee may need several distinct mentors at once
(docs/rules.md#co-mentors), e.g. a subject mentor and a tutor. ``Person.demand`` says how many; the database
holds a mentee's active pairs to it (``Pair.mentee_place`` against the mentee's demand)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, Invalid, NotFound
from service.core.models import Pair, PairStatus, Person, Side
from service.core.rules import MAX_DEMAND
from service.core.security import Actor, organisation_for
from service.pairs import pairs as pair_life
from service.pairs.schemas import DemandPublic

__all__ = ["demand_of", "set_demand"]


def _mentee(session: Session, actor: Actor, org: str, mentee_id: int) -> Person:
    organisation = organisation_for(session, actor, org)
    mentee = session.get(Person, mentee_id)
    if mentee is None or mentee.side != Side.mentee.value or mentee.org_id != organisation.id:
        raise NotFound("mentee", mentee_id)
    return mentee


def _view(session: Session, mentee: Person) -> DemandPublic:
    active = session.scalars(
        select(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.mentee_place)
    ).all()
    return DemandPublic(
        mentee_id=mentee.id,
        mentee_name=mentee.name,
        demand=mentee.demand,
        pairs=[pair_life.public(p) for p in active],
    )


def demand_of(session: Session, actor: Actor, org: str, mentee_id: int) -> DemandPublic:
    """How many mentors a mentee needs, and their active pairs."""
    return _view(session, _mentee(session, actor, org, mentee_id))


def set_demand(
    session: Session, actor: Actor, org: str, mentee_id: int, demand: int
) -> DemandPublic:
    """Set how many distinct mentors a mentee needs at once (1..3); not below their active
    pairs (end one first)."""
    if not 1 <= demand <= MAX_DEMAND:
        raise Invalid(
            f"Число наставников должно быть от 1 до {MAX_DEMAND}; получено {demand}.",
            [{"row": None, "column": "demand", "value": demand,
              "message": f"нужно целое число от 1 до {MAX_DEMAND}"}],
        )  # fmt: skip
    mentee = _mentee(session, actor, org, mentee_id)
    mentee = pair_life.locked_people(session, mentee.id)[mentee.id]
    active = session.scalars(
        select(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.mentee_place)
    ).all()
    if len(active) > demand:
        raise Conflict(
            "demand_below_pairs",
            f"У наставляемого {mentee.name or 'без имени'} действующих пар больше, чем {demand}: "
            "сначала закройте лишнюю пару.",
        )
    for place, pair in enumerate(active, start=1):  # the places 1..n, so a lower demand fits
        if pair.mentee_place != place:
            pair.mentee_place = place
            session.flush()
    old = mentee.demand
    mentee.demand = demand  # the pairs' copy follows by ON UPDATE CASCADE
    session.flush()
    session.expire_all()
    record(session, actor, "demand", "person", mentee.id, mentee.org_id, old=old, new=demand)
    return _view(session, session.get(Person, mentee_id) or mentee)
