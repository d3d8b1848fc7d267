"""Suggestions, proposals and matching runs: stored answers -> ``features`` scores -> ``matching``.

A run is one of the two explicit orchestrations of the service (the other is an import): it reads
a snapshot in one short transaction, solves outside any transaction (in the solver's pool, never on
the event loop), and writes its proposals in a second short one. Everything else here takes the
caller's ``session``.
Confirmed pairs are pinned, active pairs with people outside the run count as load, rejected
pairs are forbidden, and people without recorded consent are left out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from features import answers_from_records, waiting_priority
from features.streaming import join_answers
from matching import Problem, suggest
from service.core.audit import record
from service.core.db import Database, among
from service.core.errors import Denied, DuplicatePeople, Invalid, NoConsent, NotAllowed, NotFound
from service.core.listing import Listing, ListParams, Page, choice, page_of, paginate
from service.core.models import (
    Answers,
    MatchingRun,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Ranking,
    Side,
    utcnow,
)
from service.core.rules import MAX_GROUP_SIZE, UNMATCHED_REASONS
from service.core.security import Actor, organisation_for, visible_organisations
from service.people.answered import answer_filters
from service.people.external import served_codes
from service.people.lookup import person_of
from service.people.questionnaires import load_spec_named, with_consent
from service.people.waiting import waiting_since_of
from service.runs.executor import Solver
from service.runs.schemas import (
    FreeMentorPublic,
    ProposalPublic,
    RunPublic,
    RunResultPublic,
    SuggestionPublic,
    UnmatchedPublic,
)
from service.runs.scoring import Member, Scored, score_members
from service.runs.suggesting import school_mentors

__all__ = [
    "PROPOSALS",
    "RunOptions",
    "proposals",
    "proposals_page",
    "propose",
    "public",
    "run_matching",
    "suggestions",
]


READ_CHUNK = 5_000
"""People read (and their answers validated) at once by a run."""


@dataclass(frozen=True)
class RunOptions:
    """What a curator may choose for a run."""

    objective: str = "coverage"
    min_score: float = 0.0
    max_pairs: int | None = None  # mentees x mentors one run may score (settings.pairs_per_run)


@dataclass
class _Cohort:
    """The people of one spec in the run's schools, with the curator's earlier decisions."""

    spec: str
    mentees: list[Member]
    mentors: list[Member]
    active: list[tuple[int, int, int]]  # (pair id, mentee id, mentor id)
    rejected: set[tuple[int, int]]
    rankings: dict[tuple[int, int], int] = field(default_factory=dict)  # (mentee, mentor) -> rank
    # read as columns (``_cohorts(..., columns=True)``, a region's batch): "mentees" and
    # "mentors" -> ``features.Answers``; the members then carry no records
    answers: dict[str, Any] = field(default_factory=dict)


# -- reading ---------------------------------------------------------------------------------


def _members(
    session: Session,
    org_ids: list[int],
    side: Side,
    spec: str | None,
    served: dict[int, str | None] | None = None,
    columns: list[Any] | None = None,
) -> list[Member]:
    """The consenting people of the schools ``org_ids`` on one side, and the external mentors
    ``served`` (id -> the school's code when in person: they count as of it).

    People are read ``READ_CHUNK`` at a time. ``columns``, a list, receives their answers as
    one ``features.Answers`` (of ``spec``) built chunk by chunk, and the members carry no records:
    a region's batch never holds a dict per person (about 4 KB each)."""
    served = served or {}
    within: ColumnElement[bool] = Person.org_id.in_(org_ids)
    if served:
        within = within | among(Person.id, served)
    query = (
        select(
            Person.id,
            Person.spec,
            Person.side,
            Person.capacity_limit,
            Person.entered_at,
            Person.demand,
            Person.version,
            Answers.records,
            Organisation.code,
        )
        .join(Answers, (Answers.person_id == Person.id) & (Answers.version == Person.version))
        .join(Organisation, Organisation.id == Person.org_id)
        .where(
            within,
            Person.side == side.value,
            Person.consent.is_(True),
            Person.archived_at.is_(None),
        )
        .order_by(Person.id)
    )
    if spec is not None:
        query = query.where(Person.spec == spec)
    people: list[tuple[Any, ...]] = []
    parts: list[Any] = []
    for rows in session.execute(query.execution_options(yield_per=READ_CHUNK)).partitions():
        # consenting people only
        records = [with_consent(row.spec, row.side, row.records, True) for row in rows]
        if columns is not None:
            assert spec is not None
            parts.append(answers_from_records(load_spec_named(spec), f"{side.value}s", records))
            records = [{} for _ in rows]
        people += [
            (
                row.id,
                served.get(row.id) or row.code,
                record,
                row.capacity_limit,
                row.entered_at,
                row.demand,
                row.version,
            )
            for row, record in zip(rows, records, strict=True)
        ]
    if columns is not None:
        assert spec is not None
        columns.append(join_answers(load_spec_named(spec), f"{side.value}s", parts))
    since = (
        waiting_since_of(session, [_Entered(p[0], p[4]) for p in people])  # type: ignore[misc]
        if side == Side.mentee
        else {}
    )
    return [
        Member(id, code, record, limit, since.get(id), demand, version)
        for id, code, record, limit, _, demand, version in people
    ]


class _Entered(NamedTuple):
    """What ``waiting_since_of`` reads of a mentee."""

    id: int
    entered_at: datetime


def _refuse_duplicates(session: Session, org_ids: list[int]) -> None:
    """Raise DuplicatePeople when one person (side, spec and identifying answer) is in two of
    the run's schools: the solver would see two people, the curators one."""
    identity = (Person.side, Person.spec, func.lower(Person.external_id))
    twice = (
        select(*identity)
        .where(Person.org_id.in_(org_ids), Person.consent.is_(True))
        .group_by(*identity)
        .having(func.count(func.distinct(Person.org_id)) > 1)
        .limit(100)
        .subquery()
    )
    rows = session.execute(
        select(Person.name, Person.external_id, Person.side, Organisation.name)
        .join(Organisation, Organisation.id == Person.org_id)
        .join(
            twice,
            (twice.c[0] == Person.side)
            & (twice.c[1] == Person.spec)
            & (twice.c[2] == func.lower(Person.external_id)),
        )
        .where(Person.org_id.in_(org_ids), Person.consent.is_(True))
        .order_by(func.lower(Person.external_id), Organisation.name)
    ).all()
    if not rows:
        return
    people: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for name, external_id, side, school in rows:
        role = "наставник" if side == Side.mentor.value else "наставляемый"
        shown = f"{role} {name or 'без имени'}"
        people.setdefault((side, external_id.lower()), (shown, []))[1].append(school)
    raise DuplicatePeople(list(people.values()))


def _refuse_too_big(cohorts: list[_Cohort], most: int | None) -> None:
    """Refuse, before any scoring, a run whose pairs to score pass ``most`` (it would take minutes
    and gigabytes)."""
    pairs = sum(len(c.mentees) * len(c.mentors) for c in cohorts)
    if most is not None and pairs > most:
        sizes = ", ".join(f"{len(c.mentees)} × {len(c.mentors)}" for c in cohorts if c.mentees)
        raise Invalid(
            f"Подбор не выполнен: пар для оценки {pairs} (наставляемые × наставники: {sizes}), "
            f"а за один подбор допускается не больше {most}. Подберите пары по школам или "
            "по частям."
        )


def _cohorts(
    session: Session, org_ids: list[int], columns: bool = False
) -> tuple[list[_Cohort], list[int]]:
    """The run's people by spec and the mentees without consent; ``columns``: each cohort's
    answers read as ``features.Answers`` (``_Cohort.answers``), its members without records."""
    specs = session.scalars(
        select(Person.spec).where(Person.org_id.in_(org_ids)).distinct().order_by(Person.spec)
    ).all()
    in_orgs = select(Person.id).where(Person.org_id.in_(org_ids))
    served = served_codes(session, org_ids)  # external mentors (docs/rules.md#external-mentors)
    involved = Pair.mentor_id.in_(in_orgs) | Pair.mentee_id.in_(in_orgs)
    if served:
        involved = involved | among(Pair.mentor_id, served)
    active = session.execute(
        select(Pair.id, Pair.mentee_id, Pair.mentor_id).where(
            Pair.status == PairStatus.active.value, involved
        )
    ).all()
    rejected = {
        (mentee, mentor)
        for mentee, mentor in session.execute(
            select(Proposal.mentee_id, Proposal.mentor_id).where(
                Proposal.org_id.in_(org_ids), Proposal.status == ProposalStatus.rejected.value
            )
        )
    }
    without_consent = list(
        session.scalars(
            select(Person.id).where(
                Person.org_id.in_(org_ids),
                Person.side == Side.mentee.value,
                Person.consent.is_(False),
                Person.archived_at.is_(None),
                ~select(Pair.id)
                .where(Pair.mentee_id == Person.id, Pair.status == PairStatus.active.value)
                .exists(),
            )
        ).all()
    )
    rankings = {
        (mentee, mentor): rank
        for mentee, mentor, rank in session.execute(
            select(Ranking.mentee_id, Ranking.mentor_id, Ranking.rank).where(
                Ranking.mentee_id.in_(in_orgs)
            )
        )
    }
    cohorts = []
    for spec in specs:
        mentee_answers: list[Any] | None = [] if columns else None
        mentor_answers: list[Any] | None = [] if columns else None
        cohort = _Cohort(
            spec,
            _members(session, org_ids, Side.mentee, spec, columns=mentee_answers),
            _members(session, org_ids, Side.mentor, spec, served, columns=mentor_answers),
            [tuple(row) for row in active],  # type: ignore[misc]
            rejected,
            rankings,
        )
        if mentee_answers and mentor_answers:
            cohort.answers = {"mentees": mentee_answers[0], "mentors": mentor_answers[0]}
        cohorts.append(cohort)
    return cohorts, without_consent


# -- building the solver's problem ------------------------------------------------------------


@dataclass
class _Built:
    scored: Scored | None
    rows: list[int]  # problem row -> scored row
    problem: Problem | None
    pinned_pairs: dict[tuple[int, int], int]  # (problem row, column) -> pair id


#: docs/rules.md#choice — a mentee's ranked mentor gets a bonus on the pair's score in the
#: solver's problem: RANK_BONUS for the first choice, less for later ones (rank k of
#: RANK_LEVELS: RANK_BONUS * (RANK_LEVELS + 1 - k) / RANK_LEVELS). A priority, not a rule: the
#: stored proposal keeps the pair's own score, a disallowed pair stays disallowed, and coverage
#: (the most mentees matched) still comes first.
RANK_BONUS = 0.1
RANK_LEVELS = 5


def _with_rankings(
    scores: Any, mentee_ids: list[int], mentor_ids: list[int], rankings: dict[tuple[int, int], int]
) -> Any:
    """The scores with the rankings' bonuses added to the ranked, allowed pairs."""
    if not rankings:
        return scores
    ranked = scores.copy()
    for row, mentee_id in enumerate(mentee_ids):
        for k in range(ranked.indptr[row], ranked.indptr[row + 1]):
            rank = rankings.get((mentee_id, mentor_ids[ranked.indices[k]]))
            if rank is not None and rank <= RANK_LEVELS:
                ranked.data[k] += RANK_BONUS * (RANK_LEVELS + 1 - rank) / RANK_LEVELS
    return ranked


def solver_counts(counts: np.ndarray) -> np.ndarray:
    """A mentor's places or load as the solver takes them: at most the largest group a school may
    set (docs/rules.md#group); the form's maximum at the school is held by confirmation."""
    return np.minimum(np.asarray(counts, dtype=np.int64), MAX_GROUP_SIZE)


def _build(
    cohort: _Cohort, options: RunOptions, score: Callable[..., Scored] = score_members
) -> _Built:
    """The solver's problem for one cohort; ``score`` turns its people into pair scores
    (``score_members``, or ``compact.score_compact`` for a region's batch)."""
    mentee_row = {m.id: i for i, m in enumerate(cohort.mentees)}
    mentor_column = {m.id: j for j, m in enumerate(cohort.mentors)}
    load = np.zeros(len(cohort.mentors), dtype=np.int64)
    pinned: dict[tuple[int, int], int] = {}
    # a mentee's active pairs with mentors outside the run count against their demand
    elsewhere = np.zeros(len(cohort.mentees), dtype=np.int64)
    for pair_id, mentee_id, mentor_id in cohort.active:
        i, j = mentee_row.get(mentee_id), mentor_column.get(mentor_id)
        if i is not None and j is not None:
            pinned[(i, j)] = pair_id
        else:
            if j is not None:
                load[j] += 1
            if i is not None:
                elsewhere[i] += 1
    if not cohort.mentees or not cohort.mentors:
        return _Built(None, [], None, {})
    scored = score(cohort.spec, cohort.mentees, cohort.mentors)
    for i, j in list(pinned):
        if not scored.allowed(i, j):  # the answers changed since: keep the pair, do not pin it
            del pinned[(i, j)]
            load[j] += 1
            elsewhere[i] += 1
    wanted = np.array([m.demand for m in cohort.mentees], dtype=np.int64) - elsewhere
    rows = [i for i in range(len(cohort.mentees)) if wanted[i] > 0]
    row_of = {i: k for k, i in enumerate(rows)}
    pins = {(row_of[i], j): pair_id for (i, j), pair_id in pinned.items()}
    used = load.copy()
    for _, j in pins:
        used[j] += 1
    forbidden = [
        (row_of[mentee_row[a]], mentor_column[b])
        for a, b in cohort.rejected
        if a in mentee_row and b in mentor_column and mentee_row[a] in row_of
    ]
    now = utcnow()
    waited = [
        np.nan if m.waiting_since is None else (now - m.waiting_since).days for m in cohort.mentees
    ]
    scores = _with_rankings(
        scored.scores if len(rows) == len(cohort.mentees) else scored.scores[rows],
        [cohort.mentees[i].id for i in rows],
        [m.id for m in cohort.mentors],
        cohort.rankings,
    )
    problem = Problem(
        scores,
        # a lowered limit keeps the pairs already made
        solver_counts(np.maximum(scored.capacity, used)),
        priority=waiting_priority(np.array(waited, dtype=float)[rows]),  # past 30 days: first
        min_score=options.min_score,
        load=solver_counts(load),
        demand=wanted[rows],  # docs/rules.md#co-mentors: pinned pairs count towards it
        max_capacity=MAX_GROUP_SIZE,
        pinned=list(pins),
        forbidden=[pair for pair in forbidden if pair not in pins],
        objective=options.objective,  # type: ignore[arg-type]
    )
    return _Built(scored, rows, problem, pins)


# -- the run ----------------------------------------------------------------------------------


def _scope(session: Session, actor: Actor, org: str | None, municipality: str | None) -> list[int]:
    if org is not None:
        return [organisation_for(session, actor, org).id]
    assert municipality is not None
    actor.require_municipality(municipality)
    orgs = session.scalars(
        visible_organisations(actor).where(Organisation.municipality == municipality)
    ).all()
    if not orgs:
        raise NotFound("municipality", municipality)
    return [o.id for o in orgs]


def run_matching(
    db: Database,
    solver: Solver,
    actor: Actor,
    options: RunOptions,
    org: str | None = None,
    municipality: str | None = None,
) -> RunPublic:
    """Propose pairs for one school (``org``) or for all schools of a ``municipality``."""
    started = time.perf_counter()
    with db.read() as session:  # one snapshot of the run's schools
        org_ids = _scope(session, actor, org, municipality)
        if len(org_ids) > 1:
            _refuse_duplicates(session, org_ids)
        cohorts, without_consent = _cohorts(session, org_ids)
    _refuse_too_big(cohorts, options.max_pairs)
    found: list[tuple[int, int, float, list[str], str]] = []
    unmatched: list[int] = []
    # A run never ends a pair: every active pair of its schools is kept, those of people without
    # consent too (they wait for the curator's decision, docs/rules.md#consent-withdrawn).
    kept = sorted({pair_id for cohort in cohorts for pair_id, _, _ in cohort.active})
    reasons: dict[int, str] = dict.fromkeys(without_consent, "no_consent")
    free: dict[int, int] = {}
    capacities: dict[int, int] = {}
    scope = ("org", org_ids[0]) if municipality is None else ("municipality", municipality)
    for cohort in cohorts:
        # scores of people whose answers did not change since the last run are not recomputed,
        # and the solver starts from the last answer (service.runs.cache)
        built = _build(cohort, options, score=solver.cache.scorer(scope))
        if built.problem is None or built.scored is None:
            paired = {mentee for _, mentee, _ in cohort.active}
            left = [m.id for m in cohort.mentees if m.id not in paired]
            unmatched += left
            reasons.update(dict.fromkeys(left, "no_mentors"))
            continue
        scored = built.scored
        ids = ([scored.mentees[i].id for i in built.rows], [m.id for m in scored.mentors])
        warm = solver.cache.answer(scope, cohort.spec, *ids)
        if municipality is not None:
            result = solver.batch(built.problem, warm=warm, keep_networks=True)
        else:
            result = solver.solve(built.problem, warm=warm, keep_networks=True)
        solver.cache.remember(scope, cohort.spec, result, *ids)
        pairs = result.pairs
        matched = {row for row, _ in pairs}
        left_rows = [r for r in range(len(built.rows)) if r not in matched]
        unmatched += [scored.mentees[built.rows[r]].id for r in left_rows]
        reasons.update(_why_unmatched(built, left_rows, options.min_score))
        free.update(_free_places(built, pairs))
        for row, column in pairs:
            if (row, column) in built.pinned_pairs:
                continue
            i = built.rows[row]
            found.append(
                (
                    scored.mentees[i].id,
                    scored.mentors[column].id,
                    scored.score(i, column),
                    scored.reasons(i, column),
                    scored.form(i, column),
                )
            )
        raw = np.asarray(scored.pair_scores.capacity)
        capacities.update({m.id: int(raw[j]) for j, m in enumerate(scored.mentors)})
    seconds = time.perf_counter() - started
    return _store_run(
        db,
        actor,
        options,
        org_ids,
        municipality,
        found,
        sorted(unmatched),
        kept,
        capacities,
        without_consent,
        seconds,
        reasons,
        free,
    )


def _why_unmatched(built: _Built, rows: list[int], min_score: float) -> dict[int, str]:
    """Why each mentee left without a pair got none: no mentor is allowed at all (the hard
    rules, the minimum score, the curator's rejections) or every allowed one's places went to
    pairs that count more (a better total, or mentees waiting longer)."""
    assert built.problem is not None
    assert built.scored is not None
    scores = built.problem.scores.tocsr() if hasattr(built.problem.scores, "tocsr") else None
    forbidden = set(built.problem.forbidden)
    found = {}
    for r in rows:
        mentee = built.scored.mentees[built.rows[r]].id
        if scores is None:
            found[mentee] = "places_taken"
            continue
        start, end = scores.indptr[r], scores.indptr[r + 1]
        allowed = [
            int(j)
            for j, value in zip(scores.indices[start:end], scores.data[start:end], strict=True)
            if value >= min_score
        ]
        if not allowed:
            found[mentee] = "no_allowed_mentor"
        elif all((r, j) in forbidden for j in allowed):
            found[mentee] = "only_rejected"
        else:
            found[mentee] = "places_taken"
    return found


def _free_places(built: _Built, pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """The mentors left with free places after the run's pairs and the pairs already made."""
    assert built.problem is not None
    assert built.scored is not None
    used = np.asarray(built.problem.load, dtype=np.int64).copy()
    for _, column in pairs:
        used[column] += 1
    capacity = np.asarray(built.problem.capacity, dtype=np.int64)
    return {
        m.id: int(capacity[j] - used[j])
        for j, m in enumerate(built.scored.mentors)
        if capacity[j] > used[j]
    }


def _store_run(
    db: Database,
    actor: Actor,
    options: RunOptions,
    org_ids: list[int],
    municipality: str | None,
    found: list[tuple[int, int, float, list[str], str]],
    unmatched: list[int],
    kept: list[int],
    capacities: dict[int, int],
    without_consent: list[int],
    seconds: float,
    reasons: dict[int, str],
    free: dict[int, int],
    region: str | None = None,
) -> RunPublic:
    with db.write() as session:
        run = MatchingRun(
            org_id=org_ids[0] if municipality is None and region is None else None,
            municipality=municipality,
            region=region,
            user_id=actor.user_id,
            objective=options.objective,
            min_score=options.min_score,
            mentees=len(found) + len(unmatched),
            mentors=len(capacities),
            proposed=len(found),
            kept=len(kept),
            unmatched=unmatched,
            total_score=float(sum(f[2] for f in found)),
            seconds=seconds,
            unmatched_reasons={str(k): v for k, v in sorted(reasons.items())},
            free_mentors={str(k): v for k, v in sorted(free.items())},
        )
        session.add(run)
        session.flush()
        session.execute(
            update(Proposal)
            .where(Proposal.org_id.in_(org_ids), Proposal.status == ProposalStatus.open.value)
            .values(status=ProposalStatus.superseded.value, status_reason="new_run")
        )
        _store_capacities(session, capacities)
        stored = _store_proposals(session, run.id, found)
        record(
            session,
            actor,
            "run",
            "matching_run",
            run.id,
            run.org_id,
            municipality=municipality,
            proposed=len(stored),
            kept=len(kept),
            unmatched=len(unmatched),
            objective=options.objective,
        )
        return RunPublic(
            run_id=run.id,
            proposals=stored,
            unmatched=unmatched,
            kept=sorted(kept),
            without_consent=len(without_consent),
            seconds=round(seconds, 4),
        )


STORE_CHUNK = 5_000
"""Proposals written by one statement (a region's run stores over a hundred thousand)."""


def _store_proposals(
    session: Session, run_id: int, found: list[tuple[int, int, float, list[str], str]]
) -> list[ProposalPublic]:
    """Write a run's proposals (``STORE_CHUNK`` rows a statement, no ORM object a row) and return
    them as the API shows them, the names read once for all."""
    school = aliased(Organisation)
    people = {
        row.id: row
        for row in session.execute(
            select(Person.id, Person.name, Person.org_id, school.name.label("school"))
            .join(school, school.id == Person.org_id)
            .where(among(Person.id, {person for pair in found for person in pair[:2]}))
        )
    }
    out: list[ProposalPublic] = []
    for lo in range(0, len(found), STORE_CHUNK):
        values = [
            {
                "run_id": run_id,
                "org_id": people[mentee].org_id,
                "mentee_id": mentee,
                "mentor_id": mentor,
                "score": round(score, 6),
                "reasons": reasons,
                "form": form,
            }
            for mentee, mentor, score, reasons, form in found[lo : lo + STORE_CHUNK]
        ]
        written = session.execute(
            insert(Proposal).returning(
                Proposal.id, Proposal.status, Proposal.created_at, sort_by_parameter_order=True
            ),
            values,
        ).all()
        for value, row in zip(values, written, strict=True):
            mentee, mentor = people[value["mentee_id"]], people[value["mentor_id"]]
            out.append(
                ProposalPublic(
                    proposal_id=row.id,
                    run_id=run_id,
                    mentee_id=mentee.id,
                    mentor_id=mentor.id,
                    mentee_name=mentee.name,
                    mentor_name=mentor.name,
                    score=value["score"],
                    reasons=[str(r) for r in value["reasons"]],
                    form=value["form"],
                    status=row.status,
                    created_at=row.created_at,
                    mentee_org=mentee.school,
                    mentor_org=mentor.school,
                    remote=mentee.org_id != mentor.org_id,
                )
            )
    return out


def _store_capacities(session: Session, capacities: dict[int, int]) -> None:
    by_value: dict[int, list[int]] = defaultdict(list)
    for person_id, capacity in capacities.items():
        by_value[capacity].append(person_id)
    for capacity, ids in by_value.items():
        session.execute(update(Person).where(among(Person.id, ids)).values(capacity=capacity))


# -- one mentee at a time ---------------------------------------------------------------------


def public(proposal: Proposal) -> ProposalPublic:
    """The API shape of a proposal, with both names."""
    return ProposalPublic(
        proposal_id=proposal.id,
        run_id=proposal.run_id,
        mentee_id=proposal.mentee_id,
        mentor_id=proposal.mentor_id,
        mentee_name=proposal.mentee.name,
        mentor_name=proposal.mentor.name,
        score=proposal.score,
        reasons=[str(r) for r in proposal.reasons],
        form=proposal.form,
        status=proposal.status,
        status_reason=proposal.status_reason,
        created_at=proposal.created_at,
        mentee_org=proposal.mentee.org.name,
        mentor_org=proposal.mentor.org.name,
        remote=proposal.mentee.org_id != proposal.mentor.org_id,
    )


def proposals(
    session: Session, actor: Actor, org: str, status: str | None = "open"
) -> list[ProposalPublic]:
    """Return the proposals of a school, best first."""
    organisation = organisation_for(session, actor, org)
    query = (
        select(Proposal)
        .where(Proposal.org_id == organisation.id)
        .order_by(Proposal.score.desc(), Proposal.id)
    )
    if status is not None:
        query = query.where(Proposal.status == status)
    return [public(p) for p in session.scalars(query)]


_Mentee = aliased(Person, name="mentee")
_Mentor = aliased(Person, name="mentor")
_MenteeOrg = aliased(Organisation, name="mentee_org")
_MentorOrg = aliased(Organisation, name="mentor_org")

PROPOSALS = Listing(
    search=[_Mentee.name, _Mentor.name],
    sorts={
        "score": [Proposal.score, Proposal.id],
        "mentee": [_Mentee.name, Proposal.id],
        "mentor": [_Mentor.name, Proposal.id],
        "created": [Proposal.created_at, Proposal.id],
    },
    sort_columns={
        "score": "Совместимость",
        "mentee": "Наставляемый",
        "mentor": "Наставник",
        "created": "Дата предложения",
    },
    filters={
        "status": choice(Proposal.status, {s.value: s.value for s in ProposalStatus}, "Состояние"),
        "form": lambda value: Proposal.form == value,
        "run": lambda value: Proposal.run_id == (int(value) if value.isdigit() else -1),
        **answer_filters(_Mentee, _Mentor),
    },
    default_sort="-score",
    sort_titles={
        "-score": "лучшие сначала",
        "mentee": "по наставляемому",
        "mentor": "по наставнику",
        "-created": "новые сначала",
    },
)


def proposals_page(
    session: Session, actor: Actor, org: str, params: ListParams
) -> Page[ProposalPublic]:
    """One page of a school's proposals: searched by either name, filtered, sorted."""
    organisation = organisation_for(session, actor, org)
    query: Any = (  # a row of several columns: paginate returns them as tuples
        # the names as columns of the page's one statement, not four more objects a row
        select(
            Proposal,
            _Mentee.name,
            _Mentor.name,
            _MenteeOrg.name,
            _MentorOrg.name,
            _Mentee.org_id != _Mentor.org_id,
        )
        .join(_Mentee, _Mentee.id == Proposal.mentee_id)
        .join(_Mentor, _Mentor.id == Proposal.mentor_id)
        .join(_MenteeOrg, _MenteeOrg.id == _Mentee.org_id)
        .join(_MentorOrg, _MentorOrg.id == _Mentor.org_id)
        .where(Proposal.org_id == organisation.id)
    )
    found, total = paginate(session, query, PROPOSALS, params)
    return page_of([_public_row(*row) for row in found], params, total)


def _public_row(
    proposal: Proposal,
    mentee_name: str | None,
    mentor_name: str | None,
    mentee_org: str,
    mentor_org: str,
    remote: bool,
) -> ProposalPublic:
    """:func:`public` of a proposal read with its names."""
    return ProposalPublic(
        proposal_id=proposal.id,
        run_id=proposal.run_id,
        mentee_id=proposal.mentee_id,
        mentor_id=proposal.mentor_id,
        mentee_name=mentee_name,
        mentor_name=mentor_name,
        score=proposal.score,
        reasons=[str(r) for r in proposal.reasons],
        form=proposal.form,
        status=proposal.status,
        status_reason=proposal.status_reason,
        created_at=proposal.created_at,
        mentee_org=mentee_org,
        mentor_org=mentor_org,
        remote=bool(remote),
    )


def require_consent(person: Person) -> None:
    """Raise NoConsent unless every consent asked of ``person`` is recorded."""
    if not person.consent:
        raise NoConsent(person.id, person.name, person.side)


def _current_member(session: Session, person: Person) -> Member:
    records = session.scalar(
        select(Answers.records).where(
            Answers.person_id == person.id, Answers.version == person.version
        )
    )
    records = with_consent(person.spec, person.side, records or {}, person.consent)
    return Member(person.id, person.org.code, records, person.capacity_limit)


def score_pair(session: Session, mentee: Person, mentor: Person) -> Scored:
    """Score one pair of stored people, or raise NotAllowed when the hard rules forbid it."""
    if mentor.spec != mentee.spec:
        raise NotAllowed("наставник отвечал на анкету другой формы наставничества")
    for person in (mentee, mentor):
        require_consent(person)
    mentor_member = _current_member(session, mentor)
    if served_codes(session, [mentee.org_id]).get(mentor.id):  # serves the school in person
        mentor_member = replace(mentor_member, org_code=mentee.org.code)
    scored = score_members(mentee.spec, [_current_member(session, mentee)], [mentor_member])
    if not scored.allowed(0, 0):
        reasons = scored.pair_scores.blocked(0, 0)
        raise NotAllowed("; ".join(str(r) for r in reasons) or "форма наставничества не подходит")
    return scored


def _active_load(session: Session, mentor_ids: Iterable[int]) -> dict[int, int]:
    rows = session.execute(
        select(Pair.mentor_id).where(
            Pair.status == PairStatus.active.value, among(Pair.mentor_id, mentor_ids)
        )
    ).all()
    load: dict[int, int] = defaultdict(int)
    for (mentor_id,) in rows:
        load[mentor_id] += 1
    return load


def suggestions(
    session: Session, actor: Actor, org: str, mentee_id: int, k: int = 5
) -> list[SuggestionPublic]:
    """Return up to ``k`` mentors for one mentee, best first, with reasons.

    Only mentors with a free place, an allowed pair not rejected before, and consent.

    Raises
    ------
    NotFound
        When the mentee is not one of school ``org``'s.
    NoConsent
        When the mentee's consent is not recorded.
    """
    mentee = person_of(session, actor, org, mentee_id, Side.mentee)
    require_consent(mentee)
    member = _current_member(session, mentee)
    served = served_codes(session, [mentee.org_id])
    # the mentors of `_members`, their answers parsed once per process (service.runs.suggesting)
    found = school_mentors(session, mentee.org_id, mentee.spec, served)
    mentors = found.members
    load = _active_load(session, [m.id for m in mentors])
    current = set(
        session.scalars(
            select(Pair.mentor_id).where(
                Pair.mentee_id == mentee.id, Pair.status == PairStatus.active.value
            )
        )
    )
    rejected = set(
        session.scalars(
            select(Proposal.mentor_id).where(
                Proposal.mentee_id == mentee.id,
                Proposal.status == ProposalStatus.rejected.value,
            )
        )
    )
    if not mentors:
        return []
    names = found.names
    scored = score_members(mentee.spec, [member], mentors, found.answers)
    loads = np.array([load.get(m.id, 0) for m in mentors], dtype=np.int64)
    problem = Problem(
        scored.scores,
        solver_counts(np.maximum(scored.capacity, loads)),
        load=solver_counts(loads),
        max_capacity=MAX_GROUP_SIZE,
        forbidden=[(0, j) for j, m in enumerate(mentors) if m.id in rejected | current],
    )
    return [
        SuggestionPublic(
            mentor_id=mentors[j].id,
            mentor_name=names.get(mentors[j].id),
            score=round(float(score), 6),
            reasons=scored.reasons(0, j),
        )
        for j, score in suggest(problem, 0, k=k)
    ]


def propose(
    session: Session, actor: Actor, org: str, mentee_id: int, mentor_id: int
) -> ProposalPublic:
    """Make a proposal of one pair a curator chose (say, from the suggestions).

    Proposing the same open pair twice (a double click) returns the first proposal.

    Raises
    ------
    NotFound
        When the mentee is not school ``org``'s or the mentor is not visible to the actor.
    NoConsent, NotAllowed
        When a person lacks consent or the hard rules do not allow the pair.
    """
    mentee = person_of(session, actor, org, mentee_id, Side.mentee)
    mentor = session.get(Person, mentor_id)
    if mentor is None or mentor.side != Side.mentor.value or not actor.sees(mentor.org):
        raise NotFound("mentor", mentor_id)
    scored = score_pair(session, mentee, mentor)
    existing = session.scalar(
        select(Proposal).where(
            Proposal.mentee_id == mentee.id,
            Proposal.mentor_id == mentor.id,
            Proposal.status == ProposalStatus.open.value,
        )
    )
    if existing is not None:
        return public(existing)
    proposal = Proposal(
        org_id=mentee.org_id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        score=round(scored.score(0, 0), 6),
        reasons=scored.reasons(0, 0),
        form=scored.form(0, 0),
    )
    session.add(proposal)
    session.flush()
    record(session, actor, "create", "proposal", proposal.id, proposal.org_id)
    return public(proposal)


def active_pair_of(session: Session, mentee_id: int) -> tuple[int, int, str | None] | None:
    """The active pair of a mentee as (pair id, mentor id, mentor's name), or None."""
    row = session.execute(
        select(Pair.id, Pair.mentor_id, Person.name)
        .join(Person, Person.id == Pair.mentor_id)
        .where(Pair.mentee_id == mentee_id, Pair.status == PairStatus.active.value)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def run_result(session: Session, actor: Actor, run_id: int) -> RunResultPublic:
    """A run's result: the mentees left without a pair with the reason for each, and the mentors
    left with free places, by name. A school's run is seen by whoever sees the school; a
    municipality's by its coordinator (and an admin)."""
    run = session.get(MatchingRun, run_id)
    if run is None:
        raise NotFound("run", run_id)
    school = session.get(Organisation, run.org_id) if run.org_id is not None else None
    if school is not None:
        if not actor.sees(school):
            raise NotFound("run", run_id)
    else:
        try:
            actor.require_municipality(run.municipality or "")
        except (NotFound, Denied) as exc:
            raise NotFound("run", run_id) from exc
    reasons = {int(k): str(v) for k, v in (run.unmatched_reasons or {}).items()}
    for mentee_id in run.unmatched:  # a run stored before the reasons were
        reasons.setdefault(int(mentee_id), "places_taken")
    free = {int(k): int(v) for k, v in (run.free_mentors or {}).items()}
    people = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.id.in_([*reasons, *free])))
        if actor.sees(p.org)
    }
    unmatched = [
        UnmatchedPublic(
            mentee_id=i,
            name=people[i].name,
            school=people[i].org.name,
            reason=reason,
            why=UNMATCHED_REASONS.get(reason, reason),
        )
        for i, reason in reasons.items()
        if i in people
    ]
    mentors = [
        FreeMentorPublic(mentor_id=i, name=people[i].name, school=people[i].org.name, free=n)
        for i, n in free.items()
        if i in people
    ]
    return RunResultPublic(
        run_id=run.id,
        org=school.code if school else None,
        municipality=run.municipality,
        created_at=run.created_at,
        proposed=run.proposed,
        kept=run.kept,
        unmatched=sorted(unmatched, key=lambda u: (u.reason, u.name or "", u.mentee_id)),
        free_mentors=sorted(mentors, key=lambda m: (-m.free, m.name or "", m.mentor_id)),
    )
