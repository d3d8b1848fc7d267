"""A curator corrects a person's answers: name, contacts, class or subjects, role, meeting format...

The correction is a new version of the person's answers (the earlier ones are kept), validated by
the rules that read an export (``features.answers_from_records``) and stored by the code path of
an import (:func:`service.people.people.store_one`: the same consent handling), then audited with
the questions changed.

No lost update: a correction names the version of the answers it was made from (the page's
hidden field, the API's ``version`` or ``If-Match``); when another curator, an import or the
person's own link stored a newer version meanwhile, it is refused (``EditedMeanwhile``) and
nothing is stored. The person's row is locked before the version is compared, so of two
corrections made from one version exactly one is stored.

Consent questions are not edited here (a consent on paper has its own page, with the date on the
document); the identifying answer (e-mail or code) may be corrected while no other person of the
school and side has it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, EditedMeanwhile, Invalid
from service.core.models import Answers, Person, Proposal, ProposalStatus, utcnow
from service.core.security import Actor
from service.people import consents
from service.people.answer_forms import PLURAL, form_values, questions, side_of
from service.people.lookup import person_of
from service.people.people import _active_counts, public, store_one
from service.people.questionnaires import load_spec_named
from service.people.schemas import PersonAnswers

__all__ = ["answers_of", "correct"]


def _current(session: Session, person: Person) -> dict[str, Any]:
    records = session.scalar(
        select(Answers.records).where(
            Answers.person_id == person.id, Answers.version == person.version
        )
    )
    return dict(records or {})


def answers_of(session: Session, actor: Actor, org: str, person_id: int) -> PersonAnswers:
    """A person of school ``org`` with their current answers and the questions a curator may
    correct (consent questions and the form's time stamp are not among them)."""
    person = person_of(session, actor, org, person_id)
    active = _active_counts(session, [person.id]).get(person.id, 0)
    return PersonAnswers(
        person=public(person, active),
        version=person.version,
        answers=form_values(person.spec, person.side, _current(session, person)),
        questions=questions(person.spec, person.side, personal=False),
    )


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def correct(
    session: Session,
    actor: Actor,
    org: str,
    person_id: int,
    changes: dict[str, Any],
    version: int,
) -> PersonAnswers:
    """Store a curator's correction of a person's answers (``changes``: answers by question key,
    canonical keys or the form's own words; a question left out keeps its answer, None clears
    it) made from answers ``version``.

    Raises
    ------
    EditedMeanwhile
        When the answers are no longer at ``version``: someone stored a newer one meanwhile.
    Invalid
        With every problem, each naming the question as the form shows it.
    Conflict
        When the corrected e-mail or code is another person's of the school.
    """
    from features import ImportFailed, answers_from_records

    consents.lock_open_proposals(session, select(Person.id).where(Person.id == person_id))
    person = person_of(session, actor, org, person_id, lock=True)
    if person.version != version:
        raise EditedMeanwhile(person.name, version, person.version)
    part = side_of(person.spec, person.side)
    editable = {q["key"] for q in questions(person.spec, person.side, personal=False)}
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise Invalid(
            f"Анкета не изменена: вопросов {', '.join(unknown)} нельзя изменить здесь "
            "(согласия записываются на странице «Согласия»).",
            [{"row": None, "column": key, "value": None,
              "message": "такого вопроса нет среди изменяемых"} for key in unknown],
        )  # fmt: skip
    current = _current(session, person)
    records = current | changes
    try:
        answers = answers_from_records(load_spec_named(person.spec), PLURAL[person.side], [records])
    except ImportFailed as exc:
        raise Invalid(
            f"Анкета не изменена: проблем — {len(exc.issues)}. Исправьте отмеченное.",
            [{"row": None, "column": i.column, "value": _plain(i.value), "message": i.message}
             for i in exc.issues],
        ) from exc  # fmt: skip
    new_id = str(answers.person_ids[0])
    if new_id != person.external_id:
        taken = session.execute(
            select(Person.id, Person.name).where(
                Person.org_id == person.org_id,
                Person.side == person.side,
                Person.external_id == new_id,
            )
        ).first()
        if taken is not None:
            header = part.question(part.fields.id).header
            raise Conflict(
                "identity_taken",
                f"{header}: «{new_id}» уже указан в анкете другого участника школы"
                f"{f' ({taken.name})' if taken.name else ''}; анкета не изменена.",
            )
        person.external_id = new_id
    changed = sorted(k for k in set(current) | set(answers.records[0]) if k in editable
                     and current.get(k) != _stored(answers.records[0].get(k)))  # fmt: skip
    stored, outcome = store_one(
        session, actor, person.org_id, person.side, person.spec, answers, person
    )
    if outcome != "unchanged":
        # A proposal was scored on the answers before: any change but the name and the
        # identifying answer may change its form, score or reasons; a new run proposes again.
        scored_on = set(changed) - {part.fields.name, part.fields.id}
        superseded = _supersede_open(session, actor, stored) if scored_on else 0
        record(session, actor, "edit", "person", stored.id, stored.org_id,
               questions=changed, version=stored.version, superseded=superseded)  # fmt: skip
    return answers_of(session, actor, org, stored.id)


def _supersede_open(session: Session, actor: Actor, person: Person) -> int:
    """Supersede the open proposals naming ``person``; return how many."""
    done = session.execute(
        update(Proposal)
        .where(
            (Proposal.mentee_id == person.id) | (Proposal.mentor_id == person.id),
            Proposal.status == ProposalStatus.open.value,
        )
        .values(
            status=ProposalStatus.superseded.value,
            status_reason="answers_changed",
            decided_at=utcnow(),
            decided_by=actor.user_id,
        )
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def _stored(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))
