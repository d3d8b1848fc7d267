"""Monitoring: the report of a school (people, pairs, coverage, load, waiting, satisfaction),
a municipality's schools, and the audit log of a school."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pydantic import TypeAdapter
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from service.core.db import columns
from service.core.errors import NotFound
from service.core.models import (
    AuditEvent,
    Feedback,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Side,
    places,
    utcnow,
)
from service.core.rules import ASSIGN_WITHIN_DAYS, form_title, satisfaction_target
from service.core.security import Actor, organisation_for, visible_organisations
from service.monitoring.schemas import (
    AuditEventPublic,
    Coverage,
    MentorLoadRow,
    MentorLoadSummary,
    MunicipalityReport,
    PairCount,
    PeopleCount,
    ReportPublic,
    Satisfaction,
    SatisfactionBySide,
    SchoolIndicators,
    SchoolSummary,
    WaitingSummary,
)
from service.monitoring.surveys import satisfaction_value
from service.people.people import forms_counted
from service.people.schemas import WaitingPublic
from service.people.waiting import waiting_public, waiting_rows

__all__ = ["Overview", "audit", "municipality", "municipality_report", "overview", "report"]


def _satisfaction(scores: list[float], target: float) -> Satisfaction:
    percent = round(10.0 * statistics.fmean(scores), 1) if scores else None
    return Satisfaction(
        responses=len(scores),
        percent=percent,
        target=target,
        meets_target=None if percent is None else percent >= target,
    )


class _Mentor(NamedTuple):
    id: int
    org_id: int
    name: str | None
    consent: bool
    places: int


class _Pair(NamedTuple):
    id: int
    org_id: int
    mentee_id: int
    mentor_id: int
    form: str
    status: str


@dataclass
class _School:
    """What a report reads of one school (or of several together), in the caller's transaction:
    columns and counts, never whole rows of people or pairs."""

    code: str
    mentees: Counter[int]  # school id -> its mentees
    consenting: Counter[int]  # school id -> its mentees with consent
    mentors: list[_Mentor]  # by id
    pairs: list[_Pair]  # the pairs of their mentees or mentors
    responses: list[tuple[int, str, float]]  # (pair, author, satisfaction on the 1-10 scale)
    forms: Counter[tuple[int, str, tuple[str, ...]]]  # (school id, side, forms) -> people
    waiting: list[tuple[int, int, str | None, datetime, int]]  # (days, mentee id, name, since,
    # school id) of the waiting mentees, the longest wait first

    def part(self, code: str, org_id: int) -> _School:
        """What one of the schools read together holds: its people, the pairs of its mentees or
        mentors and their responses (as reading that school alone would give)."""
        mentors = [m for m in self.mentors if m.org_id == org_id]
        here = {m.id for m in mentors}
        pairs = [p for p in self.pairs if p.org_id == org_id or p.mentor_id in here]
        ids = {p.id for p in pairs}
        return _School(
            code,
            Counter({org_id: self.mentees[org_id]}),
            Counter({org_id: self.consenting[org_id]}),
            mentors,
            pairs,
            [r for r in self.responses if r[0] in ids],
            Counter({k: n for k, n in self.forms.items() if k[0] == org_id}),
            [w for w in self.waiting if w[4] == org_id],
        )


def _read(session: Session, actor: Actor, org: str, now: datetime) -> _School:
    organisation = organisation_for(session, actor, org)
    return _read_orgs(session, organisation.code, [organisation.id], now)


# The statements of a report, built once (building one and its cache key costs more than
# running it): of the schools ``:org_ids``, the mentees counted, with consent too...
_HERE = Person.org_id.in_(bindparam("org_ids", expanding=True))
_MENTEES = (
    select(Person.org_id, func.count(), func.count(case((Person.consent.is_(True), 1))))
    .where(_HERE, Person.side == Side.mentee.value)
    .group_by(Person.org_id)
)
# ... the mentors...
_MENTORS = (
    select(Person.id, Person.org_id, Person.name, Person.consent, Person.capacity,
           Person.capacity_limit)
    .where(_HERE, Person.side == Side.mentor.value)
    .order_by(Person.id)
)  # fmt: skip
# ... the pairs of their mentees or mentors...
_THEIRS = Pair.org_id.in_(bindparam("org_ids", expanding=True)) | Pair.mentor_id.in_(
    select(Person.id).where(_HERE, Person.side == Side.mentor.value)
)
_PAIRS = select(Pair.id, Pair.org_id, Pair.mentee_id, Pair.mentor_id, Pair.form, Pair.status).where(
    _THEIRS
)
# ... and the satisfaction answers of those pairs.
_RESPONSES = (
    select(Feedback.pair_id, Feedback.author, Feedback.score, Feedback.answers)
    .join(Pair, Pair.id == Feedback.pair_id)
    .where(Feedback.kind == "satisfaction", _THEIRS)
)


def _read_orgs(session: Session, code: str, org_ids: list[int], now: datetime) -> _School:
    """Read schools ``org_ids`` as one: counts of their mentees, their mentors, the pairs of their
    mentees or mentors (a virtual pair across two of them once), the satisfaction answers of
    those pairs, people by form and the waiting mentees.

    Statements of columns and counts (a school's report is asked at every view): the whole
    school is never read as objects."""
    schools = {"org_ids": org_ids}
    mentees: Counter[int] = Counter()
    consenting: Counter[int] = Counter()
    for org_id, n, agreed in columns(session, _MENTEES, schools):
        mentees[org_id], consenting[org_id] = n, agreed
    mentors = [
        _Mentor(id_, org_id, name, consent, places(capacity, limit, consent))
        for id_, org_id, name, consent, capacity, limit in columns(session, _MENTORS, schools)
    ]
    pairs = [_Pair(*row) for row in columns(session, _PAIRS, schools)]
    responses = [
        (pair_id, author, value)
        for pair_id, author, score, answers in columns(session, _RESPONSES, schools)
        if (value := satisfaction_value(score, answers)) is not None
    ]
    return _School(
        code,
        mentees,
        consenting,
        mentors,
        pairs,
        responses,
        forms_counted(session, org_ids),
        waiting_rows(session, org_ids, now),
    )


def report(session: Session, actor: Actor, org: str, now: datetime | None = None) -> ReportPublic:
    """Return the monitoring report of school ``org`` (no names: counts, ids and shares)."""
    now = now or utcnow()
    return _summary(_read(session, actor, org, now), now)


class Overview(NamedTuple):
    """A school's report with the names it leaves out, for the pages."""

    report: ReportPublic
    waiting: list[WaitingPublic]  # the waiting mentees, the longest wait first
    mentor_names: dict[int, str | None]  # of the mentors of the report's table of load


def overview(session: Session, actor: Actor, org: str, now: datetime | None = None) -> Overview:
    """Return the report of school ``org``, its waiting mentees and its mentors' names."""
    now = now or utcnow()
    school = _read(session, actor, org, now)
    waiting = [waiting_public(*row[:4]) for row in school.waiting]
    return Overview(_summary(school, now), waiting, {m.id: m.name for m in school.mentors})


_LOAD_ROWS = TypeAdapter(list[MentorLoadRow])  # a school's hundreds of rows validated at once


def _summary(school: _School, now: datetime) -> ReportPublic:
    pairs, mentors = school.pairs, school.mentors
    active = [p for p in pairs if p.status == PairStatus.active.value]
    paired_mentees = {p.mentee_id for p in active}
    load = Counter(p.mentor_id for p in active)
    waiting_days = sorted(w[0] for w in school.waiting)
    target = satisfaction_target(now.year)
    consenting = sum(school.consenting.values())
    by_side = {
        side: [v for _, a, v in school.responses if a == side]
        for side in (Side.mentee.value, Side.mentor.value)
    }
    # the form a person is counted under: their active pair's, else the forms their role fits
    # (docs/rules.md#forms), never the questionnaire's type alone
    people = Counter[tuple[str, str]]()
    for (_, side, forms), n in school.forms.items():
        people[(" / ".join(form_title(f) for f in forms), side)] += n
    return ReportPublic(
        org=school.code,
        generated_at=now,
        people=[
            PeopleCount(form=form, role=role, count=n) for (form, role), n in sorted(people.items())
        ],
        pairs=[
            PairCount(form=form_title(form), status=status, count=n)
            for (form, status), n in sorted(Counter((p.form, p.status) for p in pairs).items())
        ],
        coverage=Coverage(
            mentees=sum(school.mentees.values()),
            mentees_with_consent=consenting,
            mentees_with_pair=len(paired_mentees),
            share=round(len(paired_mentees) / consenting, 4) if consenting else None,
        ),
        mentor_load=MentorLoadSummary(
            mentors=len(mentors),
            active_pairs=len(active),
            by_mentor=_LOAD_ROWS.validate_python(
                [
                    {
                        "mentor_id": m.id,
                        "active": load.get(m.id, 0),
                        "capacity": m.places,
                        "consent": m.consent,
                    }
                    for m in mentors
                ]
            ),
            full=sum(1 for m in mentors if m.consent and load.get(m.id, 0) >= m.places),
            # A mentor without consent has no places, but their pairs are not an overload: they
            # wait for the curator's decision (service.people.consents), counted apart.
            over_capacity=sum(1 for m in mentors if m.consent and load.get(m.id, 0) > m.places),
            without_consent=sum(1 for m in mentors if not m.consent and load.get(m.id, 0)),
        ),
        waiting=WaitingSummary(
            mentees=len(waiting_days),
            max_days=waiting_days[-1] if waiting_days else None,
            median_days=statistics.median(waiting_days) if waiting_days else None,
            overdue=sum(d > ASSIGN_WITHIN_DAYS for d in waiting_days),
        ),
        satisfaction=SatisfactionBySide(
            mentees=_satisfaction(by_side[Side.mentee.value], target),
            mentors=_satisfaction(by_side[Side.mentor.value], target),
        ),
    )


def audit(session: Session, actor: Actor, org: str, limit: int = 100) -> list[AuditEventPublic]:
    """Return the latest audit events of a school, newest first."""
    organisation = organisation_for(session, actor, org)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.org_id == organisation.id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        AuditEventPublic(
            at=e.at,
            actor=e.actor,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            detail=e.detail,
        )
        for e in events
    ]


