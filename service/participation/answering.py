"""Questionnaires by link: the school's spec as a form, the same validation, stored as an import.

The form shows every question of the spec's side (:func:`questions`): its header, hint
(``description``), answers and whether it is required. The answers a browser sends are turned
into records (:func:`records_from_form`) and validated by ``features.answers_from_records``, the
rules that read exports; they are stored by ``service.people.people.store_one``, the code path of
an import (a new version of the answers, the same consent handling). Consent questions are not
shown: consent is given on its own page, with its text (``service.participation.consenting``).

A person may correct their answers until the run: while no proposal names them and they have
no pair (docs/rules.md#links). The identifying answer of a personal link is the person's own
and cannot be changed; a school link creates new people only (a known e-mail or code is refused:
its owner asks the curator for their personal link, so nobody overwrites another's answers).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Invalid
from service.core.models import Answers, Invitation, LinkPurpose, Pair, Person, Proposal
from service.core.security import Actor
from service.participation.schemas import QuestionnaireView
from service.people import consents
from service.people.answer_forms import (
    AUTOMATIC,
    DAYS,
    PLURAL,
    form_values,
    questions,
    records_from_form,
)
from service.people.answer_forms import side_of as _side
from service.people.people import store_one
from service.people.questionnaires import load_spec_named

__all__ = ["DAYS", "is_open", "questionnaire", "records_from_form", "submit"]


def is_open(session: Session, person: Person) -> bool:
    """Whether a person may still correct their answers: no proposal names them, no pair."""
    involved = (Proposal.mentee_id == person.id) | (Proposal.mentor_id == person.id)
    paired = (Pair.mentee_id == person.id) | (Pair.mentor_id == person.id)
    return (
        session.scalar(select(Proposal.id).where(involved).limit(1)) is None
        and session.scalar(select(Pair.id).where(paired).limit(1)) is None
    )


def _current(session: Session, person: Person) -> dict[str, Any]:
    records = session.scalar(
        select(Answers.records).where(
            Answers.person_id == person.id, Answers.version == person.version
        )
    )
    return dict(records or {})


def questionnaire(session: Session, invitation: Invitation) -> QuestionnaireView:
    """The questionnaire a link opens, with the person's current answers (none for a school link)."""
    person = invitation.person
    if person is not None:
        spec, side, answers = person.spec, person.side, _current(session, person)
        still_open = is_open(session, person)
    else:
        spec, side, answers, still_open = str(invitation.spec), str(invitation.side), {}, True
    return QuestionnaireView(
        purpose=invitation.purpose,
        spec=spec,
        side=side,
        title=_side(spec, side).title,
        person_name=person.name if person else None,
        answers=form_values(spec, side, answers),
        questions=questions(spec, side, person is not None),
        open=still_open,
    )


def submit(
    session: Session,
    actor: Actor,
    invitation: Invitation,
    records: dict[str, Any],
    today: date,
) -> tuple[Person, str]:
    """Validate and store the answers of a questionnaire link (records by question key, as
    :func:`records_from_form` reads a form); return the person and what changed.

    Raises
    ------
    Invalid
        With every problem, by question (``column`` is the question as the form shows it).
    Conflict
        When the person's answers are closed (a proposal or a pair exists), or a school link's
        answer names a person already known.
    """
    from features import ImportFailed, answers_from_records

    person = invitation.person
    spec = person.spec if person else str(invitation.spec)
    side = person.side if person else str(invitation.side)
    part = _side(spec, side)
    records = {k: v for k, v in records.items() if k not in AUTOMATIC}
    if person is not None:
        consents.lock_open_proposals(session, [person.id])
        person = session.scalar(select(Person).where(Person.id == person.id).with_for_update())
        assert person is not None
        if not is_open(session, person):
            raise Conflict(
                "answers_closed",
                "Анкету уже нельзя изменить: по ней подобрана пара. Если нужно что-то "
                "исправить, обратитесь к куратору.",
            )
        current = _current(session, person)
        records[part.fields.id] = person.external_id
        kept = {k: v for k, v in current.items() if k not in records}
        records = kept | records  # consent answers and the time stamp stay as they were
    if "submitted" in {q.key for q in part.questions} and not records.get("submitted"):
        records["submitted"] = today.isoformat()
    try:
        answers = answers_from_records(load_spec_named(spec), PLURAL[side], [records])
    except ImportFailed as exc:
        raise Invalid(
            f"Анкета не сохранена: проблем — {len(exc.issues)}. Исправьте отмеченное.",
            [{"row": None, "column": i.column, "value": _plain(i.value), "message": i.message}
             for i in exc.issues],
        ) from exc  # fmt: skip
    if person is None:
        external_id = str(answers.person_ids[0])
        known = session.scalar(
            select(Person.id).where(
                Person.org_id == invitation.org_id,
                Person.side == side,
                Person.external_id == external_id,
            )
        )
        if known is not None:
            raise Conflict(
                "already_known",
                "Анкета с таким адресом или кодом уже есть. Чтобы исправить её, попросите у "
                "куратора личную ссылку.",
            )
    return store_one(session, actor, invitation.org_id, side, spec, answers, person)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def purpose_is_questionnaire(invitation: Invitation) -> bool:
    """Whether a link opens a questionnaire (a person's or a school's)."""
    return invitation.purpose in (LinkPurpose.questionnaire.value, LinkPurpose.school.value)
