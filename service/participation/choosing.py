"""Choice (docs/rules.md#choice): a mentee ranks suggested mentors, a mentor accepts or declines
a proposal; the curator still confirms every pair.

A mentee sees up to ``K`` mentors the service would suggest (``service.runs.runs.suggestions``):
their names, posts and subjects and the reasons, never a score. The ranking is stored
(:class:`~service.core.models.Ranking`) and read by the next matching run as a priority: a bonus
added to the ranked pairs' scores in the solver's problem (``service.runs.runs.RANK_BONUS``),
so a first choice wins over a slightly better-scored mentor but never makes a disallowed pair.
A mentor's answer (:class:`~service.core.models.ProposalResponse`) is shown to the curator.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Invalid, NotFound
from service.core.models import (
    Answers,
    Invitation,
    Person,
    Proposal,
    ProposalResponse,
    ProposalStatus,
    Ranking,
    Side,
)
from service.core.security import Actor, organisation_for
from service.participation.schemas import (
    ChoicePublic,
    ChoiceView,
    ProposalForMentor,
    SuggestedMentor,
)
from service.people.questionnaires import post_of
from service.runs.runs import suggestions

__all__ = ["K", "choices", "rank", "respond", "view"]

K = 5


def _suggested(session: Session, actor: Actor, mentee: Person) -> list[SuggestedMentor]:
    found = suggestions(session, actor, mentee.org.code, mentee.id, K)
    ids = [s.mentor_id for s in found]
    records: dict[int, Any] = dict(
        session.execute(
            select(Answers.person_id, Answers.records)
            .join(Person, Person.id == Answers.person_id)
            .where(Person.id.in_(ids), Answers.version == Person.version)
        ).all()
    )
    ranks = dict(
        session.execute(
            select(Ranking.mentor_id, Ranking.rank).where(Ranking.mentee_id == mentee.id)
        ).all()
    )
    specs = dict(session.execute(select(Person.id, Person.spec).where(Person.id.in_(ids))).all())
    return [
        SuggestedMentor(
            mentor_id=s.mentor_id,
            name=s.mentor_name,
            post=post_of(specs[s.mentor_id], "mentors", dict(records.get(s.mentor_id) or {})),
            reasons=s.reasons,
            rank=ranks.get(s.mentor_id),
        )
        for s in found
    ]


def _for_mentor(session: Session, mentor: Person) -> list[ProposalForMentor]:
    rows = session.execute(
        select(Proposal, ProposalResponse.accepted)
        .outerjoin(ProposalResponse, ProposalResponse.proposal_id == Proposal.id)
        .where(Proposal.mentor_id == mentor.id, Proposal.status == ProposalStatus.open.value)
        .order_by(Proposal.id)
    ).all()
    return [
        ProposalForMentor(
            proposal_id=p.id,
            mentee_name=p.mentee.name,
            reasons=list(p.reasons or []),
            accepted=accepted,
        )
        for p, accepted in rows
    ]


def view(session: Session, actor: Actor, invitation: Invitation) -> ChoiceView:
    """A mentee's suggestions (with their ranks) or a mentor's open proposals."""
    person = invitation.person
    assert person is not None
    shown = ChoiceView(side=person.side, person_name=person.name)
    if person.side == Side.mentee.value:
        shown.suggestions = _suggested(session, actor, person)
    else:
        shown.proposals = _for_mentor(session, person)
    return shown


def rank(
    session: Session, actor: Actor, invitation: Invitation, mentor_ids: list[int]
) -> ChoiceView:
    """Store a mentee's ranking (first choice first); an empty list clears it.

    Raises
    ------
    Invalid
        When a mentor is not among the mentee's suggestions, or is named twice.
    """
    person = invitation.person
    assert person is not None
    if person.side != Side.mentee.value:
        raise Invalid("Выбирать наставников может наставляемый.")
    offered = {s.mentor_id for s in _suggested(session, actor, person)}
    problems = [
        {"row": n, "column": "Наставник", "value": m, "message": "нет среди предложенных"}
        for n, m in enumerate(mentor_ids, start=1) if m not in offered
    ]  # fmt: skip
    if len(set(mentor_ids)) != len(mentor_ids):
        problems.append({"row": None, "column": "Наставник", "value": None,
                         "message": "один наставник выбран дважды"})  # fmt: skip
    if problems:
        raise Invalid("Выбор не сохранён: исправьте отмеченное.", problems)
    session.execute(delete(Ranking).where(Ranking.mentee_id == person.id))
    for n, mentor_id in enumerate(mentor_ids, start=1):
        session.add(Ranking(mentee_id=person.id, mentor_id=mentor_id, rank=n))
    session.flush()
    record(session, actor, "ranking", "person", person.id, person.org_id, ranked=len(mentor_ids))
    return view(session, actor, invitation)


def respond(
    session: Session,
    actor: Actor,
    invitation: Invitation,
    proposal_id: int,
    accepted: bool,
    note: str | None,
) -> ChoiceView:
    """Store a mentor's answer to one of their open proposals (it may be changed)."""
    person = invitation.person
    assert person is not None
    proposal = session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.mentor_id != person.id
        or proposal.status != ProposalStatus.open.value
    ):
        raise NotFound("proposal", proposal_id)
    found = session.scalar(
        select(ProposalResponse).where(ProposalResponse.proposal_id == proposal_id)
    )
    text = (note or "").strip()[:1000] or None
    if found is None:
        session.add(ProposalResponse(proposal_id=proposal_id, accepted=accepted, note=text))
    else:
        found.accepted, found.note = accepted, text
    session.flush()
    record(session, actor, "proposal_response", "proposal", proposal_id, proposal.org_id,
           accepted=accepted)  # fmt: skip
    return view(session, actor, invitation)


def choices(session: Session, actor: Actor, org: str) -> list[ChoicePublic]:
    """The school's open proposals with mentors' answers and mentees' ranks, for the curator."""
    organisation = organisation_for(session, actor, org)
    rows = session.execute(
        select(Proposal, ProposalResponse.accepted, Ranking.rank)
        .outerjoin(ProposalResponse, ProposalResponse.proposal_id == Proposal.id)
        .outerjoin(
            Ranking,
            (Ranking.mentee_id == Proposal.mentee_id) & (Ranking.mentor_id == Proposal.mentor_id),
        )
        .where(Proposal.org_id == organisation.id, Proposal.status == ProposalStatus.open.value)
        .order_by(Proposal.id)
    ).all()
    return [
        ChoicePublic(
            proposal_id=p.id,
            mentee_name=p.mentee.name,
            mentor_name=p.mentor.name,
            mentor_accepted=accepted,
            mentee_rank=r,
        )
        for p, accepted, r in rows
    ]
