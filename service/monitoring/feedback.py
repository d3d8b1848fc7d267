"""Feedback on a pair (at least monthly) and the satisfaction questionnaire at its end."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Denied
from service.core.models import Feedback, Side
from service.core.security import Actor
from service.monitoring.schemas import FeedbackPublic
from service.monitoring.surveys import OPEN_QUESTIONS, check_response
from service.pairs.pairs import pair_with_sides

__all__ = ["give_feedback", "responses"]


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
