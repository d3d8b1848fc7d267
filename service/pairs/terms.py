"""The term of a pair (docs/rules.md#term): its planned start and end, extension and change of
form by mutual consent (each recorded with the reason), and the end of the programme.

A pair is confirmed with a planned term of one year from its start (``pairs.new_pair``); the
curator moves the end within one month to one year of the start and may change the
form by mutual consent: the pair moves to the mentor's group of the new form. At the end of the term the
pair closes with the reason ``completed`` once both sides' final satisfaction survey is recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, Denied, FinalSurveyMissing, Invalid
from service.core.models import Feedback, MentorGroup, Pair, PairChange, PairStatus, Side
from service.core.rules import form_title, mentoring_forms
from service.core.security import Actor
from service.pairs import pairs as pair_life
from service.pairs.groups import group_public, locked_group
from service.pairs.schemas import GroupPublic, PairChangePublic, PairFinishPublic, PairPublic
from service.people.questionnaires import load_spec_named

__all__ = [
    "change_form",
    "changes",
    "extend_group",
    "extend_term",
    "finish",
    "finish_group",
    "finish_state",
]

_MAX_REASON = 2000


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text or len(text) > _MAX_REASON:
        raise Invalid(
            "Укажите причину изменения (согласие наставника и наставляемого).",
            [{"row": None, "column": "reason", "value": None,
              "message": f"нужен текст от 1 до {_MAX_REASON} символов"}],
        )  # fmt: skip
    return text


def _months(term: Any) -> str:
    months = term.months + 12 * term.years
    return "1 года" if months == 12 else f"{months} мес."


def _check_end(pair: Pair, planned_end: dt.date) -> dt.date:
    start = pair.planned_start or pair.started_at.date()
    shortest, longest = pair_life.form_term(pair.mentee.spec, pair.form)
    if not start + shortest <= planned_end <= start + longest:
        message = (
            f"наставничество длится от 1 месяца до 1 года; в форме «{form_title(pair.form)}» — "
            f"от {_months(shortest)} до {_months(longest)}: с {start:%d.%m.%Y} окончание — "
            f"с {start + shortest:%d.%m.%Y} по {start + longest:%d.%m.%Y}"
        )
        raise Invalid(
            f"Срок пары {pair.mentee.name or ''} — {pair.mentor.name or ''}: {message}.",
            [{"row": None, "column": "planned_end", "value": f"{planned_end:%d.%m.%Y}",
              "message": message}],
        )  # fmt: skip
    return start


def _change(
    session: Session, actor: Actor, pair: Pair, kind: str, old: str | None, new: str, why: str
) -> None:
    session.add(
        PairChange(
            pair_id=pair.id, kind=kind, old_value=old, new_value=new, reason=why,
            user_id=actor.user_id,
        )
    )  # fmt: skip
    record(session, actor, f"change_{kind}", "pair", pair.id, pair.org_id, old=old, new=new)


def extend_term(
    session: Session, actor: Actor, pair_id: int, planned_end: dt.date, reason: str
) -> PairPublic:
    """Move an active pair's planned end (an extension, or an earlier end), within one month to
    one year of its start; recorded with the reason."""
    why = _reason(reason)
    pair, _ = pair_life.locked_active_pair(session, actor, pair_id)
    start = _check_end(pair, planned_end)
    old = pair.planned_end
    if old == planned_end:
        raise Conflict("same_term", f"Пара уже заканчивается {planned_end:%d.%m.%Y}.")
    pair.planned_start = start
    pair.planned_end = planned_end
    _change(
        session, actor, pair, "term", old.isoformat() if old else None, planned_end.isoformat(), why
    )
    return pair_life.public(pair)


def extend_group(
    session: Session, actor: Actor, group_id: int, planned_end: dt.date, reason: str
) -> GroupPublic:
    """Move the planned end of every active member of a group (each within its own bounds)."""
    group = locked_group(session, actor, group_id)
    members = session.scalars(
        select(Pair.id)
        .where(Pair.group_id == group.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.place)
    ).all()
    if not members:
        raise Conflict("group_not_active", "В группе нет действующих участников.")
    for pair_id in members:
        pair = session.get(Pair, pair_id)
        if pair is not None and pair.planned_end != planned_end:
            extend_term(session, actor, pair_id, planned_end, reason)
    return group_public(session, group)


def change_form(session: Session, actor: Actor, pair_id: int, form: str, reason: str) -> PairPublic:
    """Change an active pair's form by mutual consent (docs/rules.md#term): the pair moves to the mentor's
    group of the new form (a place in it, or GroupFull); recorded with the reason."""
    why = _reason(reason)
    if form not in mentoring_forms():
        raise Invalid(
            f"Неизвестная форма наставничества {form!r}.",
            [{"row": None, "column": "form", "value": form, "message": "нет такой формы"}],
        )
    pair, sides = pair_life.locked_active_pair(session, actor, pair_id)
    if Side.mentee.value not in sides:
        raise Denied("форму наставничества меняет куратор школы наставляемого")
    if form == pair.form:
        raise Conflict("same_form", f"Пара уже в форме «{form_title(form)}».")
    if form not in {f.key for f in load_spec_named(pair.mentee.spec).forms}:
        raise Invalid(
            f"Форма «{form_title(form)}» не из анкеты этой пары.",
            [{"row": None, "column": "form", "value": form,
              "message": "выберите форму той же анкеты"}],
        )  # fmt: skip
    mentor = pair_life.locked_people(session, pair.mentor_id)[pair.mentor_id]
    old_form, old_group = pair.form, pair.group_id
    group, place = pair_life.group_place(session, actor, mentor, pair.org_id, form)
    pair.form, pair.group_id, pair.group_size, pair.place = form, group.id, group.size_limit, place
    session.flush()
    if old_group is not None:
        pair_life.end_group_if_empty(session, old_group, "other")
    _change(session, actor, pair, "form", old_form, form, why)
    return pair_life.public(pair)


def changes(session: Session, actor: Actor, pair_id: int) -> list[PairChangePublic]:
    """The recorded changes of a pair's term and form, oldest first."""
    pair, _ = pair_life.pair_with_sides(session, actor, pair_id)
    found = session.scalars(
        select(PairChange).where(PairChange.pair_id == pair.id).order_by(PairChange.id)
    )
    return [
        PairChangePublic(
            kind=c.kind,
            old_value=c.old_value,
            new_value=c.new_value,
            reason=c.reason,
            at=c.at,
        )
        for c in found
    ]