def municipality(session: Session, actor: Actor, name: str) -> list[SchoolSummary]:
    """Return the schools of a municipality with their counts, for a coordinator's batch run."""
    actor.require_municipality(name)
    orgs = session.scalars(
        visible_organisations(actor).where(Organisation.municipality == name)
    ).all()
    if not orgs:
        raise NotFound("municipality", name)
    ids = [o.id for o in orgs]
    people = Counter[tuple[int, str]](
        (org_id, side)
        for org_id, side in session.execute(
            select(Person.org_id, Person.side).where(
                Person.org_id.in_(ids), Person.consent.is_(True)
            )
        )
    )
    active = Counter[int](
        session.scalars(
            select(Pair.org_id).where(Pair.org_id.in_(ids), Pair.status == PairStatus.active.value)
        )
    )
    proposals = Counter[tuple[int, bool]]()
    for org_id, mentor_org in session.execute(
        select(Proposal.org_id, Person.org_id)
        .join(Person, Person.id == Proposal.mentor_id)
        .where(Proposal.org_id.in_(ids), Proposal.status == ProposalStatus.open.value)
    ):
        proposals[(org_id, org_id != mentor_org)] += 1
    return [
        SchoolSummary(
            code=o.code,
            name=o.name,
            mentors=people[(o.id, Side.mentor.value)],
            mentees=people[(o.id, Side.mentee.value)],
            active_pairs=active[o.id],
            open_proposals=proposals[(o.id, False)] + proposals[(o.id, True)],
            across_schools=proposals[(o.id, True)],
        )
        for o in orgs
    ]


