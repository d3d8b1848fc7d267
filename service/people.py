"""People and their questionnaires: imports, versions of answers, consents, capacity limits."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import consents
from service.audit import record
from service.db import Database
from service.errors import Conflict, Invalid, NotFound
from service.models import (
    MAX_CAPACITY,
    Answers,
    Consent,
    Import,
    Pair,
    PairStatus,
    Person,
    Side,
    utcnow,
)
from service.scoring import load_spec_named
from service.security import Actor, organisation_for

__all__ = ["ImportResult", "Limit", "import_answers", "set_capacity_limit"]

log = logging.getLogger("nastavnik.service.people")

SIDES = {"mentors": Side.mentor, "mentees": Side.mentee}


@dataclass(frozen=True)
class ImportResult:
    """What an import changed."""

    import_id: int
    created: int
    updated: int
    unchanged: int


def _plain(records: dict[str, Any]) -> dict[str, Any]:
    # Compare answers as the database returns them (JSON), not as pandas produced them.
    return json.loads(json.dumps(records, ensure_ascii=False, default=str))


def _parse(data: bytes, spec_name: str, side: str, filename: str | None) -> Any:
    from features import ImportFailed, read_answers

    spec = load_spec_named(spec_name)
    try:
        return read_answers(data, spec, side=side, filename=filename)
    except ImportFailed as exc:
        errors = [
            {"row": i.row, "column": i.column, "value": _value(i.value), "message": i.message}
            for i in exc.issues
        ]
        raise Invalid(
            f"Файл {filename or ''} не принят: проблем — {len(errors)}. Ничего не сохранено.",
            errors,
        ) from exc


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def import_answers(
    db: Database,
    actor: Actor,
    org: str,
    side: str,
    data: bytes,
    filename: str | None = None,
    spec: str = "teacher",
) -> ImportResult:
    """Import one questionnaire file of a school: new people are created, known ones updated.

    A person is known by the identifying answer of the spec (code or e-mail) within the school and
    side. Changed answers become a new version; the earlier versions are kept. A file with any
    problem is rejected whole (``Invalid`` with every problem) and nothing is stored.
    """
    if side not in SIDES:
        raise NotFound("side", side)
    with db.read() as session:
        organisation_for(session, actor, org)  # another school's curator learns nothing
    answers = _parse(data, spec, side, filename)
    try:
        with db.write() as session:
            organisation = organisation_for(session, actor, org)
            batch = Import(
                org_id=organisation.id,
                side=SIDES[side].value,
                spec=spec,
                filename=filename,
                user_id=actor.user_id,
            )
            session.add(batch)
            session.flush()
            identities = (
                Person.org_id == organisation.id,
                Person.side == SIDES[side].value,
                Person.external_id.in_([str(i) for i in answers.person_ids]),
            )
            # A changed consent answer may supersede proposals: lock them before the people.
            consents.lock_open_proposals(session, select(Person.id).where(*identities))
            known = {
                p.external_id: p
                for p in session.scalars(select(Person).where(*identities).with_for_update())
            }
            current: dict[int, dict[str, Any]] = dict(
                session.execute(
                    select(Answers.person_id, Answers.records)
                    .join(Person, Person.id == Answers.person_id)
                    .where(
                        Person.id.in_([p.id for p in known.values()]),
                        Answers.version == Person.version,
                    )
                ).all()
            )
            entries = _entry_times(answers)
            capacity = getattr(answers, "capacity", None) if side == "mentors" else None
            consent_state = consents.latest(session, [p.id for p in known.values()])
            left_out: list[Person] = []
            for k, person_id in enumerate(answers.person_ids):
                person = known.get(str(person_id))
                outcome = _upsert(
                    session,
                    batch,
                    person,
                    current.get(person.id) if person else None,
                    _Row(
                        str(person_id),
                        answers.names[k] if answers.names else None,
                        _plain(answers.records[k]),
                        bool(answers.minor[k]),
                        entries[k],
                        None if capacity is None else int(capacity[k]),
                    ),
                    consent_state[person.id] if person else {},
                )
                if person is not None and outcome == "withdrawn":
                    left_out.append(person)
                    outcome = "updated"
                setattr(batch, outcome, getattr(batch, outcome) + 1)
            withdrawn = _leave_out(session, actor, left_out)
            record(
                session,
                actor,
                "import",
                "import",
                batch.id,
                organisation.id,
                side=side,
                spec=spec,
                created=batch.created,
                updated=batch.updated,
                unchanged=batch.unchanged,
                consent_withdrawn=withdrawn,
            )
            log.info(
                "import %d into org %d: %d created, %d updated, %d unchanged",
                batch.id,
                organisation.id,
                batch.created,
                batch.updated,
                batch.unchanged,
            )
            return ImportResult(batch.id, batch.created, batch.updated, batch.unchanged)
    except IntegrityError as exc:  # the same new person imported by two requests at once
        raise Conflict(
            "concurrent_import",
            "Этот файл одновременно загружает другой пользователь; повторите загрузку.",
        ) from exc


@dataclass(frozen=True)
class _Row:
    """One person's row of an imported file."""

    external_id: str
    name: str | None
    records: dict[str, Any]
    minor: bool  # a parent's consent is needed, when the questionnaire asks for it
    entered: datetime | None
    capacity: int | None


