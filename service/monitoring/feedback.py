"""Feedback on a pair (at least monthly) and the satisfaction questionnaire at its end."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.core.audit import record
from service.core.errors import Denied
from service.core.listing import Listing, ListParams, Page, choice, page_of, paginate
from service.core.models import Feedback, Pair, Person, Side
from service.core.security import Actor, organisation_for
from service.monitoring.schemas import FeedbackPublic, FeedbackRow
from service.monitoring.surveys import OPEN_QUESTIONS, check_response
from service.pairs.pairs import pair_with_sides

__all__ = ["FEEDBACK", "feedback_page", "give_feedback", "responses"]


def give_feedback(
    session: Session,
    actor: Actor,
    pair_id: int,
    author: str,
    kind: str,
    score: int | None,
    answers: dict[str, Any],
    comment: str | None,
) -> Feedback:
    """Store feedback or a satisfaction questionnaire of one side of a pair.

    Raises
    ------
    NotFound
        When the pair does not exist or the actor sees neither of its schools.
    Denied
        When ``author`` is the person of the other school of a virtual pair: each school
        records what its own person says.
    Invalid
        With every problem of the answers (see :func:`service.monitoring.surveys.check_response`).
    """
    pair, sides = pair_with_sides(session, actor, pair_id)
    if author not in sides:
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
    return item


def responses(session: Session, actor: Actor, pair_id: int) -> list[FeedbackPublic]:
    """Return the feedback and satisfaction answers of one pair, oldest first.

    Of a response by the other school's person of a virtual pair, the comment and the open
    answers (their own words) are withheld; its scores stay, as the report counts them.
    """
    _, sides = pair_with_sides(session, actor, pair_id)
    rows = session.scalars(
        select(Feedback).where(Feedback.pair_id == pair_id).order_by(Feedback.id)
    ).all()
    return [_public(f, withheld=f.author not in sides) for f in rows]


def _public(item: Feedback, withheld: bool) -> FeedbackPublic:
    answers = dict(item.answers or {})
    if withheld:
        answers = {k: v for k, v in answers.items() if k not in OPEN_QUESTIONS}
    return FeedbackPublic(
        feedback_id=item.id,
        pair_id=item.pair_id,
        author=item.author,
        kind=item.kind,
        score=item.score,
        answers=answers,
        comment=None if withheld else item.comment,
        created_at=item.created_at,
        withheld=withheld,
    )


# -- a school's feedback, one page at a time (branch pages2) -----------------------------------

_Mentee = aliased(Person, name="fb_mentee")
_Mentor = aliased(Person, name="fb_mentor")

FEEDBACK = Listing(
    search=[_Mentee.name, _Mentor.name],
    sorts={
        "created": [Feedback.created_at, Feedback.id],
        "score": [Feedback.score, Feedback.id],
        "mentee": [_Mentee.name, Feedback.id],
    },
    sort_columns={"created": "Дата", "score": "Оценка", "mentee": "Наставляемый"},
    filters={
        "kind": choice(Feedback.kind, {"feedback": "feedback", "satisfaction": "satisfaction"},
                       "Вид ответа"),
        "author": choice(Feedback.author, {s.value: s.value for s in Side}, "Кто отвечает"),
        "pair": lambda value: Feedback.pair_id == (int(value) if value.isdigit() else -1),
    },
    default_sort="-created",
    sort_titles={"-created": "новые сначала", "created": "давние сначала",
                 "score": "низкие оценки сначала", "mentee": "по наставляемому"},
)  # fmt: skip


def feedback_page(
    session: Session, actor: Actor, org: str, params: ListParams
) -> Page[FeedbackRow]:
    """One page of the feedback and satisfaction answers of a school's pairs (as the mentee's
    school or the mentor's): searched by either name, filtered by kind and author, sorted. The
    own words of the other school's person of a virtual pair are withheld, as for one pair."""
    organisation = organisation_for(session, actor, org)
    query: Any = (  # a row of several columns: paginate returns them as tuples
        select(Feedback, _Mentee.name, _Mentor.name, _Mentee.org_id, _Mentor.org_id)
        .join(Pair, Pair.id == Feedback.pair_id)
        .join(_Mentee, _Mentee.id == Pair.mentee_id)
        .join(_Mentor, _Mentor.id == Pair.mentor_id)
        .where((Pair.org_id == organisation.id) | (_Mentor.org_id == organisation.id))
    )
    found, total = paginate(session, query, FEEDBACK, params)
    items = []
    for item, mentee, mentor, mentee_org, mentor_org in found:
        own = {Side.mentee.value: mentee_org, Side.mentor.value: mentor_org}[item.author]
        public = _public(item, withheld=own != organisation.id)
        items.append(FeedbackRow(**public.model_dump(), mentee_name=mentee, mentor_name=mentor))
    return page_of(items, params, total)
