"""People and their questionnaires: imports, versions of answers, lists, capacity limits.

An import is one of the two explicit orchestrations of the service (the other is a matching run):
the file is parsed and validated, and the school's known people and their current answers are
read, outside any write transaction. A big file's new people are written in short transactions
into a hidden organisation that no one sees (:func:`_hide`), and the import's one write
transaction only moves them to the school with one ``UPDATE`` (:func:`_reveal`) and stores the
changes of known people in bulk (:func:`_store_file`): on SQLite a big file holds the write lock
for one chunk at a time and then for about a second, not for the copy of the whole file, and it
still appears whole or not at all.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core import collector
from service.core.audit import record
from service.core.db import Database, EncodedJSON, among, columns
from service.core.errors import Conflict, Invalid
from service.core.listing import Listing, ListParams, Page, choice, page_of, paginate
from service.core.models import (
    Answers,
    Consent,
    Import,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Side,
    utcnow,
)
from service.core.rules import MAX_CAPACITY
from service.core.security import Actor, organisation_for
from service.people import consents, reading
from service.people.answered import answered
from service.people.lookup import person_of
from service.people.questionnaires import forms_of, load_spec_named, post_of
from service.people.schemas import (
    ImportPublic,
    LimitPublic,
    MentorLoad,
    MentorPair,
    PersonPublic,
    PersonRemoved,
)

__all__ = [
    "PEOPLE",
    "archive",
    "import_answers",
    "mentor_load",
    "people",
    "people_page",
    "person_of",
    "remove",
    "school_counts",
    "set_capacity_limit",
    "store_one",
]

_Row = reading.Row

log = logging.getLogger("nastavnik.service.people.people")

SIDES = {"mentors": Side.mentor, "mentees": Side.mentee}


def import_answers(
    db: Database,
    actor: Actor,
    org: str,
    side: str,
    data: bytes,
    filename: str | None = None,
    spec: str = "teacher",
    limits: Any = None,
    max_people: int | None = None,
) -> ImportPublic:
    """Import one questionnaire file of a school: new people are created, known ones updated.

    Reading the file stops at ``limits`` (``features.limits.Limits``: bytes, unpacked XLSX size,
    cells, rows, seconds; the defaults when None); a file that would bring the school over
    ``max_people`` people is refused before anything is stored.

    A person is known by the identifying answer of the spec (code or e-mail) within the school and
    side. Changed answers become a new version; the earlier versions are kept. A file with any
    problem is rejected whole (``Invalid`` with every problem) and nothing is stored.

    More than ``_CHUNK`` new people are written in short transactions into a hidden organisation
    (:func:`_hide`) that no one sees, and the import's own transaction moves them to the school
    with one ``UPDATE`` (:func:`_reveal`): on SQLite other schools' writes wait for one chunk at
    most, not for the whole file, and the file still appears whole or not at all.
    """
    if side not in SIDES:  # a form's field (the API's path checks it first): 422, not 404
        allowed = "можно выбрать «наставников» или «наставляемых»"
        raise Invalid(
            f"Файл не принят: «Чьи анкеты» — «{side}»: {allowed}.",
            [{"row": None, "column": "Чьи анкеты", "value": side, "message": allowed}],
        )
    with db.read() as session:
        organisation_for(session, actor, org)  # another school's curator learns nothing
    with collector.heavy_work():
        return _import(db, actor, org, side, data, filename, spec, limits, max_people)


def _import(
    db: Database,
    actor: Actor,
    org: str,
    side: str,
    data: bytes,
    filename: str | None,
    spec: str,
    limits: Any,
    max_people: int | None,
) -> ImportPublic:
    from features.limits import DEFAULT

    # Everything that needs no lock is done before the write transaction: the rows as they will
    # be stored (a big file's in a worker process, reading.read_file), the consents each row's
    # answers give, other schools named in the file, the school's known people and their
    # current answers.
    read = reading.read_file(data, spec, side, filename, limits or DEFAULT)
    rows = read.rows
    if len(rows) > _CHUNK:  # what a big file became, out of full collections (core.collector)
        collector.settle()
    with db.read() as session:
        _check_organisations(session, org, read)
        organisation = organisation_for(session, actor, org)
        before = _Before.read(session, organisation.id, SIDES[side], rows)
        fresh = [r for r in rows if r.external_id not in before.known]
        if max_people is not None:
            _check_headcount(session, organisation, len(fresh), max_people)
    _sweep(db)
    hidden: _Hidden | None = None
    try:
        if len(fresh) > _CHUNK:
            hidden = _hide(db, actor, organisation.id, side, spec, filename, fresh)
        with db.write() as session:
            stored = _store_file(
                session, actor, org, side, spec, filename, rows, max_people, before, hidden
            )
        hidden = None  # its people are the school's now, and the holder is gone
        return stored
    except IntegrityError as exc:  # the same new person imported by two requests at once
        raise Conflict(
            "concurrent_import",
            "Этот файл одновременно загружает другой пользователь; повторите загрузку.",
        ) from exc
    finally:
        if hidden is not None:
            _discard(db, hidden.org_id)


_CHUNK = 2000  # new people per short transaction of a big import
_PAGE = 250  # rows per INSERT statement: a few thousand parameters (PostgreSQL's limit is 65,535)
# On SQLite, the pause after each chunk: a writer waiting for the lock retries every 100 ms
# (SQLite's busy handler), so a longer pause lets it in before the import takes the lock again.
_PAUSE = 0.12
_ABANDONED = timedelta(days=1)  # a hidden import this old was cut short (a crash): deleted


@dataclass(frozen=True)
class _Before:
    """What the write transaction of an import needs to know of the school before it begins:
    the people of the side whom the file names, and their current answers."""

    named: frozenset[str]  # the external ids of the file
    known: dict[str, int]  # external id -> person id, of the people known when read
    answers: dict[int, tuple[int, dict[str, Any]]]  # person id -> (version, current answers)

    @classmethod
    def read(cls, session: Session, org_id: int, side: Side, rows: list[_Row]) -> _Before:
        named = frozenset(r.external_id for r in rows)
        identities = (Person.org_id == org_id, Person.side == side.value)
        known = {
            external_id: person_id
            for external_id, person_id in session.execute(
                select(Person.external_id, Person.id).where(*identities)
            )
            if external_id in named
        }
        answers = {
            person_id: (version, records)
            for person_id, version, records in session.execute(
                select(Answers.person_id, Answers.version, Answers.records)
                .join(Person, Person.id == Answers.person_id)
                .where(among(Person.id, known.values()), Answers.version == Person.version)
            )
        }
        return cls(named, known, answers)


@dataclass(frozen=True)
class _Hidden:
    """A big import's new people, written into a hidden organisation before its transaction."""

    org_id: int  # the hidden organisation (``Organisation.pending_import``)
    import_id: int
    external_ids: frozenset[str]


