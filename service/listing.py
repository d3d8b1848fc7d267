"""Read-only lists for the API and the pages: people, proposals, pairs of a school."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Database
from service.errors import NotFound
from service.models import (
    MAX_CAPACITY,
    AuditEvent,
    Feedback,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    Side,
)
from service.pairs import PairView, visible_sides
from service.security import Actor, organisation_for, visible_organisations
from service.surveys import OPEN_QUESTIONS

__all__ = [
    "MentorLoad",
    "PairDetail",
    "ProposalRow",
    "audit",
    "feedback",
    "get_pair",
    "mentor_load",
    "municipality",
    "organisations",
    "pair_detail",
    "pairs",
    "people",
    "proposals",
]


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
            "capacity_limit": p.capacity_limit,
            "agreed": (MAX_CAPACITY if p.capacity is None else p.capacity)
            if p.side == Side.mentor.value
            else None,
            "active_pairs": active.get(p.id, 0),
            "version": p.version,
        }
        for p in found
    ]


@dataclass(frozen=True)
class MentorLoad:
    """A mentor's places and the active pairs that take them, for the capacity limit page."""

    mentor: dict[str, Any]  # as :func:`people` gives it
    pairs: list[tuple[PairView, str | None]]  # active pairs with the mentee's name


def mentor_load(db: Database, actor: Actor, org: str, mentor_id: int) -> MentorLoad:
    """Return one mentor of school ``org`` with their active pairs (a mentee may be another
    school's, in a virtual pair: only the name is shown of them)."""
    found = next(
        (p for p in people(db, actor, org, Side.mentor.value) if p["id"] == mentor_id), None
    )
    if found is None:
        raise NotFound("mentor", mentor_id)
    with db.read() as session:
        codes = dict(session.execute(select(Organisation.id, Organisation.code)).all())
        active = session.scalars(
            select(Pair)
            .where(Pair.mentor_id == mentor_id, Pair.status == PairStatus.active.value)
            .order_by(Pair.id)
        ).all()
        return MentorLoad(
            found, [(PairView.of(p, codes[p.org_id], org), p.mentee.name) for p in active]
        )


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
            (PairView.of(p, codes[p.org_id], codes[p.mentor.org_id]), p.mentee.name, p.mentor.name)
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


@dataclass(frozen=True)
class PairDetail:
    """One pair as a page shows it to one user, with the names a curator needs.

    ``sides`` are the sides whose school the user sees (see :func:`service.pairs.visible_sides`);
    of the other school's person a page shows the name only.
    """

    view: PairView
    mentee_name: str | None
    mentor_name: str | None
    sides: frozenset[str]

    @property
    def orgs(self) -> list[str]:
        """The schools through which the user sees the pair (the mentee's first)."""
        codes = {Side.mentee.value: self.view.org, Side.mentor.value: self.view.mentor_org}
        return list(dict.fromkeys(c for side, c in codes.items() if side in self.sides and c))

    @property
    def org(self) -> str:
        """The first school through which the user sees the pair: where its links lead."""
        return self.orgs[0]


def _pair(session: Session, actor: Actor, pair_id: int) -> tuple[Pair, frozenset[str]]:
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise NotFound("pair", pair_id)
    return pair, visible_sides(session, actor, pair)


def pair_detail(db: Database, actor: Actor, pair_id: int) -> PairDetail:
    """Return one pair the actor may see (through either school), with both names."""
    with db.read() as session:
        pair, sides = _pair(session, actor, pair_id)
        view = PairView.of(pair, session.get_one(Organisation, pair.org_id).code)
        return PairDetail(view, pair.mentee.name, pair.mentor.name, sides)


def get_pair(db: Database, actor: Actor, pair_id: int) -> PairView:
    """Return one pair the actor may see (through the mentee's or the mentor's school)."""
    return pair_detail(db, actor, pair_id).view


def feedback(db: Database, actor: Actor, pair_id: int) -> list[dict[str, Any]]:
    """Return the feedback and satisfaction answers of one pair, oldest first.

    Of a response by the other school's person of a virtual pair, the comment and the open
    answers (their own words) are withheld; its scores stay, as the report counts them.
    """
    with db.read() as session:
        _, sides = _pair(session, actor, pair_id)
        rows = session.scalars(
            select(Feedback).where(Feedback.pair_id == pair_id).order_by(Feedback.id)
        ).all()
    return [_response(f, withheld=f.author not in sides) for f in rows]


def _response(item: Feedback, withheld: bool) -> dict[str, Any]:
    answers = dict(item.answers or {})
    if withheld:
        answers = {k: v for k, v in answers.items() if k not in OPEN_QUESTIONS}
    return {
        "feedback_id": item.id,
        "pair_id": item.pair_id,
        "author": item.author,
        "kind": item.kind,
        "score": item.score,
        "answers": answers,
        "comment": None if withheld else item.comment,
        "created_at": item.created_at,
        "withheld": withheld,
    }


def municipality(db: Database, actor: Actor, name: str) -> list[dict[str, Any]]:
    """Return the schools of a municipality with their counts, for a coordinator's batch run."""
    actor.require_municipality(name)
    with db.read() as session:
        orgs = session.scalars(
            visible_organisations(actor).where(Organisation.municipality == name)
        ).all()
        if not orgs:
            raise NotFound("municipality", name)
        ids = [o.id for o in orgs]
        people = Counter[tuple[int, str]](
            (org_id, side)
            for org_id, side in session.execute(
                select(Person.org_id, Person.side).where(
                    Person.org_id.in_(ids), Person.consent.is_(True)
                )
            )
        )
        active = Counter[int](
            session.scalars(
                select(Pair.org_id).where(
                    Pair.org_id.in_(ids), Pair.status == PairStatus.active.value
                )
            )
        )
        proposals = Counter[tuple[int, bool]]()
        for org_id, mentor_org in session.execute(
            select(Proposal.org_id, Person.org_id)
            .join(Person, Person.id == Proposal.mentor_id)
            .where(Proposal.org_id.in_(ids), Proposal.status == "open")
        ):
            proposals[(org_id, org_id != mentor_org)] += 1
    return [
        {
            "code": o.code,
            "name": o.name,
            "mentors": people[(o.id, Side.mentor.value)],
            "mentees": people[(o.id, Side.mentee.value)],
            "active_pairs": active[o.id],
            "open_proposals": proposals[(o.id, False)] + proposals[(o.id, True)],
            "across_schools": proposals[(o.id, True)],
        }
        for o in orgs
    ]
