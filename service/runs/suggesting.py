"""The mentors a mentee's suggestions are scored against, with their answers parsed once.

A curator opens one waiting mentee after another; each suggestion scores that mentee against
every consenting mentor of the school (and the external mentors serving it). Reading and
validating the mentors' stored answers was most of that work (``experiments.profile_load``), and
it is the same for every mentee of the school until a mentor's answers change. So the mentors are
read as a few columns (no answers), and their parsed answers (``features.Answers``) are kept in
this process keyed by every mentor's id, stored answers (row id and time) and school code: a
re-imported questionnaire is a new row of answers, a mentor who left or withdrew consent is
missing from the key, and either makes a new entry. The scores are the ones a fresh read gives; only the work differs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from service.core.db import among
from service.core.models import Answers, Organisation, Person, Side
from service.people.questionnaires import with_consent
from service.runs.scoring import Member, mentor_answers

__all__ = ["SchoolMentors", "school_mentors"]

_KEPT = 64  # schools whose mentors' answers are kept (each a few hundred KB)
_kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()


class SchoolMentors:
    """The consenting mentors of a school for one questionnaire spec: members (without their
    records), names, and their parsed answers."""

    def __init__(self, members: list[Member], names: dict[int, str | None], answers: Any):
        self.members = members
        self.names = names
        self.answers = answers


def school_mentors(
    session: Session, org_id: int, spec: str, served: dict[int, str | None]
) -> SchoolMentors:
    """The mentors of school ``org_id`` who may be suggested (``runs._members`` of the mentor
    side): its consenting mentors in the programme answering ``spec`` and the external mentors
    ``served`` (id -> the school's code when in person: they count as of it), by id."""
    within: ColumnElement[bool] = Person.org_id == org_id
    if served:
        within = within | among(Person.id, served)
    rows = session.execute(
        select(
            Person.id,
            Person.name,
            Person.capacity_limit,
            Person.demand,
            Person.version,
            Organisation.code,
            Answers.id,
            Answers.created_at,
        )
        .join(Answers, (Answers.person_id == Person.id) & (Answers.version == Person.version))
        .join(Organisation, Organisation.id == Person.org_id)
        .where(
            within,
            Person.side == Side.mentor.value,
            Person.consent.is_(True),
            Person.archived_at.is_(None),
            Person.spec == spec,
        )
        .order_by(Person.id)
    ).all()
    members = [
        Member(id_, served.get(id_) or code, {}, limit, None, demand, version)
        for id_, _, limit, demand, version, code, _, _ in rows
    ]
    names = {row[0]: row[1] for row in rows}
    # the stored answers row itself (its id and time: ids may be used again on SQLite after a
    # wrong import is removed) and the school each mentor counts as of
    key = (
        spec,
        tuple((m.id, row[6], row[7], m.org_code) for m, row in zip(members, rows, strict=True)),
    )
    with _lock:
        answers = _kept.get(key)
        if answers is not None:
            _kept.move_to_end(key)
    if answers is None:
        answers = mentor_answers(spec, _with_records(session, spec, members))
        with _lock:
            _kept[key] = answers
            while len(_kept) > _KEPT:
                _kept.popitem(last=False)
    return SchoolMentors(members, names, answers)


def _with_records(session: Session, spec: str, members: list[Member]) -> list[Member]:
    records: dict[int, dict[str, Any]] = dict(
        session.execute(
            select(Answers.person_id, Answers.records)
            .join(Person, (Person.id == Answers.person_id) & (Answers.version == Person.version))
            .where(among(Answers.person_id, [m.id for m in members]))
        ).all()
    )
    return [
        Member(
            m.id,
            m.org_code,
            with_consent(spec, Side.mentor.value, records[m.id], True),
            m.capacity_limit,
            None,
            m.demand,
            m.version,
        )
        for m in members
    ]