def _missing_surveys(session: Session, pair: Pair) -> list[str]:
    given = set(
        session.scalars(
            select(Feedback.author).where(
                Feedback.pair_id == pair.id, Feedback.kind == "satisfaction"
            )
        )
    )
    return [side for side in (Side.mentee.value, Side.mentor.value) if side not in given]


def finish_state(session: Session, actor: Actor, pair_id: int) -> PairFinishPublic:
    """What the end of a pair's programme still needs: each side's final survey."""
    pair, _ = pair_life.pair_with_sides(session, actor, pair_id)
    missing = _missing_surveys(session, pair) if pair.status == PairStatus.active.value else []
    return PairFinishPublic(
        pair=pair_life.public(pair),
        missing_surveys=missing,
        finished=pair.status == PairStatus.completed.value,
    )


def finish(session: Session, actor: Actor, pair_id: int) -> PairFinishPublic:
    """Close a pair at the end of its programme (reason ``completed``), once both sides' final
    satisfaction survey is recorded; else FinalSurveyMissing names the sides."""
    pair, _ = pair_life.locked_active_pair(session, actor, pair_id)
    missing = _missing_surveys(session, pair)
    if missing:
        raise FinalSurveyMissing(pair.mentee.name, pair.mentor.name, missing)
    view = pair_life.end_pair(session, actor, pair_id, "completed")
    return PairFinishPublic(pair=view, missing_surveys=[], finished=True)


def finish_group(session: Session, actor: Actor, group_id: int) -> GroupPublic:
    """Close every active member of a group at the end of the programme; refused, naming each
    member, while any final survey is missing (nothing is closed then)."""
    group: MentorGroup = locked_group(session, actor, group_id)
    members = session.scalars(
        select(Pair)
        .where(Pair.group_id == group.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.place)
    ).all()
    if not members:
        raise Conflict("group_not_active", "В группе нет действующих участников.")
    problems = []
    for pair in members:
        missing = _missing_surveys(session, pair)
        if missing:
            problems.append(FinalSurveyMissing(pair.mentee.name, pair.mentor.name, missing).message)
    if problems:
        raise Conflict("final_survey_missing", " ".join(problems))
    for pair in members:
        pair_life.end_pair(session, actor, pair.id, "completed")
    return group_public(session, group)
