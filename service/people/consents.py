"""Consents: whose consent is recorded, when, and what a withdrawal changes.

The regulation asks for the written consent of the mentor and of the mentee, and of the legal
representative of a minor; personal data are processed only with consent (docs/rules.md#consent). A consent arrives in two ways: as an answer of a questionnaire, or on paper, recorded by a
curator with the date written on the document. Every record says whose consent it is
(:class:`~service.core.models.ConsentKind`); the latest record of each kind is the state of that
consent, and ``Person.consent`` is True when every consent asked of the person is given (a
parent's only for a minor). Runs, suggestions and proposals use ``Person.consent`` alone.

A questionnaire answer counts only when it is new: uploading an export again whose consent answer
has not changed leaves a later paper record as it is — above all a withdrawal, which an old
spreadsheet must never undo.

When a person is left without consent:

* their open proposals are superseded: they can no longer be confirmed, and a curator should not
  have to decide on them one by one;
* their active pairs are *not* ended. Ending a pair is the curator's decision, with one of the
  regulation's reasons (docs/rules.md#replacement) and often a talk with both sides (a consent may be renewed, or
  the mentee needs a new mentor, not an end); ending it silently would also free the mentor's
  place and put the mentee back among those waiting without anyone deciding so. Such pairs are
  flagged on the pairs page and listed in the answer, so the curator decides.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.db import among
from service.core.errors import Invalid
from service.core.models import (
    Answers,
    Consent,
    ConsentKind,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Side,
    User,
    utcnow,
)
from service.core.security import Actor
from service.people.lookup import person_of
from service.people.questionnaires import load_spec_named
from service.people.schemas import ConsentEntry, ConsentPublic, ConsentStatus

__all__ = [
    "KIND_TITLES",
    "asked",
    "from_answers",
    "latest",
    "leave_out",
    "lock_open_proposals",
    "record_consent",
    "status",
    "summed_up",
]

KIND_TITLES = {
    ConsentKind.participant.value: "согласие участника на участие в программе и обработку "
    "персональных данных",
    ConsentKind.parent.value: "согласие родителя (законного представителя) несовершеннолетнего",
}
SOURCE_TITLES = {
    "questionnaire": "анкета",
    "curator": "на бумаге, внёс куратор",
    "link": "по личной ссылке",
}
PLURAL = {Side.mentor.value: "mentors", Side.mentee.value: "mentees"}


def _fields(spec_name: str, side: str) -> Any:
    return load_spec_named(spec_name).side(PLURAL[side]).fields


def asked(spec_name: str, side: str) -> list[str]:
    """Return the kinds of consent the questionnaire ``spec_name`` asks of a ``side``."""
    kinds = [ConsentKind.participant.value]
    if _fields(spec_name, side).parent_consent:
        kinds.append(ConsentKind.parent.value)
    return kinds


def from_answers(spec_name: str, side: str, records: dict[str, Any]) -> dict[str, bool]:
    """Return the consents given in one questionnaire's answers, by kind.

    The participant's consent is every consent question of the spec answered "yes" (given when
    the spec asks none, as ``features`` counts it); a parent's is the spec's parent question.
    """
    fields = _fields(spec_name, side)
    given = {ConsentKind.participant.value: all(records.get(k) is True for k in fields.consents)}
    if fields.parent_consent:
        given[ConsentKind.parent.value] = records.get(fields.parent_consent) is True
    return given


def needs_parent(spec_name: str, side: str, records: dict[str, Any]) -> bool:
    """Return whether a parent's consent is needed: a minor, by the answers, where it is asked."""
    from features import ImportFailed, answers_from_records

    if not _fields(spec_name, side).parent_consent:
        return False
    try:
        answers = answers_from_records(load_spec_named(spec_name), PLURAL[side], [records])
    except ImportFailed:
        return True  # the age cannot be read: counted as a minor, as features counts it
    return bool(answers.minor[0])


def summed_up(state: dict[str, bool], minor: bool) -> bool:
    """Return whether every consent asked is given: the participant's, and a parent's for a minor."""
    own = state.get(ConsentKind.participant.value, False)
    return own and (not minor or state.get(ConsentKind.parent.value, False))


def latest(session: Session, person_ids: Iterable[int]) -> dict[int, dict[str, bool]]:
    """Return the current state of each kind of consent of these people (their latest records)."""
    state: dict[int, dict[str, bool]] = defaultdict(dict)
    rows = session.execute(
        select(Consent.person_id, Consent.kind, Consent.given)
        .where(among(Consent.person_id, person_ids))
        .order_by(Consent.id)
    )
    for person_id, kind, given in rows:
        state[person_id][kind] = given
    return state


def lock_open_proposals(session: Session, person_ids: Any) -> None:
    """Lock the open proposals of these people (ids, or a query of ids), before the people.

    Confirming a proposal locks it and then its two people (``service.pairs.pairs``); taking the locks
    in the same order here makes a withdrawal and a confirmation about the same person wait for
    each other instead of deadlocking (PostgreSQL; SQLite has one writer at a time anyway).
    """
    session.scalars(
        select(Proposal.id)
        .where(
            among(Proposal.mentee_id, person_ids) | among(Proposal.mentor_id, person_ids),
            Proposal.status == ProposalStatus.open.value,
        )
        .order_by(Proposal.id)
        .with_for_update()
    ).all()


