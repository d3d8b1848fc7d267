"""A region-wide batch: virtual pairs across municipalities, scored and solved block by block
where the solver's batches run (Dask workers with ``NASTAVNIK_DASK_SCHEDULER``, else this
process's pool), so that no process holds the pair scores of the whole region.

Two passes, each a set of independent blocks run in parallel:

1. one block per municipality and questionnaire spec: its people are scored and solved inside a
   worker, as a municipality batch would (virtual pairs between its schools included);
2. one block per spec with the mentees left without a mentor in pass 1 and the mentors who still
   have a free place, across all municipalities: the virtual pairs that cross municipalities
   (the hard rules of ``features`` allow a pair of two schools only when both accept remote
   meetings). The mentors' pass-1 proposals count as their load.

What travels to a worker is the block's members (answers) and what comes back its proposals; the
score matrices live and die inside the worker. Proposals, capacities and the run are stored like
any run (``runs._store_run``): open proposals of the region's schools are superseded.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from matching import solve
from service.core.db import Database
from service.core.errors import NotFound
from service.core.models import Organisation
from service.core.security import Actor, visible_organisations
from service.runs.executor import Solver
from service.runs.runs import RunOptions, _build, _Cohort, _cohorts, _store_run
from service.runs.schemas import RunPublic

__all__ = ["Outcome", "run_region", "solve_cohort"]


@dataclass
class Outcome:
    """What one block gives back: proposals and who is left, never its scores."""

    found: list[tuple[int, int, float, list[str], str]] = field(default_factory=list)
    unmatched: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    capacities: dict[int, int] = field(default_factory=dict)
    full: set[int] = field(default_factory=set)  # mentors with no free place left


def solve_cohort(task: tuple[_Cohort, RunOptions]) -> Outcome:
    """Score and solve one block (run inside a worker); return its proposals."""
    cohort, options = task
    outcome = Outcome()
    built = _build(cohort, options)
    outcome.kept = sorted({pair_id for pair_id, _, _ in cohort.active})
    if built.problem is None or built.scored is None:
        paired = {mentee for _, mentee, _ in cohort.active}
        outcome.unmatched = [m.id for m in cohort.mentees if m.id not in paired]
        return outcome
    scored, problem = built.scored, built.problem
    pairs = solve(problem).pairs  # the solver splits it into its independent blocks
    matched = {row for row, _ in pairs}
    outcome.unmatched = [
        scored.mentees[built.rows[r]].id for r in range(len(built.rows)) if r not in matched
    ]
    taken = np.asarray(problem.load, dtype=np.int64).copy()
    for row, column in pairs:
        taken[column] += 1
        if (row, column) in built.pinned_pairs:
            continue
        i = built.rows[row]
        outcome.found.append(
            (
                scored.mentees[i].id,
                scored.mentors[column].id,
                scored.score(i, column),
                scored.reasons(i, column),
                scored.form(i, column),
            )
        )
    raw = np.asarray(scored.pair_scores.capacity)
    outcome.capacities = {m.id: int(raw[j]) for j, m in enumerate(scored.mentors)}
    places = np.asarray(problem.capacity)
    outcome.full = {m.id for j, m in enumerate(scored.mentors) if taken[j] >= places[j]}
    return outcome


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
            cohorts, missing = _cohorts(session, org_ids)
            without_consent += missing
            blocks += [(cohort, options) for cohort in cohorts]
    first = solver.map_blocks(solve_cohort, blocks)
    found = [f for o in first for f in o.found]
    kept = sorted({k for o in first for k in o.kept})
    capacities = {k: v for o in first for k, v in o.capacities.items()}
    full = set().union(*(o.full for o in first)) if first else set()
    left = {m for o in first for m in o.unmatched}
    proposed_to = [(mentee, mentor) for mentee, mentor, *_ in found]
    # pass 2: who is left, across municipalities, one block per spec
    by_spec: dict[str, _Cohort] = {}
    for cohort, _ in blocks:
        merged = by_spec.setdefault(cohort.spec, _Cohort(cohort.spec, [], [], [], set()))
        merged.mentees += [m for m in cohort.mentees if m.id in left]
        merged.mentors += [m for m in cohort.mentors if m.id not in full]
        merged.active += cohort.active
        merged.rejected |= cohort.rejected
    second_blocks = []
    for cohort in by_spec.values():
        if not cohort.mentees or not cohort.mentors or len(municipalities) < 2:
            continue
        mentors = {m.id for m in cohort.mentors}
        cohort.active = list(dict.fromkeys(cohort.active)) + [
            (-1, mentee, mentor) for mentee, mentor in proposed_to if mentor in mentors
        ]
        second_blocks.append((cohort, options))
    for outcome in solver.map_blocks(solve_cohort, second_blocks):
        found += outcome.found
        matched = {f[0] for f in outcome.found}
        left -= matched
        capacities.update(outcome.capacities)
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