def _pause(db: Database) -> None:
    if db.dialect == "sqlite":
        time.sleep(_PAUSE)


def _new_import(
    session: Session, actor: Actor, org_id: int, side: str, spec: str, filename: str | None
) -> Import:
    """The record of an import (its counts are set when it is stored), flushed for its id."""
    batch = Import(
        org_id=org_id, side=SIDES[side].value, spec=spec, filename=filename, user_id=actor.user_id
    )
    session.add(batch)
    session.flush()
    return batch


def _hide(
    db: Database,
    actor: Actor,
    org_id: int,
    side: str,
    spec: str,
    filename: str | None,
    fresh: list[_Row],
) -> _Hidden:
    """Write the new people of a file (with their answers and consents) into a new hidden
    organisation, ``_CHUNK`` people per transaction; the import's record is made with it.

    No one sees a hidden organisation (``Actor.sees``, ``visible_organisations``), so nothing of
    the file shows until :func:`_reveal`; what a crash leaves is deleted by a later import
    (:func:`_sweep`). Other schools may write between two chunks."""
    key = uuid.uuid4().hex
    with db.write() as session:
        holder = Organisation(
            code=f"~import-{key}",
            name="Загрузка файла (не завершена)",
            kind="school",
            pending_import=key,
        )
        session.add(holder)
        session.flush()
        batch = _new_import(session, actor, holder.id, side, spec, filename)
        origin = _Origin.of(batch)
    hidden = _Hidden(origin.org_id, batch.id, frozenset(r.external_id for r in fresh))
    try:
        now = utcnow()
        for start in range(0, len(fresh), _CHUNK):
            new = _NewPeople.of(origin, fresh[start : start + _CHUNK], now)
            with db.write() as session:
                _insert_people(session, new)
            _pause(db)  # after the last chunk too: a waiting writer goes before the reveal
    except BaseException:
        _discard(db, hidden.org_id)
        raise
    return hidden


@dataclass(frozen=True)
class _NewPeople:
    """New people as their ``INSERT`` statements bind them, prepared (answers encoded as JSON)
    before the transaction that writes them."""

    people: list[dict[str, Any]]
    answers: list[dict[str, Any]]  # "person_id" is set once the people are written
    consents: list[dict[str, Any]]  # likewise, from "external_id"

    @classmethod
    def of(cls, origin: _Origin, rows: list[_Row], now: datetime) -> _NewPeople:
        people: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        given: list[dict[str, Any]] = []
        for row in rows:
            people.append(
                {
                    "org_id": origin.org_id,
                    "side": origin.side,
                    "external_id": row.external_id,
                    "name": row.name,
                    "spec": origin.spec,
                    "capacity": row.capacity,
                    "consent": row.given,
                    "version": 1,
                    "entered_at": row.entered or now,
                    "updated_at": now,
                }
            )
            answers.append(
                {
                    "external_id": row.external_id,
                    "version": 1,
                    "spec": origin.spec,
                    "records": EncodedJSON(row.encoded),
                    "import_id": origin.import_id,
                    "created_at": now,
                }
            )
            given.extend(
                {
                    "external_id": row.external_id,
                    "kind": kind,
                    "given": value,
                    "source": "questionnaire",
                    "import_id": origin.import_id,
                    "user_id": origin.user_id,
                    "recorded_at": now,
                }
                for kind, value in row.consents.items()
            )
        return cls(people, answers, given)


