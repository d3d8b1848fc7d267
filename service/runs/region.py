"""A region-wide batch: virtual pairs across municipalities, scored and solved block by block
where the solver's batches run (Dask workers with ``NASTAVNIK_DASK_SCHEDULER``, else this
process's pool), so that no process holds the pair scores of the whole region.

Two passes, each a set of independent blocks run in parallel:

1. one block per municipality and questionnaire spec: its people are scored and solved inside a
   worker, as a municipality batch would (virtual pairs between its schools included);
2. across municipalities, per spec: the mentees left without a mentor in pass 1 who meet
   remotely, with the mentors who still have a free place and meet remotely (the hard rules of
   ``features`` allow a pair of two schools only when both accept remote meetings; pass 1 is
   optimal inside each municipality, so no pair inside one is left to find). The mentees are
   scored in chunks where the blocks run; each chunk sends back its mentees' ``REMOTE_TOP``
   best pairs only, and one problem over those pairs is solved here. With many remote people
   this is a bound on the pass (a mentee's 41st best mentor is never proposed), not an
   optimum over all their pairs.

Scores are 32-bit arrays built chunk by chunk (``service.runs.compact``), never a dense matrix
nor an object per pair; reasons and forms are computed for the proposed pairs only.

What travels to a worker is the block's members (answers) and what comes back its proposals; the
score matrices live and die inside the worker. Proposals, capacities and the run are stored like
any run (``runs._store_run``): open proposals of the region's schools are superseded.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from sqlalchemy import select

from features import waiting_priority
from matching import Problem, solve
from service.core.db import Database, among
from service.core.errors import NotFound
from service.core.models import Answers, Organisation, Person, Side, utcnow
from service.core.security import Actor, visible_organisations
from service.people.questionnaires import with_consent
from service.people.waiting import waiting_since_of
from service.runs.compact import CompactScored, give_back_large_blocks, score_compact
from service.runs.executor import Solver
from service.runs.runs import RunOptions, _build, _Cohort, _cohorts, _store_run
from service.runs.schemas import RunPublic
from service.runs.scoring import Member

__all__ = ["Outcome", "run_region", "solve_cohort"]


@dataclass
class Outcome:
    """What one block gives back: proposals and who is left, never its scores."""

    found: list[tuple[int, int, float, list[str], str]] = field(default_factory=list)
    unmatched: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    capacities: dict[int, int] = field(default_factory=dict)
    full: set[int] = field(default_factory=set)  # mentors with no free place left
    remote_left: list[int] = field(default_factory=list)  # unmatched mentees meeting remotely
    remote_free: dict[int, int] = field(default_factory=dict)  # such mentors -> free places


def solve_cohort(task: tuple[_Cohort, RunOptions]) -> Outcome:
    """Score and solve one block (run inside a worker); return its proposals.

    Scores are kept as 32-bit arrays (``compact.score_compact``, mentees chunk by chunk); reasons
    and forms are computed for the chosen pairs only."""
    cohort, options = task
    give_back_large_blocks()
    outcome = Outcome()
    built = _build(cohort, options, score=partial(score_compact, answers=cohort.answers))
    outcome.kept = sorted({pair_id for pair_id, _, _ in cohort.active})
    if built.problem is None or built.scored is None:
        return _one_side(cohort, outcome)
    scored, problem = built.scored, built.problem
    assert isinstance(scored, CompactScored)
    # The answers are in ``scored`` now: let the records go (the caller's cohort too).
    if not cohort.answers:
        scored.mentees = cohort.mentees = [
            dataclasses.replace(m, records={}) for m in cohort.mentees
        ]
        scored.mentors = cohort.mentors = [
            dataclasses.replace(m, records={}) for m in cohort.mentors
        ]
    cohort.answers = {}
    taken = np.asarray(problem.load, dtype=np.int64).copy()
    places = np.asarray(problem.capacity, dtype=np.int64).copy()
    pairs = solve(problem).pairs  # the solver splits it into its independent blocks
    built.problem = None
    del problem  # its float64 copy of the scores
    matched = np.zeros(len(built.rows), dtype=bool)
    chosen = []
    for row, column in pairs:
        matched[row] = True
        taken[column] += 1
        if (row, column) not in built.pinned_pairs:
            chosen.append((built.rows[row], column))
    details = scored.details(chosen)
    data = scored.scores
    for (i, j), (reasons, form) in zip(chosen, details, strict=True):
        lo, hi = data.indptr[i], data.indptr[i + 1]
        k = lo + int(np.searchsorted(data.indices[lo:hi], j))
        outcome.found.append(
            (scored.mentees[i].id, scored.mentors[j].id, float(data.data[k]), reasons, form)
        )
    left_rows = [built.rows[r] for r in np.flatnonzero(~matched)]
    outcome.unmatched = [scored.mentees[i].id for i in left_rows]
    remote_mentee = np.asarray(scored.mentee_answers.remote)
    outcome.remote_left = [scored.mentees[i].id for i in left_rows if remote_mentee[i]]
    raw = scored.raw_capacity
    outcome.capacities = {m.id: int(raw[j]) for j, m in enumerate(scored.mentors)}
    outcome.full = {m.id for j, m in enumerate(scored.mentors) if taken[j] >= places[j]}
    remote_mentor = np.asarray(scored.mentor_answers.remote)
    outcome.remote_free = {
        m.id: int(places[j] - taken[j])
        for j, m in enumerate(scored.mentors)
        if remote_mentor[j] and taken[j] < places[j]
    }
    return outcome


def _one_side(cohort: _Cohort, outcome: Outcome) -> Outcome:
    """A block with mentees only or mentors only: nothing to solve, all of them left for the
    pass across municipalities."""
    from service.people.questionnaires import load_spec_named
    from service.runs.scoring import _answers

    spec = load_spec_named(cohort.spec)
    paired = {mentee for _, mentee, _ in cohort.active}
    outcome.unmatched = [m.id for m in cohort.mentees if m.id not in paired]

    def read(side: str, members: list[Member]) -> Any:
        return cohort.answers[side] if cohort.answers else _answers(spec, side, members)

    if cohort.mentees:
        remote = np.asarray(read("mentees", cohort.mentees).remote)
        left = set(outcome.unmatched)
        outcome.remote_left = [
            m.id for k, m in enumerate(cohort.mentees) if remote[k] and m.id in left
        ]
    if cohort.mentors:
        answers = read("mentors", cohort.mentors)
        places = np.where(answers.consent, answers.capacity, 0)
        load: defaultdict[int, int] = defaultdict(int)
        for _, _, mentor in cohort.active:
            load[mentor] += 1
        for k, m in enumerate(cohort.mentors):
            outcome.capacities[m.id] = int(places[k])
            limit = places[k] if m.capacity_limit is None else min(places[k], m.capacity_limit)
            free = int(limit) - load[m.id]
            if answers.remote[k] and free > 0:
                outcome.remote_free[m.id] = free
    return outcome


#: The pass across municipalities keeps, for each mentee, this many best mentors with a free
#: place (scored in chunks of REMOTE_CHUNK mentees where the blocks run): the driver solves
#: those pairs only, never all pairs between the region's remote mentees and mentors.
REMOTE_TOP = 40
REMOTE_CHUNK = 5_000


@dataclass
class _RemoteTask:
    spec: str
    mentees: list[Member]
    mentors: list[Member]
    rejected: set[tuple[int, int]]
    min_score: float
    top: int


def remote_candidates(task: _RemoteTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best ``task.top`` allowed, not rejected pairs of each mentee of a chunk with the
    mentors (run where the blocks run): person ids of both and the pair's score."""
    scored = score_compact(task.spec, task.mentees, task.mentors)
    matrix = scored.scores
    counts = np.diff(matrix.indptr)
    row = np.repeat(np.arange(len(task.mentees), dtype=np.int64), counts)
    mentee_ids = np.array([m.id for m in task.mentees], dtype=np.int64)
    mentor_ids = np.array([m.id for m in task.mentors], dtype=np.int64)
    mentee, mentor, score = mentee_ids[row], mentor_ids[matrix.indices], matrix.data
    keep = score >= task.min_score
    if task.rejected:
        rejected = np.array(sorted(task.rejected), dtype=np.int64)
        keep &= ~np.isin(mentee * (1 << 32) + mentor, rejected[:, 0] * (1 << 32) + rejected[:, 1])
    row, mentee, mentor, score = row[keep], mentee[keep], mentor[keep], score[keep]
    order = np.lexsort((-score, row))  # best first within each mentee
    row, mentee, mentor, score = row[order], mentee[order], mentor[order], score[order]
    first = np.searchsorted(row, row)  # position of each mentee's first pair
    best = np.arange(len(row)) - first < task.top
    return mentee[best], mentor[best], score[best].astype(np.float32)


