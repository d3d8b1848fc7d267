"""The life of a pair: confirm or reject a proposal, end a pair, replace its mentor, feedback.

Capacity is guarded three times over: the transaction locks the rows it decides on (``SELECT ...
FOR UPDATE`` on PostgreSQL; on SQLite the write transaction holds the database's write lock from
its first statement), the count of active pairs is read after the lock, and the database refuses
a mentor's fourth active place or a mentee's second active pair (partial unique indexes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.audit import record
from service.db import Database
from service.errors import Conflict, Denied, Invalid, NotFound
from service.models import (
    Feedback,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Side,
    utcnow,
)
from service.scoring import score_members
from service.security import Actor
from service.surveys import check_response

__all__ = [
    "END_REASONS",
    "confirm",
    "end_pair",
    "give_feedback",
    "reject",
    "replace_mentor",
    "visible_sides",
]

# Regulation 000 §3.8 (replacement of a mentor) and the regular end of the programme.
END_REASONS = {
    "completed": "программа наставничества завершена",
    "contract_ended": "прекращение трудовых отношений",
    "transfer": "перевод на другую работу или в другую организацию",
    "mentor_request": "по просьбе наставника",
    "mentee_request": "по просьбе наставляемого",
    "non_performance": "неисполнение обязанностей наставника",
    "incompatibility": "психологическая несовместимость",
    "other": "иные обстоятельства",
}


@dataclass(frozen=True)
class PairView:
    """A pair as the API returns it.

    ``org`` is the mentee's school (the pair's own), ``mentor_org`` the mentor's, which differs
    for a virtual pair across schools. ``missing_consent`` names the sides of an active pair
    whose consent is no longer recorded: the curator decides what becomes of such a pair.
    """

    pair_id: int
    org: str
    mentee_id: int
    mentor_id: int
    form: str
    status: str
    started_at: Any
    ended_at: Any
    end_reason: str | None
    previous_pair_id: int | None
    proposal_id: int | None
    mentor_org: str | None = None
    missing_consent: tuple[str, ...] = ()

    @classmethod
    def of(cls, pair: Pair, org_code: str, mentor_org: str | None = None) -> PairView:
        """Describe ``pair`` (``mentor_org`` is read from the mentor when not given)."""
        missing: tuple[str, ...] = ()
        if pair.status == PairStatus.active.value:
            people = ((Side.mentee, pair.mentee), (Side.mentor, pair.mentor))
            missing = tuple(side.value for side, person in people if not person.consent)
        return cls(
            pair.id,
            org_code,
            pair.mentee_id,
            pair.mentor_id,
            pair.form,
            pair.status,
            pair.started_at,
            pair.ended_at,
            pair.end_reason,
            pair.previous_pair_id,
            pair.proposal_id,
            mentor_org or pair.mentor.org.code,
            missing,
        )


def _visible_org(session: Session, actor: Actor, org_id: int, entity: str, key: int) -> str:
    org = session.get(Organisation, org_id)
    if org is None or not actor.sees(org):
        raise NotFound(entity, key)
    return org.code


def visible_sides(session: Session, actor: Actor, pair: Pair) -> frozenset[str]:
    """Return the sides of ``pair`` whose school ``actor`` may see: ``"mentee"``, ``"mentor"``.

    A virtual pair joins two schools, and each school's curator is responsible for their own
    person: both may open the pair, record feedback of their own person and end the pair (their
    person leaves); only the mentee's school chooses the mentee a new mentor. Raises NotFound
    when the actor sees neither school.
    """
    schools = (
        (Side.mentee.value, session.get(Organisation, pair.org_id)),
        (Side.mentor.value, session.get(Organisation, pair.mentor.org_id)),
    )
    sides = frozenset(side for side, org in schools if org is not None and actor.sees(org))
    if not sides:
        raise NotFound("pair", pair.id)
    return sides


def _locked_people(session: Session, *ids: int) -> dict[int, Person]:
    # Always in id order, so that two transactions never wait for each other in a cycle.
    people = session.scalars(
        select(Person)
        .where(Person.id.in_(sorted(set(ids))))
        .order_by(Person.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {p.id: p for p in people}


def _take_place(session: Session, mentor: Person) -> int:
    """Return a free place (1..3) of ``mentor`` or raise Conflict; call with the mentor locked."""
    taken = set(
        session.scalars(
            select(Pair.place).where(
                Pair.mentor_id == mentor.id, Pair.status == PairStatus.active.value
            )
        )
    )
    places = mentor.places()
    if len(taken) >= places:
        raise Conflict(
            "mentor_full",
            f"У наставника (id {mentor.id}) нет свободных мест: занято {len(taken)} из {places}.",
            {"mentor_id": mentor.id, "taken": len(taken), "capacity": places},
        )
    return min(set(range(1, places + 1)) - taken)


def _check_free_mentee(session: Session, mentee: Person) -> None:
    current = session.scalar(
        select(Pair.id).where(Pair.mentee_id == mentee.id, Pair.status == PairStatus.active.value)
    )
    if current is not None:
        raise Conflict(
            "mentee_has_pair",
            f"У наставляемого (id {mentee.id}) уже есть действующая пара (id {current}).",
            {"pair_id": current},
        )


def _check_consent(*people: Person) -> None:
    for person in people:
        if not person.consent:
            who = "наставляемого" if person.side == Side.mentee.value else "наставника"
            raise Conflict("no_consent", f"Нет записанного согласия {who} (id {person.id}).")


def _insert_pair(session: Session, pair: Pair) -> None:
    session.add(pair)
    try:
        session.flush()
    except IntegrityError as exc:  # another transaction took the place first
        raise Conflict(
            "concurrent_change",
            "Пару не удалось создать: данные изменились одновременно. Обновите страницу.",
        ) from exc


def _locked_proposal(session: Session, proposal_id: int) -> Proposal:
    """The proposal, locked for this transaction (a second curator deciding on it waits)."""
    proposal = session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise NotFound("proposal", proposal_id)
    return proposal


def confirm(db: Database, actor: Actor, proposal_id: int) -> PairView:
    """Turn an open proposal into an active pair.

    Raises
    ------
    NotFound
        When the proposal does not exist or is another school's.
    Conflict
        ``already_decided``, ``mentor_full``, ``mentee_has_pair`` or ``no_consent``.
    """
    with db.write() as session:
        proposal = _locked_proposal(session, proposal_id)
        org_code = _visible_org(session, actor, proposal.org_id, "proposal", proposal_id)
        if proposal.status == ProposalStatus.superseded.value:
            # Withdrawing a consent supersedes the person's proposals: say so, not just "decided".
            _check_consent(proposal.mentee, proposal.mentor)
        if proposal.status != ProposalStatus.open.value:
            existing = session.scalar(select(Pair.id).where(Pair.proposal_id == proposal.id))
            raise Conflict(
                "already_decided",
                f"Предложение {proposal_id} уже рассмотрено (состояние: {proposal.status}).",
                {"status": proposal.status, "pair_id": existing},
            )
        people = _locked_people(session, proposal.mentee_id, proposal.mentor_id)
        mentee, mentor = people[proposal.mentee_id], people[proposal.mentor_id]
        _check_consent(mentee, mentor)
        _check_free_mentee(session, mentee)
        pair = Pair(
            org_id=proposal.org_id,
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            proposal_id=proposal.id,
            form=proposal.form or mentee.spec,
            place=_take_place(session, mentor),
            created_by=actor.user_id,
        )
        _insert_pair(session, pair)
        proposal.status = ProposalStatus.confirmed.value
        proposal.decided_at = utcnow()
        proposal.decided_by = actor.user_id
        record(session, actor, "confirm", "proposal", proposal.id, proposal.org_id, pair=pair.id)
        return PairView.of(pair, org_code)


def reject(db: Database, actor: Actor, proposal_id: int) -> None:
    """Reject an open proposal: the same pair is never proposed again."""
    with db.write() as session:
        proposal = _locked_proposal(session, proposal_id)
        _visible_org(session, actor, proposal.org_id, "proposal", proposal_id)
        if proposal.status not in (ProposalStatus.open.value, ProposalStatus.superseded.value):
            raise Conflict(
                "already_decided",
                f"Предложение {proposal_id} уже рассмотрено (состояние: {proposal.status}).",
                {"status": proposal.status},
            )
        proposal.status = ProposalStatus.rejected.value
        proposal.decided_at = utcnow()
        proposal.decided_by = actor.user_id
        record(session, actor, "reject", "proposal", proposal.id, proposal.org_id)


def _locked_active_pair(
    session: Session, actor: Actor, pair_id: int
) -> tuple[Pair, str, frozenset[str]]:
    pair = session.scalar(
        select(Pair)
        .where(Pair.id == pair_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if pair is None:
        raise NotFound("pair", pair_id)
    sides = visible_sides(session, actor, pair)
    if pair.status != PairStatus.active.value:
        raise Conflict(
            "pair_not_active",
            f"Пара {pair_id} уже не действует (состояние: {pair.status}).",
            {"status": pair.status},
        )
    return pair, session.get_one(Organisation, pair.org_id).code, sides


def _require_mentee_side(sides: frozenset[str]) -> None:
    if Side.mentee.value not in sides:
        raise Denied("заменить наставника может куратор школы наставляемого")


def _check_reason(reason: str) -> None:
    if reason not in END_REASONS:
        allowed = ", ".join(END_REASONS)
        raise Invalid(
            f"Неизвестная причина {reason!r}; допустимы: {allowed}.",
            [{"row": None, "column": "reason", "message": f"допустимы: {allowed}"}],
        )


def _close(pair: Pair, reason: str) -> None:
    pair.status = (PairStatus.completed if reason == "completed" else PairStatus.ended).value
    pair.ended_at = utcnow()
    pair.end_reason = reason


def end_pair(db: Database, actor: Actor, pair_id: int, reason: str) -> PairView:
    """End an active pair: ``completed`` for a finished programme, else ended with the reason.

    Either school of a virtual pair may end it: the mentor's school learns first that its mentor
    leaves (the end of a contract, a transfer), and the mentee then waits for a new mentor.
    """
    _check_reason(reason)
    with db.write() as session:
        pair, org_code, _ = _locked_active_pair(session, actor, pair_id)
        _close(pair, reason)
        record(session, actor, "end", "pair", pair.id, pair.org_id, reason=reason)
        return PairView.of(pair, org_code)


def replace_mentor(
    db: Database, actor: Actor, pair_id: int, mentor_id: int, reason: str
) -> PairView:
    """End a pair with ``reason`` and start a new one of the same mentee with another mentor.

    The old pair stays in the history; the new one refers to it by ``previous_pair_id``.
    Only the mentee's school replaces the mentor (:class:`Denied` for the mentor's school of a
    virtual pair): finding the mentee a mentor is the mentee's curator's task (000 §3.7).
    """
    _check_reason(reason)
    if reason == "completed":
        raise Invalid("Причина замены не может быть «программа завершена».")
    _check_allowed(db, actor, pair_id, mentor_id)
    with db.write() as session:
        pair, org_code, sides = _locked_active_pair(session, actor, pair_id)
        _require_mentee_side(sides)
        people = _locked_people(session, pair.mentee_id, mentor_id)
        mentee, mentor = people[pair.mentee_id], people[mentor_id]
        if mentor_id == pair.mentor_id:
            raise Conflict("same_mentor", "Новый наставник совпадает с прежним.")
        _check_consent(mentee, mentor)
        _close(pair, reason)
        session.flush()  # free the mentee's active slot before the new pair takes it
        new = Pair(
            org_id=pair.org_id,
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            previous_pair_id=pair.id,
            form=pair.form,
            place=_take_place(session, mentor),
            created_by=actor.user_id,
        )
        _insert_pair(session, new)
        record(
            session,
            actor,
            "replace_mentor",
            "pair",
            pair.id,
            pair.org_id,
            reason=reason,
            new_pair=new.id,
            old_mentor=pair.mentor_id,
            new_mentor=mentor.id,
        )
        return PairView.of(new, org_code)


def _check_allowed(db: Database, actor: Actor, pair_id: int, mentor_id: int) -> None:
    from service.runs import _current_member

    with db.read() as session:
        pair = session.get(Pair, pair_id)
        if pair is None:
            raise NotFound("pair", pair_id)
        _require_mentee_side(visible_sides(session, actor, pair))
        mentor = session.get(Person, mentor_id)
        if mentor is None or mentor.side != Side.mentor.value or not actor.sees(mentor.org):
            raise NotFound("mentor", mentor_id)
        mentee = pair.mentee
        if mentor.spec != mentee.spec:
            raise Conflict(
                "not_allowed", "Наставник отвечал на анкету другой формы наставничества."
            )
        _check_consent(mentee, mentor)
        scored = score_members(
            mentee.spec, [_current_member(session, mentee)], [_current_member(session, mentor)]
        )
    if not scored.allowed(0, 0):
        raise Conflict(
            "not_allowed",
            "Эта пара не допускается правилами (форма наставничества, организация или согласия).",
        )


def give_feedback(
    db: Database,
    actor: Actor,
    pair_id: int,
    author: str,
    kind: str,
    score: int | None,
    answers: dict[str, Any],
    comment: str | None,
) -> int:
    """Store feedback or a satisfaction questionnaire of one side of a pair; return its id.

    Raises
    ------
    NotFound
        When the pair does not exist or the actor sees neither of its schools.
    Denied
        When ``author`` is the person of the other school of a virtual pair: each school
        records what its own person says.
    Invalid
        With every problem of the answers (see :func:`service.surveys.check_response`).
    """
    with db.write() as session:
        pair = session.get(Pair, pair_id)
        if pair is None:
            raise NotFound("pair", pair_id)
        if author not in visible_sides(session, actor, pair):
            who = "наставляемого" if author == Side.mentee.value else "наставника"
            raise Denied(f"ответ {who} из другой школы записывает куратор его школы")
        response = check_response(kind, score, answers, comment)
        item = Feedback(
            pair_id=pair.id,
            author=author,
            kind=kind,
            score=response.score,
            answers=response.answers,
            comment=(comment or "").strip() or None,
            user_id=actor.user_id,
        )
        session.add(item)
        session.flush()
        record(session, actor, "create", "feedback", item.id, pair.org_id, pair=pair.id, kind=kind)
        return item.id