def _insert_people(session: Session, new: _NewPeople) -> int:
    """Create the people of ``new`` with the first version of their answers and the consents
    these give (bulk statements of ``_PAGE`` rows); return how many were created."""
    if not new.people:
        return 0
    people = cast(Table, Person.__table__)
    paged = {"insertmanyvalues_page_size": _PAGE}
    created = session.execute(
        insert(people).returning(people.c.id, people.c.external_id),
        new.people,
        execution_options=paged,
    ).all()
    id_of = {external_id: person_id for person_id, external_id in created}
    for table, values in ((Answers.__table__, new.answers), (Consent.__table__, new.consents)):
        if values:
            for value in values:
                value["person_id"] = id_of[value["external_id"]]
            owned = cast(Table, table)
            bound = [{k: v for k, v in value.items() if k != "external_id"} for value in values]
            session.execute(insert(owned), bound, execution_options=paged)
    return len(created)


def _reveal(session: Session, hidden: _Hidden, batch: Import, org_id: int) -> None:
    """Move a big import's hidden people to their school and delete their holder: one
    ``UPDATE`` of their organisation in the import's transaction (their answers and consents
    follow them by their ids)."""
    people = cast(Table, Person.__table__)
    batch.org_id = org_id
    session.flush()
    session.execute(update(people).where(people.c.org_id == hidden.org_id).values(org_id=org_id))
    session.execute(delete(Organisation).where(Organisation.id == hidden.org_id))


def _discard(db: Database, holder_id: int) -> None:
    """Delete a hidden organisation with its people, their answers and consents and its import
    record, ``_CHUNK`` people per transaction (an import that failed, or was cut short)."""
    people = cast(Table, Person.__table__)
    try:
        while True:
            with db.write() as session:
                ids = list(
                    session.scalars(
                        select(people.c.id).where(people.c.org_id == holder_id).limit(_CHUNK)
                    )
                )
                if ids:
                    for table in (Consent.__table__, Answers.__table__):
                        owned = cast(Table, table)
                        session.execute(delete(owned).where(among(owned.c.person_id, ids)))
                    session.execute(delete(people).where(among(people.c.id, ids)))
                else:
                    session.execute(delete(Import).where(Import.org_id == holder_id))
                    session.execute(delete(Organisation).where(Organisation.id == holder_id))
            if not ids:
                return
            _pause(db)
    except Exception:  # left for a later import's sweep; the failure the caller saw matters
        log.exception(
            "the hidden people of a failed import (holder %d) were not deleted", holder_id
        )


def _sweep(db: Database) -> None:
    """Delete what imports cut short (a crash, a killed process) left hidden."""
    with db.read() as session:
        left = list(
            session.scalars(
                select(Organisation.id).where(
                    Organisation.pending_import.is_not(None),
                    Organisation.created_at < utcnow() - _ABANDONED,
                )
            )
        )
    for holder_id in left:
        _discard(db, holder_id)


def _organisation_key(name: str) -> str:
    """A school's name as compared with a file's organisation column: case, spaces, quotes and
    the letter ё do not matter (as for the rule, docs/rules.md#organisation)."""
    from features.text import normalize

    return normalize(re.sub(r"[«»\"'“”„]", " ", name).replace("№", " № "))


def _check_organisations(session: Session, org: str, read: reading.Read) -> None:
    """Refuse rows whose organisation column names another school of the service, not this one
    (docs/rules.md#import-organisation): that school imports its own people."""
    named = {value for value in read.organisations if value}
    if not named:
        return
    schools = session.execute(
        select(Organisation.code, Organisation.name).where(Organisation.pending_import.is_(None))
    ).all()
    here = next((name for code, name in schools if code == org), org)
    ours = {_organisation_key(org), _organisation_key(here)}
    others: dict[str, str] = {}
    for code, name in schools:
        if code != org:
            others.setdefault(_organisation_key(name), name)
            others.setdefault(_organisation_key(code), name)
    foreign = {
        value: others[key]
        for value in named
        if (key := _organisation_key(value)) in others and key not in ours
    }
    if not foreign:
        return
    column = read.organisation_column
    errors = [
        {
            "row": row,
            "column": column,
            "value": value,
            "message": f"это другая школа («{foreign[value]}»), а файл загружается в школу "
            f"«{here}»: её участников загружает её куратор; уберите строку из файла",
        }
        for row, value in zip(read.numbers, read.organisations, strict=True)
        if value in foreign
    ]
    raise Invalid(
        f"Файл не принят: в {len(errors)} строк(ах) указана другая школа. Ничего не сохранено.",
        errors,
    )