def _read_members(db: Database, ids: set[int]) -> dict[str, _Cohort]:
    """The current answers of these people, by spec (mentees and mentors sorted by id)."""
    by_spec: dict[str, _Cohort] = {}
    if not ids:
        return by_spec
    query = (
        select(
            Person.id,
            Person.side,
            Person.spec,
            Person.capacity_limit,
            Person.entered_at,
            Person.version,
            Person.demand,
            Answers.records,
            Organisation.code,
        )
        .join(Answers, (Answers.person_id == Person.id) & (Answers.version == Person.version))
        .join(Organisation, Organisation.id == Person.org_id)
        .where(among(Person.id, ids))
        .order_by(Person.id)
    )
    with db.read() as session:
        rows = session.execute(query).all()
        mentees = [row for row in rows if row.side == Side.mentee.value]
        since = waiting_since_of(session, mentees)  # type: ignore[arg-type]
    for row in rows:
        cohort = by_spec.setdefault(row.spec, _Cohort(row.spec, [], [], [], set()))
        row.records.update(with_consent(row.spec, row.side, {}, True))
        member = Member(
            row.id,
            row.code,
            row.records,
            row.capacity_limit,
            since.get(row.id),
            demand=row.demand,
            version=row.version,
        )
        (cohort.mentees if row.side == Side.mentee.value else cohort.mentors).append(member)
    return by_spec