def _upsert(
    session: Session,
    batch: Import,
    person: Person | None,
    current: dict[str, Any] | None,
    row: _Row,
    consent_state: dict[str, bool],
) -> str:
    """Create or update one person; return "created", "updated", "unchanged", or "withdrawn"
    (updated, and left without consent by this file)."""
    now = utcnow()
    before: dict[str, bool] = {}  # the consents of the answers this file replaces
    if person is not None and row.capacity is not None:
        person.capacity = row.capacity
    if person is None:
        person = Person(
            org_id=batch.org_id,
            side=batch.side,
            external_id=row.external_id,
            name=row.name,
            spec=batch.spec,
            capacity=row.capacity,
            version=1,
            entered_at=row.entered or now,
            updated_at=now,
        )
        session.add(person)
        outcome = "created"
    else:
        if (current, person.spec, person.name) == (row.records, batch.spec, row.name):
            return "unchanged"
        if current is not None:
            before = consents.from_answers(person.spec, batch.side, current)
        person.version += 1
        person.spec, person.name, person.updated_at = batch.spec, row.name, now
        outcome = "updated"
    session.add(
        Answers(
            person=person,
            version=person.version,
            spec=batch.spec,
            records=row.records,
            import_id=batch.id,
            created_at=now,
        )
    )
    had_consent = outcome == "updated" and person.consent
    person.consent = _consents(session, batch, person, before, row, consent_state)
    return "withdrawn" if had_consent and not person.consent else outcome


def _consents(
    session: Session,
    batch: Import,
    person: Person,
    before: dict[str, bool],
    row: _Row,
    state: dict[str, bool],
) -> bool:
    """Record the consents this file's answers change; return whether all asked are given.

    Only a changed answer is recorded: an unchanged one would undo a later paper record.
    """
    state = dict(state)
    for kind, given in consents.from_answers(batch.spec, batch.side, row.records).items():
        if before.get(kind) != given:
            state[kind] = given
            session.add(
                Consent(
                    person=person,
                    kind=kind,
                    given=given,
                    source="questionnaire",
                    import_id=batch.id,
                    user_id=batch.user_id,
                )
            )
    return consents.summed_up(state, row.minor)


def _leave_out(session: Session, actor: Actor, people: list[Person]) -> list[int]:
    """Supersede the open proposals of people this file left without consent."""
    for person in people:
        superseded, pairs = consents.leave_out(session, actor, person)
        record(
            session,
            actor,
            "consent",
            "person",
            person.id,
            person.org_id,
            source="questionnaire",
            consent=False,
            superseded=superseded,
            pairs_to_decide=pairs,
        )
    return [p.id for p in people]


def _entry_times(answers: Any) -> list[datetime | None]:
    """When each person entered the programme (the form's date), as UTC midnight."""
    dates = getattr(answers, "entry_dates", None) or [None] * len(answers.person_ids)
    return [None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC) for d in dates]


def _person(session: Session, actor: Actor, org: str, person_id: int) -> Person:
    organisation = organisation_for(session, actor, org)
    person = session.scalar(select(Person).where(Person.id == person_id).with_for_update())
    if person is None or person.org_id != organisation.id:
        raise NotFound("person", person_id)
    return person


@dataclass(frozen=True)
class Limit:
    """A mentor's places after a curator's limit, and the pairs they already have."""

    mentor_id: int
    capacity_limit: int | None
    places: int  # mentees the mentor may have at once
    active_pairs: int  # may exceed ``places``: a lower limit keeps the pairs already made


def set_capacity_limit(
    db: Database, actor: Actor, org: str, person_id: int, limit: int | None
) -> Limit:
    """Set (or clear, with None) a curator's lower limit of a mentor's mentees.

    A limit below the mentor's active pairs keeps those pairs (ending one is a decision with a
    reason, 000 §3.8) and gives no new places: runs, suggestions and confirmations count the
    active pairs against it.

    Raises
    ------
    NotFound
        When the mentor is not one of school ``org``'s, or the actor may not see the school.
    Invalid
        When ``limit`` is outside 0..3 or above what the mentor agreed to in the questionnaire:
        a limit only lowers the number of mentees.
    """
    if limit is not None and not 0 <= limit <= MAX_CAPACITY:
        raise Invalid(
            f"Предел наставляемых должен быть от 0 до {MAX_CAPACITY}; получено {limit}.",
            [{"row": None, "column": "Предел наставляемых", "value": limit,
              "message": f"нужно целое число от 0 до {MAX_CAPACITY}"}],
        )  # fmt: skip
    with db.write() as session:
        person = _person(session, actor, org, person_id)
        if person.side != Side.mentor.value:
            raise NotFound("mentor", person_id)
        agreed = MAX_CAPACITY if person.capacity is None else person.capacity
        if limit is not None and limit > agreed:
            raise Invalid(
                f"Предел {limit} больше, чем наставник готов взять по анкете ({agreed}): предел "
                "только уменьшает число наставляемых.",
                [{"row": None, "column": "Предел наставляемых", "value": limit,
                  "message": f"не больше, чем наставник указал в анкете ({agreed}); чтобы "
                             "увеличить, наставник отвечает на анкету заново"}],
            )  # fmt: skip
        person.capacity_limit = limit
        active = len(
            session.scalars(
                select(Pair.id).where(
                    Pair.mentor_id == person.id, Pair.status == PairStatus.active.value
                )
            ).all()
        )
        record(session, actor, "capacity_limit", "person", person.id, person.org_id, limit=limit)
        return Limit(person.id, limit, person.places(), active)