def _store_file(
    session: Session,
    actor: Actor,
    org: str,
    side: str,
    spec: str,
    filename: str | None,
    rows: list[_Row],
    max_people: int | None,
    before: _Before,
    hidden: _Hidden | None,
) -> ImportPublic:
    """Store a parsed file in the caller's write transaction: an ``Import``, the new people
    (created here, or moved here from ``hidden``), new versions of changed answers and the
    consents they change.

    Everything is written with a few bulk statements (executemany, one ``UPDATE`` for the
    hidden people), never an object per row, and the current answers of known people come from
    ``before`` (read outside the transaction; only those changed since are read again): on
    SQLite the write lock is held while this runs, and other schools' writes wait for it.
    """
    organisation = organisation_for(session, actor, org)
    if hidden is None:
        batch = _new_import(session, actor, organisation.id, side, spec, filename)
    else:
        batch = session.get_one(Import, hidden.import_id)
    known = _known_people(session, organisation.id, SIDES[side], before.named)
    if hidden is None:
        fresh = [r for r in rows if r.external_id not in known]
        new = len(fresh)
    else:
        fresh, new = [], len(hidden.external_ids)
    if max_people is not None:
        _check_headcount(session, organisation, new, max_people)
    if hidden is not None and known.keys() != before.known.keys():
        # Someone added or removed people of the file while its new people were written.
        raise Conflict(
            "concurrent_import",
            "Пока файл загружался, участников школы изменил другой пользователь; повторите "
            "загрузку.",
        )
    current: dict[int, dict[str, Any]] = {}
    stale = []  # people whose answers changed since they were read
    for person in known.values():
        seen = before.answers.get(person.id)
        if seen is not None and seen[0] == person.version:
            current[person.id] = seen[1]
        else:
            stale.append(person.id)
    if stale:
        current.update(
            session.execute(
                select(Answers.person_id, Answers.records)
                .join(Person, Person.id == Answers.person_id)
                .where(among(Person.id, stale), Answers.version == Person.version)
            ).all()
        )
    origin = _Origin(organisation.id, SIDES[side].value, spec, batch.id, actor.user_id)
    now = utcnow()
    changed: list[dict[str, Any]] = []
    touched: list[tuple[Any, _Row]] = []  # known people whose answers this file changes
    for row in rows:
        person = known.get(row.external_id)
        if person is None:
            continue
        if (current.get(person.id), person.spec, person.name) == (row.records, spec, row.name):
            batch.unchanged += 1
            if row.capacity is not None and row.capacity != person.capacity:
                changed.append({"b_id": person.id, "b_capacity": row.capacity} | _same(person))
            continue
        touched.append((person, row))
    consent_state = consents.latest(session, [p.id for p, _ in touched])
    versions: list[tuple[int, _Row, dict[str, bool]]] = []  # person, row, consents to record
    withdrawn: list[int] = []
    for person, row in touched:
        old = current.get(person.id)
        earlier = consents.from_answers(person.spec, origin.side, old) if old is not None else {}
        recorded, given = _consent_changes(earlier, row, consent_state.get(person.id, {}))
        versions.append((person.id, row, recorded))
        changed.append(
            {
                "b_id": person.id,
                "b_capacity": person.capacity if row.capacity is None else row.capacity,
                "b_version": person.version + 1,
                "b_spec": spec,
                "b_name": row.name,
                "b_updated_at": now,
                "b_consent": given,
            }
        )
        if person.consent and not given:
            withdrawn.append(person.id)
        batch.updated += 1
    if hidden is None:
        batch.created = _insert_people(session, _NewPeople.of(origin, fresh, now))
    else:
        _reveal(session, hidden, batch, organisation.id)
        batch.created = new
    _write(session, origin, changed, versions, now)
    left_out = _leave_out(session, actor, [session.get_one(Person, i) for i in withdrawn])
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
        consent_withdrawn=left_out,
    )
    log.info(
        "import %d into org %d: %d created, %d updated, %d unchanged",
        batch.id,
        organisation.id,
        batch.created,
        batch.updated,
        batch.unchanged,
    )
    return ImportPublic(
        import_id=batch.id,
        created=batch.created,
        updated=batch.updated,
        unchanged=batch.unchanged,
    )


def _same(person: Any) -> dict[str, Any]:
    """The update of a person that changes nothing but the capacity."""
    return {
        "b_version": person.version,
        "b_spec": person.spec,
        "b_name": person.name,
        "b_updated_at": person.updated_at,
        "b_consent": person.consent,
    }


def _write(
    session: Session,
    origin: _Origin,
    changed: list[dict[str, Any]],
    versions: list[tuple[int, _Row, dict[str, bool]]],
    now: datetime,
) -> None:
    """The bulk statements of an import's known people: the changed people, a new version of
    their answers, the consents their answers change (new people come from :func:`_swap`)."""

    people_table = cast(Table, Person.__table__)
    if changed:
        column = people_table.c
        session.execute(
            update(people_table)
            .where(column.id == bindparam("b_id"))
            .values(
                capacity=bindparam("b_capacity"),
                version=bindparam("b_version"),
                spec=bindparam("b_spec"),
                name=bindparam("b_name"),
                updated_at=bindparam("b_updated_at"),
                consent=bindparam("b_consent"),
            ),
            changed,
        )
    version_of = {c["b_id"]: c["b_version"] for c in changed}
    answers: list[dict[str, Any]] = []
    given: list[dict[str, Any]] = []
    for person_id, row, recorded in versions:
        answers.append(
            {
                "person_id": person_id,
                "version": version_of[person_id],
                "spec": origin.spec,
                "records": row.records,
                "import_id": origin.import_id,
                "created_at": now,
            }
        )
        given.extend(
            {
                "person_id": person_id,
                "kind": kind,
                "given": value,
                "source": "questionnaire",
                "import_id": origin.import_id,
                "user_id": origin.user_id,
                "recorded_at": now,
            }
            for kind, value in recorded.items()
        )
    if answers:
        session.execute(insert(cast(Table, Answers.__table__)), answers)
    if given:
        session.execute(insert(cast(Table, Consent.__table__)), given)


