"""Warm re-solves (``solve(..., warm=previous)``): after a curator's decision or a person leaving,
the answer is as good as a cold solve's, and a large block is re-solved from its kept network."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from matching import Problem, solve
from matching.warm import KEEP_MIN_EDGES


def _problem(seed: int, **changes: Any) -> Problem:
    """900 mentees and 300 mentors in 5 schools joined by remote pairs: one block of
    about 95,000 pairs, above ``KEEP_MIN_EDGES``."""
    rng = np.random.default_rng(seed)
    n, m = 900, 300
    school_e, school_o = rng.integers(5, size=n), rng.integers(5, size=m)
    remote_e, remote_o = rng.random(n) < 0.5, rng.random(m) < 0.5
    allowed = (school_e[:, None] == school_o[None, :]) | (remote_e[:, None] & remote_o[None, :])
    allowed &= rng.random((n, m)) < 0.9
    scores = np.round(rng.random((n, m)), 3) * allowed
    scores = changes.pop("scores", scores)
    capacity = changes.pop("capacity", rng.integers(1, 4, size=m))
    return Problem(sp.csr_array(scores), capacity, min_score=0.05, **changes)


def _same_optimum(warm: Any, cold: Any) -> None:
    assert warm.n_matched == cold.n_matched
    assert warm.total_score == pytest.approx(cold.total_score, abs=1e-9)


@pytest.fixture(scope="module")
def first() -> Any:
    problem = _problem(0)
    assert len(problem.proposable.mentee) > KEEP_MIN_EDGES
    answer = solve(problem, keep_networks=True)
    assert answer.info["blocks"] == 1
    return problem, answer


def _changes(problem: Problem, answer: Any) -> dict[str, dict[str, Any]]:
    pairs = answer.pairs
    capacity = np.asarray(problem.capacity).copy()
    capacity[pairs[3][1]] = 0  # a mentor leaves
    scores = problem.scores.toarray()
    scores[pairs[5][0]] = np.where(scores[pairs[5][0]] > 0, 0.99, 0)  # a mentee's answers changed
    return {
        "reject": {"forbidden": pairs[:40:4]},
        "confirm": {"pinned": pairs[:40:4]},
        "mentor leaves": {"capacity": capacity},
        "answers change": {"scores": scores},
        "all at once": {"forbidden": pairs[1:40:4], "pinned": pairs[:40:4], "capacity": capacity},
    }


@pytest.mark.parametrize(
    "change", ["reject", "confirm", "mentor leaves", "answers change", "all at once"]
)
def test_a_warm_re_solve_finds_the_optimum_of_a_cold_one(first: Any, change: str) -> None:
    problem, answer = first
    changed = _problem(0, **_changes(problem, answer)[change])
    cold = solve(changed)
    warm = solve(changed, warm=answer, keep_networks=True)
    _same_optimum(warm, cold)
    assert warm.info["warm"] + warm.info["reused"] == 1
    # and again from the warm answer (the kept network now holds the changed problem)
    again = solve(problem, warm=warm)
    _same_optimum(again, solve(problem))


def test_pairs_the_kept_network_lacks_are_priced_in(first: Any) -> None:
    problem, answer = first
    scores = problem.scores.toarray()
    scores[scores == 0] = 0.999  # every pair allowed now, and the best
    changed = _problem(0, scores=scores)
    _same_optimum(solve(changed, warm=answer), solve(changed))


@pytest.mark.parametrize("engine", ["cost_scaling", "hungarian"])
def test_other_engines_reuse_blocks_and_agree(first: Any, engine: str) -> None:
    problem, _ = first
    small = Problem(problem.scores[:300, :], problem.capacity, min_score=0.05)
    before = solve(small, engine, keep_networks=True)
    changed = Problem(small.scores, small.capacity, min_score=0.05, forbidden=before.pairs[:5])
    _same_optimum(solve(changed, engine, warm=before), solve(changed, engine))


def test_kept_networks_stay_in_their_process(first: Any) -> None:
    _, answer = first
    changed = _problem(0, forbidden=answer.pairs[:3])
    with ThreadPoolExecutor(2) as pool:  # threads: the kept network is used
        threads = solve(changed, warm=answer, map=pool.map, keep_networks=True)
    assert threads.info["warm"] == 1
    _same_optimum(threads, solve(changed))

    def elsewhere(function: Any, items: Any) -> list[Any]:  # as a Dask worker: pickled both ways
        return [pickle.loads(pickle.dumps(function(pickle.loads(pickle.dumps(x))))) for x in items]

    other = _problem(0, forbidden=answer.pairs[3:6])
    far = solve(other, warm=threads, map=elsewhere, keep_networks=True)
    assert far.info["warm"] == 0
    assert far.info["reused"] == 0
    _same_optimum(far, solve(other))
    assert all(s.state is None for s in far.solved_blocks.values())


def test_people_who_left_are_renumbered_and_the_network_still_serves(first: Any) -> None:
    problem, answer = first
    scores = problem.scores.toarray()
    gone_mentee, gone_mentor = answer.pairs[7][0], answer.pairs[9][1]
    rows = [i for i in range(problem.n_mentees) if i != gone_mentee]
    columns = [j for j in range(problem.n_mentors) if j != gone_mentor]
    smaller = Problem(
        sp.csr_array(scores[rows][:, columns]),
        np.asarray(problem.capacity)[columns],
        min_score=0.05,
    )
    new_mentee = np.full(problem.n_mentees, -1)
    new_mentee[rows] = np.arange(len(rows))
    new_mentor = np.full(problem.n_mentors, -1)
    new_mentor[columns] = np.arange(len(columns))
    warm = solve(smaller, warm=answer.renumbered(new_mentee, new_mentor), keep_networks=True)
    assert warm.info["warm"] == 1
    _same_optimum(warm, solve(smaller))
