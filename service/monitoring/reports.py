"""Monitoring: the report of a school (people, pairs, coverage, load, waiting, satisfaction),
a municipality's schools, and the audit log of a school."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from service.people.people import forms_by_role
from service.people.schemas import WaitingPublic
from service.people.waiting import waiting_list

__all__ = ["audit", "mentor_names", "municipality", "municipality_report", "overview", "report"]


def _satisfaction(scores: list[float], target: float) -> Satisfaction:
    percent = round(10.0 * statistics.fmean(scores), 1) if scores else None
    return Satisfaction(
        responses=len(scores),
        percent=percent,
        target=target,
        meets_target=None if percent is None else percent >= target,
    )


@dataclass
class _School:
    """What a report reads of one school (or of several together), in the caller's transaction."""

    code: str
    people: Sequence[Person]
    pairs: Sequence[Pair]
    responses: list[tuple[str, float]]  # (author, satisfaction on the 1-10 scale)
    forms: dict[int, tuple[str, ...]]  # each person's forms of mentoring (by role, or the pair's)
    response_pairs: list[int] = field(default_factory=list)  # the pair of each response

    def part(self, code: str, org_id: int) -> _School:
        """What one of the schools read together holds: its people, the pairs of its mentees or
        mentors and their responses (as reading that school alone would give)."""
        people = [p for p in self.people if p.org_id == org_id]
        here = {p.id for p in people}
        pairs = [p for p in self.pairs if p.org_id == org_id or p.mentor_id in here]
        ids = {p.id for p in pairs}
        kept = [k for k, pair in enumerate(self.response_pairs) if pair in ids]
        return _School(code, people, pairs, [self.responses[k] for k in kept], self.forms,
                       [self.response_pairs[k] for k in kept])  # fmt: skip


def _read(session: Session, actor: Actor, org: str) -> _School:
    organisation = organisation_for(session, actor, org)
    return _read_orgs(session, organisation.code, [organisation.id])


def _read_orgs(session: Session, code: str, org_ids: list[int]) -> _School:
    """Read schools ``org_ids`` as one: their people, the pairs of their mentees or mentors (a
    virtual pair across two of them once) and the satisfaction answers of those pairs."""
    people = session.scalars(
        select(Person).where(Person.org_id.in_(org_ids)).order_by(Person.id)
    ).all()
    mentors = select(Person.id).where(Person.org_id.in_(org_ids), Person.side == Side.mentor.value)
    theirs = Pair.org_id.in_(org_ids) | Pair.mentor_id.in_(mentors)
    pairs = session.scalars(select(Pair).where(theirs)).all()
    rows = session.execute(
        select(Feedback.pair_id, Feedback.author, Feedback.score, Feedback.answers)
        .join(Pair, Pair.id == Feedback.pair_id)
        .where(Feedback.kind == "satisfaction", theirs)
    )
    responses, response_pairs = [], []
    for pair_id, author, score, answers in rows:
        if (value := satisfaction_value(score, answers)) is not None:
            responses.append((author, value))
            response_pairs.append(pair_id)
    forms = forms_by_role(session, list(people))
    return _School(code, people, pairs, responses, forms, response_pairs)


def mentor_names(session: Session, actor: Actor, org: str) -> dict[int, str | None]:
    """The name of each mentor of school ``org`` (the report's table of load names them)."""
    organisation = organisation_for(session, actor, org)
    return dict(
        session.execute(
            select(Person.id, Person.name).where(
                Person.org_id == organisation.id, Person.side == Side.mentor.value
            )
        ).all()
    )


def _form_of(school: _School, person: Person) -> str:
    """The form of mentoring a person is counted under: their active pair's, else the forms
    their role fits (docs/rules.md#forms), never the questionnaire's type alone."""
    return " / ".join(form_title(f) for f in school.forms.get(person.id) or (person.spec,))


def report(session: Session, actor: Actor, org: str, now: datetime | None = None) -> ReportPublic:
    """Return the monitoring report of school ``org`` (no names: counts, ids and shares)."""
    return overview(session, actor, org, now)[0]


def overview(
    session: Session, actor: Actor, org: str, now: datetime | None = None
) -> tuple[ReportPublic, list[WaitingPublic]]:
    """Return the report of school ``org`` and its waiting mentees (with names, for the pages)."""
    now = now or utcnow()
    school = _read(session, actor, org)
    waiting = waiting_list(session, school.people, now)
    return _summary(school, waiting, now), waiting


def _summary(school: _School, waiting: list[WaitingPublic], now: datetime) -> ReportPublic:
    people, pairs = school.people, school.pairs
    active = [p for p in pairs if p.status == PairStatus.active.value]
    paired_mentees = {p.mentee_id for p in active}
    mentees = [p for p in people if p.side == Side.mentee.value]
    mentors = [p for p in people if p.side == Side.mentor.value]
    load = Counter(p.mentor_id for p in active)
    waiting_days = sorted(w.days for w in waiting)
    target = satisfaction_target(now.year)
    consenting = [m for m in mentees if m.consent]
    by_side = {
        side: [v for a, v in school.responses if a == side]
        for side in (Side.mentee.value, Side.mentor.value)
    }
    return ReportPublic(
        org=school.code,
        generated_at=now,
        people=[
            PeopleCount(form=form, role=role, count=n)
            for (form, role), n in sorted(
                Counter((_form_of(school, p), p.side) for p in people).items()
            )
        ],
        pairs=[
            PairCount(form=form_title(form), status=status, count=n)
            for (form, status), n in sorted(Counter((p.form, p.status) for p in pairs).items())
        ],
        coverage=Coverage(
            mentees=len(mentees),
            mentees_with_consent=len(consenting),
            mentees_with_pair=len(paired_mentees),
            share=round(len(paired_mentees) / len(consenting), 4) if consenting else None,
        ),
        mentor_load=MentorLoadSummary(
            mentors=len(mentors),
            active_pairs=len(active),
            by_mentor=[
                MentorLoadRow(
                    mentor_id=m.id, active=load.get(m.id, 0), capacity=m.places(), consent=m.consent
                )
                for m in mentors
            ],
            full=sum(1 for m in mentors if m.consent and load.get(m.id, 0) >= m.places()),
            # A mentor without consent has no places, but their pairs are not an overload: they
            # wait for the curator's decision (service.people.consents), counted apart.
            over_capacity=sum(1 for m in mentors if m.consent and load.get(m.id, 0) > m.places()),
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
    together = _read_orgs(session, name, [o.id for o in orgs])  # read once, then split
    waiting = waiting_list(session, together.people, now)
    total = _summary(together, waiting, now)
    schools = []
    for org in orgs:
        school = together.part(org.code, org.id)
        mentees = {p.id for p in school.people}
        report = _summary(school, [w for w in waiting if w.mentee_id in mentees], now)
        schools.append(_indicators(report, org.code, org.name))
    return MunicipalityReport(
        municipality=name,
        generated_at=now,
        total=_indicators(total, None, name),
        schools=schools,
    )