def _known_people(
    session: Session, org_id: int, side: Side, wanted: frozenset[str]
) -> dict[str, Any]:
    """The school's people of this side whom the file names (id, version, spec, name, consent,
    capacity, updated_at), locked (after their open proposals, which a changed consent answer may
    supersede: the same order as confirming takes them)."""
    # The school's people of this side (one school is bounded by people_per_school): no
    # statement lists the file's identities, however many rows it has.
    identities = (Person.org_id == org_id, Person.side == side.value)
    consents.lock_open_proposals(session, select(Person.id).where(*identities))
    found = session.execute(
        select(
            Person.id,
            Person.external_id,
            Person.version,
            Person.spec,
            Person.name,
            Person.consent,
            Person.capacity,
            Person.updated_at,
        )
        .where(*identities)
        .order_by(Person.id)
        .with_for_update()
    )
    return {p.external_id: p for p in found if p.external_id in wanted}


def _check_headcount(session: Session, organisation: Organisation, new: int, most: int) -> None:

    now = int(
        session.scalar(select(func.count(Person.id)).where(Person.org_id == organisation.id)) or 0
    )
    if now + new > most:
        raise Invalid(
            f"Файл не принят: в школе «{organisation.name}» участников стало бы {now + new}, а "
            f"допускается не больше {most}. Ничего не сохранено."
        )


@dataclass(frozen=True)
class _Origin:
    """Where answers come from: an imported file, or one person's link (``import_id`` None)."""

    org_id: int
    side: str
    spec: str
    import_id: int | None
    user_id: int | None

    @classmethod
    def of(cls, batch: Import) -> _Origin:
        return cls(batch.org_id, batch.side, batch.spec, batch.id, batch.user_id)


def _upsert(
    session: Session,
    batch: _Origin,
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
            import_id=batch.import_id,
            created_at=now,
        )
    )
    had_consent = outcome == "updated" and person.consent
    person.consent = _consents(session, batch, person, before, row, consent_state)
    return "withdrawn" if had_consent and not person.consent else outcome


def _consent_changes(
    before: dict[str, bool], row: _Row, state: dict[str, bool]
) -> tuple[dict[str, bool], bool]:
    """The consents a row's answers change (to record), and whether every consent asked is then
    given. ``before`` holds the consents of the answers this row replaces, ``state`` the latest
    record of each kind.

    Only a changed answer is recorded: an unchanged one would undo a later paper record.
    """
    recorded = {kind: given for kind, given in row.consents.items() if before.get(kind) != given}
    return recorded, consents.summed_up(state | recorded, row.minor)


def _consents(
    session: Session,
    batch: _Origin,
    person: Person,
    before: dict[str, bool],
    row: _Row,
    state: dict[str, bool],
) -> bool:
    """Record the consents this answers change; return whether all asked are given."""
    recorded, given = _consent_changes(before, row, state)
    for kind, value in recorded.items():
        session.add(
            Consent(
                person=person,
                kind=kind,
                given=value,
                source="questionnaire",
                import_id=batch.import_id,
                user_id=batch.user_id,
            )
        )
    return given


def store_one(
    session: Session,
    actor: Actor,
    org_id: int,
    side: str,
    spec: str,
    answers: Any,
    person: Person | None,
) -> tuple[Person, str]:
    """Store one person's validated answers as an import stores a row: a new person, or a new
    version of a known one's answers, with the same consent handling (a changed consent answer
    is recorded; a person left without consent is left out of open proposals).

    ``answers`` is :class:`features.Answers` of one person (``answers_from_records``);
    ``person`` is the known person (locked by the caller, after
    :func:`consents.lock_open_proposals`), or None for a new one. Returns the person and
    "created", "updated" or "unchanged". Used by the participants' own questionnaires.
    """
    current = None
    state: dict[str, bool] = {}
    if person is not None:
        current = session.scalar(
            select(Answers.records).where(
                Answers.person_id == person.id, Answers.version == person.version
            )
        )
        state = consents.latest(session, [person.id]).get(person.id, {})
    capacity = getattr(answers, "capacity", None) if side == Side.mentor.value else None
    records = reading.plain(answers.records[0])
    row = _Row(
        str(answers.person_ids[0]),
        answers.names[0] if answers.names else None,
        json.dumps(records),
        bool(answers.minor[0]),
        reading.entry_times(answers)[0],
        None if capacity is None else int(capacity[0]),
        consents.from_answers(spec, side, records),
    )
    origin = _Origin(org_id, side, spec, None, actor.user_id)
    outcome = _upsert(session, origin, person, current, row, state)
    if outcome == "withdrawn":
        assert person is not None
        _leave_out(session, actor, [person])
        outcome = "updated"
    stored = (
        person
        or session.scalars(
            select(Person).where(
                Person.org_id == org_id, Person.side == side, Person.external_id == row.external_id
            )
        ).one()
    )
    session.flush()
    record(session, actor, "answers", "person", stored.id, org_id, outcome=outcome,
           version=stored.version)  # fmt: skip
    return stored, outcome


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


