"""Read-only lists for the API and the pages: people, proposals, pairs of a school."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service.db import Database
from service.errors import NotFound
from service.models import AuditEvent, Organisation, Pair, PairStatus, Person, Proposal, Side
from service.pairs import PairView
from service.security import Actor, organisation_for, visible_organisations

__all__ = ["ProposalRow", "audit", "get_pair", "organisations", "pairs", "people", "proposals"]


def organisations(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Return the schools ``actor`` may see."""
    with db.read() as session:
        return [
            {"code": o.code, "name": o.name, "municipality": o.municipality}
            for o in session.scalars(visible_organisations(actor))
        ]


def people(db: Database, actor: Actor, org: str, side: str | None = None) -> list[dict[str, Any]]:
    """Return the people of a school (optionally one side) with their number of active pairs."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
        query = select(Person).where(Person.org_id == organisation.id).order_by(Person.id)
        if side is not None:
            query = query.where(Person.side == side)
        found = session.scalars(query).all()
        ids = [p.id for p in found]
        active = Counter[int]()
        for mentee_id, mentor_id in session.execute(
            select(Pair.mentee_id, Pair.mentor_id).where(
                Pair.status == PairStatus.active.value,
                Pair.mentee_id.in_(ids) | Pair.mentor_id.in_(ids),
            )
        ):
            active[mentee_id] += 1
            active[mentor_id] += 1
    return [
        {
            "id": p.id,
            "side": p.side,
            "external_id": p.external_id,
            "name": p.name,
            "spec": p.spec,
            "consent": p.consent,
            "capacity": p.places() if p.side == Side.mentor.value else None,
            "active_pairs": active.get(p.id, 0),
            "version": p.version,
        }
        for p in found
    ]


@dataclass(frozen=True)
class ProposalRow:
    """A proposal with the names a curator needs to decide on it."""

    proposal_id: int
    run_id: int | None
    mentee_id: int
    mentor_id: int
    mentee_name: str | None
    mentor_name: str | None
    score: float
    reasons: list[str]
    status: str
    form: str | None = None


def proposals(
    db: Database, actor: Actor, org: str, status: str | None = "open"
) -> list[ProposalRow]:
    """Return the proposals of a school, best first."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
        query = (
            select(Proposal)
            .where(Proposal.org_id == organisation.id)
            .order_by(Proposal.score.desc(), Proposal.id)
        )
        if status is not None:
            query = query.where(Proposal.status == status)
        return [
            ProposalRow(
                p.id,
                p.run_id,
                p.mentee_id,
                p.mentor_id,
                p.mentee.name,
                p.mentor.name,
                p.score,
                list(p.reasons),
                p.status,
                p.form,
            )
            for p in session.scalars(query)
        ]


def pairs(
    db: Database, actor: Actor, org: str, status: str | None = None
) -> list[tuple[PairView, str | None, str | None]]:
    """Return the pairs of a school (as mentee's school or mentor's), with the two names."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
        mentors = select(Person.id).where(Person.org_id == organisation.id)
        query = (
            select(Pair)
            .where((Pair.org_id == organisation.id) | Pair.mentor_id.in_(mentors))
            .order_by(Pair.id)
        )
        if status is not None:
            query = query.where(Pair.status == status)
        codes = dict(session.execute(select(Organisation.id, Organisation.code)).all())
        return [
            (PairView.of(p, codes[p.org_id]), p.mentee.name, p.mentor.name)
            for p in session.scalars(query)
        ]


def audit(db: Database, actor: Actor, org: str, limit: int = 100) -> list[dict[str, Any]]:
    """Return the latest audit events of a school, newest first."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.org_id == organisation.id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
        return [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "detail": e.detail,
            }
            for e in events
        ]


def get_pair(db: Database, actor: Actor, pair_id: int) -> PairView:
    """Return one pair the actor may see."""
    with db.read() as session:
        pair = session.get(Pair, pair_id)
        org = session.get(Organisation, pair.org_id) if pair else None
        if pair is None or org is None or not actor.sees(org):
            raise NotFound("pair", pair_id)
        return PairView.of(pair, org.code)