def _remote_pass(
    db: Database,
    solver: Solver,
    options: RunOptions,
    cohorts: list[_Cohort],
    remote_left: set[int],
    remote_free: dict[int, int],
) -> list[tuple[int, int, float, list[str], str]]:
    """Pairs across municipalities between mentees left without a mentor and mentors with a
    free place, both meeting remotely: their answers are read again (pass 1 let them go),
    candidates are scored chunk by chunk where the blocks run, the best ``REMOTE_TOP`` of each
    mentee come back and one problem is solved here."""
    by_spec = _read_members(db, remote_left | set(remote_free))
    for cohort in cohorts:
        if cohort.spec in by_spec:
            by_spec[cohort.spec].rejected |= cohort.rejected
    found: list[tuple[int, int, float, list[str], str]] = []
    for spec, cohort in by_spec.items():
        if not cohort.mentees or not cohort.mentors:
            continue
        tasks = [
            _RemoteTask(
                spec,
                cohort.mentees[lo : lo + REMOTE_CHUNK],
                cohort.mentors,
                cohort.rejected,
                options.min_score,
                REMOTE_TOP,
            )
            for lo in range(0, len(cohort.mentees), REMOTE_CHUNK)
        ]
        parts = solver.map_blocks(remote_candidates, tasks)
        mentee = np.concatenate([p[0] for p in parts])
        if not len(mentee):
            continue
        mentor = np.concatenate([p[1] for p in parts])
        score = np.concatenate([p[2] for p in parts])
        found += _solve_remote(options, cohort, mentee, mentor, score, remote_free)
    return found