def _agreed(person: Person) -> int:
    return MAX_CAPACITY if person.capacity is None else person.capacity


def _active_counts(session: Session, ids: list[int]) -> Counter[int]:
    active = Counter[int]()
    for mentee_id, mentor_id in session.execute(
        select(Pair.mentee_id, Pair.mentor_id).where(
            Pair.status == PairStatus.active.value,
            among(Pair.mentee_id, ids) | among(Pair.mentor_id, ids),
        )
    ):
        active[mentee_id] += 1
        active[mentor_id] += 1
    return active


def public(person: Person, active_pairs: int) -> PersonPublic:
    """The API shape of a person."""
    mentor = person.side == Side.mentor.value
    return PersonPublic(
        id=person.id,
        side=person.side,
        external_id=person.external_id,
        name=person.name,
        spec=person.spec,
        consent=person.consent,
        capacity=person.places() if mentor else None,
        capacity_limit=person.capacity_limit,
        agreed=_agreed(person) if mentor else None,
        active_pairs=active_pairs,
        version=person.version,
        archived_at=person.archived_at,
    )


def people(
    session: Session,
    actor: Actor,
    org: str,
    side: str | None = None,
    ids: Iterable[int] | None = None,
) -> list[PersonPublic]:
    """Return the people of a school (optionally one side, only ``ids``) with their number of
    active pairs."""
    organisation = organisation_for(session, actor, org)
    query = select(Person).where(Person.org_id == organisation.id).order_by(Person.id)
    if side is not None:
        query = query.where(Person.side == side)
    if ids is not None:
        query = query.where(among(Person.id, ids))
    found = session.scalars(query).all()
    active = _active_counts(session, [p.id for p in found])
    return [public(p, active.get(p.id, 0)) for p in found]


_ACTIVE = Pair.status == PairStatus.active.value
_HAS_PAIR = exists().where(_ACTIVE, (Pair.mentee_id == Person.id) | (Pair.mentor_id == Person.id))

PEOPLE = Listing(
    search=[Person.name, Person.external_id],
    sorts={"name": [Person.name, Person.id], "entered": [Person.entered_at, Person.id]},
    sort_columns={"name": "Участник", "entered": "Дата вступления"},
    filters={
        "side": choice(Person.side, {s.value: s.value for s in Side}, "Кто"),
        "consent": choice(Person.consent, {"yes": True, "no": False}, "Согласие"),
        "pair": choice(Person.id, {"yes": _HAS_PAIR, "no": ~_HAS_PAIR}, "Пара"),
        "form": lambda value: Person.spec == value,
        "grade": lambda value: answered("grade", value),
        "subject": lambda value: answered("subjects", value),
        "archived": choice(
            Person.archived_at,
            {"no": Person.archived_at.is_(None), "yes": Person.archived_at.is_not(None)},
            "Архив",
        ),
    },
    sort_titles={"name": "по имени", "entered": "по дате вступления"},
)


def _details(
    session: Session, found: list[Person]
) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
    """A person's post and subjects, or class, and the forms of mentoring their role fits, from
    their current answers (for one page); a person in an active pair has that pair's form."""
    ids = [p.id for p in found]
    rows = session.execute(
        select(Answers.person_id, Answers.records)
        .join(Person, Person.id == Answers.person_id)
        .where(among(Person.id, ids), Answers.version == Person.version)
    ).all()
    by_id = {p.id: p for p in found}
    details, forms = {}, {}
    for person_id, records in rows:
        person = by_id[person_id]
        try:
            details[person_id] = post_of(person.spec, f"{person.side}s", records or {})
            forms[person_id] = forms_of(person.spec, f"{person.side}s", records or {})
        except (KeyError, ValueError, Invalid):
            details[person_id] = "—"
    paired: dict[int, list[str]] = {}
    for mentee_id, mentor_id, form in session.execute(
        select(Pair.mentee_id, Pair.mentor_id, Pair.form).where(
            _ACTIVE, among(Pair.mentee_id, ids) | among(Pair.mentor_id, ids)
        )
    ):
        for person_id in (mentee_id, mentor_id):
            if person_id in by_id and form:
                paired.setdefault(person_id, []).append(form)
    forms.update({k: tuple(dict.fromkeys(v)) for k, v in paired.items()})
    return details, forms