def _indicators(report: ReportPublic, code: str | None, name: str) -> SchoolIndicators:
    load = report.mentor_load.model_copy(update={"by_mentor": []})
    return SchoolIndicators(
        code=code,
        name=name,
        coverage=report.coverage,
        waiting=report.waiting,
        satisfaction=report.satisfaction,
        mentor_load=load,
    )


def municipality_report(
    session: Session, actor: Actor, name: str, now: datetime | None = None
) -> MunicipalityReport:
    """A coordinator's report of a municipality: coverage, waiting past 30 days, satisfaction
    and mentors' load of each school and of all of them together (counted as one school, by the
    same formulas as a school's report: a virtual pair between two of its schools counts once).
    """
    actor.require_municipality(name)
    orgs = session.scalars(
        visible_organisations(actor)
        .where(Organisation.municipality == name)
        .order_by(Organisation.name, Organisation.code)
    ).all()
    if not orgs:
        raise NotFound("municipality", name)
    now = now or utcnow()
    together = _read_orgs(session, name, [o.id for o in orgs], now)  # read once, then split
    total = _summary(together, now)
    schools = []
    for org in orgs:
        report = _summary(together.part(org.code, org.id), now)
        schools.append(_indicators(report, org.code, org.name))
    return MunicipalityReport(
        municipality=name,
        generated_at=now,
        total=_indicators(total, None, name),
        schools=schools,
    )