def _solve_remote(
    options: RunOptions,
    cohort: _Cohort,
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    remote_free: dict[int, int],
) -> list[tuple[int, int, float, list[str], str]]:
    import scipy.sparse as sp

    mentee_ids = np.array([m.id for m in cohort.mentees], dtype=np.int64)
    mentor_ids = np.array([m.id for m in cohort.mentors], dtype=np.int64)
    rows = np.searchsorted(mentee_ids, mentee)  # members are sorted by id
    columns = np.searchsorted(mentor_ids, mentor)
    scores = sp.csr_array(
        (score.astype(float), (rows, columns)), shape=(len(mentee_ids), len(mentor_ids))
    )
    now = utcnow()
    waited = [
        np.nan if m.waiting_since is None else (now - m.waiting_since).days for m in cohort.mentees
    ]
    problem = Problem(
        scores,
        np.array([remote_free[m.id] for m in cohort.mentors], dtype=np.int64),
        priority=waiting_priority(np.array(waited, dtype=float)),
        min_score=options.min_score,
        objective=options.objective,  # type: ignore[arg-type]
    )
    pairs = solve(problem).pairs
    if not pairs:
        return []
    people = sorted({i for i, _ in pairs})
    helpers = sorted({j for _, j in pairs})
    scored = score_compact(
        cohort.spec, [cohort.mentees[i] for i in people], [cohort.mentors[j] for j in helpers]
    )
    row_of = {i: k for k, i in enumerate(people)}
    column_of = {j: k for k, j in enumerate(helpers)}
    local = [(row_of[i], column_of[j]) for i, j in pairs]
    details = scored.details(local)
    return [
        (int(mentee_ids[i]), int(mentor_ids[j]), float(scores[i, j]), reasons, form)
        for (i, j), (reasons, form) in zip(pairs, details, strict=True)
    ]


def _region_orgs(db: Database, actor: Actor, region: str) -> dict[str, list[int]]:
    actor.require_region(region)
    with db.read() as session:
        orgs = session.scalars(visible_organisations(actor).where(Organisation.region == region))
        by_municipality: dict[str, list[int]] = defaultdict(list)
        for org in orgs:
            by_municipality[org.municipality or ""].append(org.id)
    if not by_municipality:
        raise NotFound("region", region)
    return dict(by_municipality)


def run_region(
    db: Database, solver: Solver, actor: Actor, options: RunOptions, region: str
) -> RunPublic:
    """Propose pairs over every school of ``region``: municipalities first, then across them."""
    started = time.perf_counter()
    municipalities = _region_orgs(db, actor, region)
    blocks: list[tuple[_Cohort, RunOptions]] = []
    without_consent: list[int] = []
    with db.read() as session:
        for org_ids in municipalities.values():
            cohorts, missing = _cohorts(session, org_ids, columns=True)
            without_consent += missing
            blocks += [(cohort, options) for cohort in cohorts]
    first = solver.map_blocks(solve_cohort, blocks)
    found = [f for o in first for f in o.found]
    kept = sorted({k for o in first for k in o.kept})
    capacities = {k: v for o in first for k, v in o.capacities.items()}
    left = {m for o in first for m in o.unmatched}
    if len(municipalities) > 1:
        remote_free: dict[int, int] = {}
        for o in first:
            remote_free.update(o.remote_free)
        remote_left = {m for o in first for m in o.remote_left}
        cohorts = [cohort for cohort, _ in blocks]
        for pair in _remote_pass(db, solver, options, cohorts, remote_left, remote_free):
            found.append(pair)
            left.discard(pair[0])
    seconds = time.perf_counter() - started
    all_orgs = [org for orgs in municipalities.values() for org in orgs]
    return _store_run(
        db,
        actor,
        options,
        all_orgs,
        None,
        found,
        sorted(left),
        sorted({k for k in kept if k > 0}),
        capacities,
        without_consent,
        seconds,
        dict.fromkeys(without_consent, "no_consent") | dict.fromkeys(left, "places_taken"),
        {},
        region=region,
    )