_IN_PAIR = _ACTIVE & (Pair.form != "")  # a pair's form counts while it is active
_SCHOOLS = Person.org_id.in_(bindparam("org_ids", expanding=True))
# Statements of forms_counted, built once (building one and its cache key costs more than
# running it): the forms of the active pairs of each person in one, as mentee and as mentor...
_PAIR_FORMS = [
    select(Person.id, Person.org_id, Person.side, Pair.form)
    .join(Pair, joined & _IN_PAIR)
    .where(_SCHOOLS)
    .order_by(Pair.id)
    for joined in (Pair.mentee_id == Person.id, Pair.mentor_id == Person.id)
]
# ... the kinds of questionnaire...
_SPECS = select(Person.spec, Person.side).where(_SCHOOLS).distinct()


@lru_cache(maxsize=16)
def _by_answers(keys: tuple[str, ...]) -> Select[Any]:
    """... and the people in no active pair grouped by their answers to questions ``keys`` of
    their current questionnaire (``answered``: whether it is stored), counted."""
    current = (Answers.person_id == Person.id) & (Answers.version == Person.version)
    in_pair = exists().where(
        _IN_PAIR, (Pair.mentee_id == Person.id) | (Pair.mentor_id == Person.id)
    )
    answers = (
        select(
            Person.org_id,
            Person.side,
            Person.spec,
            Answers.id.is_not(None).label("answered"),
            *(Answers.records[k].as_string().label(f"answer_{n}") for n, k in enumerate(keys)),
        )
        .outerjoin(Answers, current)
        .where(_SCHOOLS, ~in_pair)
        .subquery()
    )
    return select(*answers.c, func.count()).group_by(*answers.c)


def forms_counted(
    session: Session, org_ids: list[int]
) -> Counter[tuple[int, str, tuple[str, ...]]]:
    """How many people of schools ``org_ids`` are counted under each form of mentoring, by
    school and side: (org id, side, form keys) -> people. A person's forms are those of their
    active pairs (in the order of the pairs), else those their role fits by the role and forms
    answers of their current questionnaire, else their questionnaire's type alone (the report
    of a school, docs/rules.md#forms).

    Statements of columns (a whole school's report asks at every view): the people in an
    active pair with their pairs' forms, and the others grouped by the database by their role
    and forms answers, so that each distinct answer is looked at once.
    """
    schools = {"org_ids": org_ids}
    counted: Counter[tuple[int, str, tuple[str, ...]]] = Counter()
    paired: dict[int, tuple[int, str, tuple[str, ...]]] = {}
    for statement in _PAIR_FORMS:
        for person_id, org_id, side, form in columns(session, statement, schools):
            _, _, before = paired.get(person_id, (org_id, side, ()))
            paired[person_id] = (org_id, side, before if form in before else (*before, form))
    counted.update(paired.values())
    keys: set[str] = set()
    for spec, side in columns(session, _SPECS, schools):
        try:
            fields = load_spec_named(spec).side(f"{side}s").fields
        except Invalid:
            continue
        keys.update(k for k in (fields.role, fields.forms) if k)
    ordered = tuple(sorted(keys))
    for org_id, side, spec, answered_, *values, n in columns(
        session, _by_answers(ordered), schools
    ):
        forms: tuple[str, ...] = ()
        if answered_:
            records = {k: _json_answer(v) for k, v in zip(ordered, values, strict=True)}
            try:
                forms = forms_of(spec, f"{side}s", records)
            except (KeyError, ValueError, Invalid):
                forms = ()
        counted[(org_id, side, forms or (spec,))] += n
    return counted