def leave_out(session: Session, actor: Actor, person: Person) -> tuple[list[int], list[int]]:
    """Supersede the open proposals of a person left without consent; return them and the
    active pairs the curator has to decide on (see the module's docstring for why).

    Call :func:`lock_open_proposals` first, before locking the person.
    """
    involved = (Proposal.mentee_id == person.id) | (Proposal.mentor_id == person.id)
    superseded = list(
        session.scalars(
            select(Proposal.id)
            .where(involved, Proposal.status == ProposalStatus.open.value)
            .order_by(Proposal.id)
        )
    )
    if superseded:
        session.execute(
            update(Proposal)
            .where(among(Proposal.id, superseded))
            .values(
                status=ProposalStatus.superseded.value,
                status_reason="no_consent",
                decided_at=utcnow(),
                decided_by=actor.user_id,
            )
        )
    pairs = list(
        session.scalars(
            select(Pair.id)
            .where(
                (Pair.mentee_id == person.id) | (Pair.mentor_id == person.id),
                Pair.status == PairStatus.active.value,
            )
            .order_by(Pair.id)
        )
    )
    return superseded, pairs


def _records(session: Session, person: Person) -> dict[str, Any]:
    records = session.scalar(
        select(Answers.records).where(
            Answers.person_id == person.id, Answers.version == person.version
        )
    )
    return dict(records or {})


def _check(person: Person, kind: str, signed_on: dt.date, today: dt.date) -> None:
    problems = []
    if kind not in asked(person.spec, person.side):
        problems.append(
            {"row": None, "column": "Чьё согласие", "value": kind,
             "message": "анкета этого участника не спрашивает согласия родителя"
             if kind == ConsentKind.parent.value else "неизвестный вид согласия"}
        )  # fmt: skip
    if signed_on > today:
        problems.append(
            {"row": None, "column": "Дата документа", "value": f"{signed_on:%d.%m.%Y}",
             "message": f"дата документа не может быть позже сегодняшней ({today:%d.%m.%Y})"}
        )  # fmt: skip
    if problems:
        raise Invalid("Согласие не записано: исправьте отмеченное.", problems)


def record_consent(
    session: Session,
    actor: Actor,
    org: str,
    person_id: int,
    given: bool,
    kind: str = ConsentKind.participant.value,
    signed_on: dt.date | None = None,
    zone: dt.tzinfo = dt.UTC,
    source: str = "curator",
) -> ConsentPublic:
    """Record a consent given on paper, or its withdrawal, with the date on the document.

    ``signed_on`` defaults to today in the schools' time ``zone``. ``source`` is "curator" (paper)
    or "link" (given on the participant's own link page, ``service.participation.consenting``). A person left without consent
    is left out of new proposals, and their open ones are superseded; their active pairs stay and
    are returned for the curator to decide on.

    Raises
    ------
    NotFound
        When the person is not one of school ``org``'s, or the actor may not see the school.
    Invalid
        For a parent's consent the person's questionnaire does not ask, or a date in the future.
    """
    today = utcnow().astimezone(zone).date()
    signed_on = signed_on or today
    lock_open_proposals(session, [person_id])
    person = person_of(session, actor, org, person_id, lock=True)
    _check(person, kind, signed_on, today)
    session.add(
        Consent(
            person_id=person.id,
            kind=kind,
            given=given,
            signed_on=signed_on,
            source=source,
            user_id=actor.user_id,
        )
    )
    session.flush()
    state = latest(session, [person.id])[person.id]
    minor = needs_parent(person.spec, person.side, _records(session, person))
    person.consent = summed_up(state, minor)
    superseded, pairs = leave_out(session, actor, person) if not person.consent else ([], [])
    record(
        session,
        actor,
        "consent",
        "person",
        person.id,
        person.org_id,
        kind=kind,
        given=given,
        signed_on=signed_on.isoformat(),
        source=source,
        consent=person.consent,
        superseded=superseded,
        pairs_to_decide=pairs,
    )
    return ConsentPublic(
        person_id=person.id,
        kind=kind,
        given=given,
        signed_on=signed_on,
        consent=person.consent,
        superseded=superseded,
        pairs_to_decide=pairs,
    )


def status(session: Session, actor: Actor, org: str, person_id: int) -> ConsentStatus:
    """Return the consents of one person of school ``org``."""
    person = person_of(session, actor, org, person_id)
    rows = session.execute(
        select(Consent, User.login)
        .outerjoin(User, User.id == Consent.user_id)
        .where(Consent.person_id == person.id)
        .order_by(Consent.id)
    ).all()
    history = [
        ConsentEntry(
            kind=c.kind,
            given=c.given,
            signed_on=c.signed_on,
            recorded_at=c.recorded_at,
            source=c.source,
            by=login,
        )
        for c, login in rows
    ]
    pairs = session.scalars(
        select(Pair.id)
        .where(
            (Pair.mentee_id == person.id) | (Pair.mentor_id == person.id),
            Pair.status == PairStatus.active.value,
        )
        .order_by(Pair.id)
    ).all()
    return ConsentStatus(
        person_id=person.id,
        name=person.name,
        side=person.side,
        spec=person.spec,
        consent=person.consent,
        asked=asked(person.spec, person.side),
        parent_needed=needs_parent(person.spec, person.side, _records(session, person)),
        current={entry.kind: entry for entry in history},
        history=history[::-1],
        active_pairs=list(pairs),
    )