def _json_answer(value: Any) -> Any:
    """An answer read as text from the JSON of the records: a list stays a list."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def people_page(session: Session, actor: Actor, org: str, params: ListParams) -> Page[PersonPublic]:
    """One page of the people of a school: searched by name, filtered, sorted (``PEOPLE``)."""
    organisation = organisation_for(session, actor, org)
    query = select(Person).where(Person.org_id == organisation.id)
    found, total = paginate(session, query, PEOPLE, params)
    active = _active_counts(session, [p.id for p in found])
    details, forms = _details(session, found)
    items = [
        public(p, active.get(p.id, 0)).model_copy(
            update={"details": details.get(p.id), "forms": list(forms.get(p.id, ()))}
        )
        for p in found
    ]
    return page_of(items, params, total)


def mentor_load(session: Session, actor: Actor, org: str, mentor_id: int) -> MentorLoad:
    """Return one mentor of school ``org`` with the active pairs taking their places (a mentee
    may be another school's, in a virtual pair: only the name and the school are shown)."""
    mentor = person_of(session, actor, org, mentor_id, Side.mentor)
    active = session.scalars(
        select(Pair)
        .where(Pair.mentor_id == mentor.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.id)
    ).all()
    pairs = [
        MentorPair(
            pair_id=p.id,
            mentee_id=p.mentee_id,
            mentee_name=p.mentee.name,
            mentee_org=p.mentee.org.code,
            started_at=p.started_at,
        )
        for p in active
    ]
    return MentorLoad(mentor=public(mentor, len(pairs)), pairs=pairs)


def set_capacity_limit(
    session: Session, actor: Actor, org: str, person_id: int, limit: int | None
) -> LimitPublic:
    """Set (or clear, with None) a curator's lower limit of a mentor's mentees.

    A limit below the mentor's active pairs keeps those pairs (ending one is a decision with a
    reason, docs/rules.md#replacement) and gives no new places: runs, suggestions and
    confirmations count the active pairs against it.

    Raises
    ------
    NotFound
        When the mentor is not one of school ``org``'s.
    Invalid
        For a limit outside 0..3 or above what the mentor agreed to in the questionnaire:
        a limit only lowers the number of mentees.
    """
    if limit is not None and not 0 <= limit <= MAX_CAPACITY:
        raise Invalid(
            f"Предел наставляемых должен быть от 0 до {MAX_CAPACITY}; получено {limit}.",
            [{"row": None, "column": "Предел наставляемых", "value": limit,
              "message": f"нужно целое число от 0 до {MAX_CAPACITY}"}],
        )  # fmt: skip
    person = person_of(session, actor, org, person_id, Side.mentor, lock=True)
    agreed = _agreed(person)
    if limit is not None and limit > agreed:
        raise Invalid(
            f"Предел {limit} больше, чем наставник готов взять по анкете ({agreed}): предел "
            "только уменьшает число наставляемых.",
            [{"row": None, "column": "Предел наставляемых", "value": limit,
              "message": f"не больше, чем наставник указал в анкете ({agreed}); чтобы "
                         "увеличить, наставник отвечает на анкету заново"}],
        )  # fmt: skip
    person.capacity_limit = limit
    active = _active_counts(session, [person.id]).get(person.id, 0)
    record(session, actor, "capacity_limit", "person", person.id, person.org_id, limit=limit)
    return LimitPublic(
        mentor_id=person.id, capacity_limit=limit, places=person.places(), active_pairs=active
    )


def archive(session: Session, actor: Actor, org: str, person_id: int) -> PersonPublic:
    """A person leaves the programme: kept with their history (answers, consents, pairs), left
    out of runs, suggestions and the waiting list; their open proposals are superseded.

    Raises
    ------
    Conflict
        While the person has an active pair: end it (with the regulation's reason) first.
    """
    consents.lock_open_proposals(session, select(Person.id).where(Person.id == person_id))
    person = person_of(session, actor, org, person_id, lock=True)
    active = _active_counts(session, [person.id]).get(person.id, 0)
    if active:
        raise Conflict(
            "person_has_pair",
            f"{person.name or 'Участник'} в действующей паре: сначала закройте пару на странице "
            "пар (с причиной), затем переведите в архив.",
        )
    if person.archived_at is None:
        person.archived_at = utcnow()
        open_ones = session.execute(
            update(Proposal)
            .where(
                (Proposal.mentee_id == person.id) | (Proposal.mentor_id == person.id),
                Proposal.status == ProposalStatus.open.value,
            )
            .values(
                status=ProposalStatus.superseded.value,
                status_reason="archived",
                decided_at=utcnow(),
                decided_by=actor.user_id,
            )
        )
        record(
            session, actor, "archive", "person", person.id, person.org_id,
            superseded=open_ones.rowcount,  # type: ignore[attr-defined]
        )  # fmt: skip
    return public(person, 0)


def remove(session: Session, actor: Actor, org: str, person_id: int) -> PersonRemoved:
    """Remove a wrongly imported person with their answers, consents and proposals; only a
    person who was never in a pair (a pair is history: archive such a person instead)."""
    person = person_of(session, actor, org, person_id, lock=True)
    involved = (Pair.mentee_id == person.id) | (Pair.mentor_id == person.id)
    if session.scalar(select(Pair.id).where(involved).limit(1)) is not None:
        raise Conflict(
            "person_has_history",
            f"{person.name or 'Участник'} уже был в паре: удалить нельзя, история пар хранится. "
            "Переведите участника в архив.",
        )
    proposals = session.execute(
        delete(Proposal).where(
            (Proposal.mentee_id == person.id) | (Proposal.mentor_id == person.id)
        )
    ).rowcount  # type: ignore[attr-defined]
    session.execute(delete(Consent).where(Consent.person_id == person.id))
    session.execute(delete(Answers).where(Answers.person_id == person.id))
    removed = PersonRemoved(person_id=person.id, name=person.name, proposals=proposals)
    record(
        session, actor, "remove", "person", person.id, person.org_id,
        side=person.side, proposals=proposals,
    )  # fmt: skip
    session.delete(person)
    session.flush()
    return removed


def school_counts(session: Session, actor: Actor, org: str) -> tuple[int, int, int]:
    """(mentors, mentees, mentees with an active pair) of a school in the programme, counted by
    the database (the school page's summary)."""

    organisation = organisation_for(session, actor, org)
    here = (Person.org_id == organisation.id, Person.archived_at.is_(None))
    paired = (
        select(func.count(func.distinct(Pair.mentee_id)))
        .join(Person, Person.id == Pair.mentee_id)
        .where(*here, Pair.status == PairStatus.active.value)
        .scalar_subquery()
    )
    mentors, mentees, with_pair = session.execute(  # one statement: the page asks at every view
        select(
            func.count().filter(Person.side == Side.mentor.value),
            func.count().filter(Person.side == Side.mentee.value),
            paired,
        ).where(*here)
    ).one()
    return int(mentors or 0), int(mentees or 0), int(with_pair or 0)
