"""Warm re-solves on chains of random edits: each warm answer has the optimum of a cold solve.

A curator confirms and rejects proposals, ends confirmed pairs, changes a mentor's places; people
leave (the problem is renumbered) and answers change. Each run starts from the last answer and
its kept networks (``solve(..., warm=last, keep_networks=True)``), as the service runs them, and
is compared with a cold solve of the same problem. Small problems go to the network simplex and
keep their networks here (``HUNGARIAN_MAX_MENTEES``, ``KEEP_MIN_EDGES`` lowered), and some keep only a priced subset of their pairs
(``KEEP_ALL_MAX_EDGES`` lowered), so that every path of ``matching.warm`` is taken.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import matching.engines
import matching.solver
import matching.warm
from matching import Matching, Problem, solve, violations


@dataclass
class _Municipality:
    """The data a run's problem is built from, edited between runs."""

    scores: np.ndarray  # (n, m), NaN: not allowed
    capacity: np.ndarray
    demand: np.ndarray | None
    objective: str
    priority: np.ndarray | None
    pinned: set[tuple[int, int]] = field(default_factory=set)
    forbidden: set[tuple[int, int]] = field(default_factory=set)

    def problem(self) -> Problem:
        allowed = ~np.isnan(self.scores)
        rows, cols = np.nonzero(allowed)
        matrix = sp.csr_array(
            (self.scores[rows, cols], (rows, cols)), shape=self.scores.shape, dtype=np.float64
        )
        return Problem(
            matrix,
            self.capacity,
            min_score=0.1,
            pinned=sorted(self.pinned),
            forbidden=sorted(self.forbidden),
            objective=self.objective,  # type: ignore[arg-type]
            priority=self.priority,
            demand=self.demand,
        )


def _municipality(rng: np.random.Generator, demand: bool) -> _Municipality:
    """Schools of mentees and mentors with remote pairs between four of them (a block whose
    network is kept) and two small schools of their own (blocks too small to keep)."""
    n, m = int(rng.integers(30, 90)), int(rng.integers(10, 35))
    school_e, school_o = rng.integers(6, size=n), rng.integers(6, size=m)
    remote_e, remote_o = rng.random(n) < 0.4, rng.random(m) < 0.4
    remote_e[school_e >= 4], remote_o[school_o >= 4] = False, False
    allowed = (school_e[:, None] == school_o[None, :]) | (remote_e[:, None] & remote_o[None, :])
    allowed &= rng.random((n, m)) < 0.8
    scores = np.where(allowed, np.round(rng.random((n, m)), 2), np.nan)
    objective = str(rng.choice(["coverage", "coverage", "score"]))
    return _Municipality(
        scores=scores,
        capacity=rng.integers(0, 4, size=m),
        demand=rng.integers(1, 3, size=n) if demand else None,
        objective=objective,
        priority=np.round(rng.random(n), 1) * (rng.random(n) < 0.2) if rng.random() < 0.3 else None,
    )


def _places_left(city: _Municipality, mentor: int) -> int:
    return int(city.capacity[mentor]) - sum(1 for _, j in city.pinned if j == mentor)


def _need_left(city: _Municipality, mentee: int) -> int:
    wanted = 1 if city.demand is None else int(city.demand[mentee])
    return wanted - sum(1 for i, _ in city.pinned if i == mentee)


def _edit(
    rng: np.random.Generator, city: _Municipality, last: Matching
) -> tuple[str, np.ndarray | None, np.ndarray | None]:
    """One random edit of ``city``; returns its name and, when people left, the renumbering of
    mentees and mentors (old index -> new index, -1: left)."""
    proposed = [p for p in last.pairs if p not in city.pinned]
    kind = str(
        rng.choice(
            [
                *("reject", "confirm", "end", "places"),
                *("mentor leaves", "mentee leaves", "answers", "new pair"),
            ]
        )
    )
    n, m = city.scores.shape
    if kind == "reject" and proposed:
        for k in rng.choice(len(proposed), min(len(proposed), 3), replace=False):
            city.forbidden.add(proposed[int(k)])
        allowed = np.argwhere(~np.isnan(city.scores))  # and a pair that was not proposed
        i, j = (int(v) for v in allowed[rng.integers(len(allowed))])
        if (i, j) not in city.pinned:
            city.forbidden.add((i, j))
    elif kind == "confirm" and proposed:
        for k in rng.choice(len(proposed), min(len(proposed), 4), replace=False):
            pair = proposed[int(k)]
            if _places_left(city, pair[1]) > 0 and _need_left(city, pair[0]) > 0:
                city.pinned.add(pair)
    elif kind == "end" and city.pinned:
        pinned = sorted(city.pinned)
        city.pinned.discard(pinned[int(rng.integers(len(pinned)))])
    elif kind == "places":
        for j in rng.choice(m, min(m, 3), replace=False):
            j = int(j)
            taken = m and (city.capacity[j] - _places_left(city, j))
            city.capacity[j] = int(rng.integers(taken, 4))
    elif kind == "mentor leaves" and m > 2:
        gone = int(rng.integers(m))
        keep = np.flatnonzero(np.arange(m) != gone)
        renumber = np.full(m, -1)
        renumber[keep] = np.arange(len(keep))
        city.scores, city.capacity = city.scores[:, keep], city.capacity[keep]
        city.pinned = {(i, int(renumber[j])) for i, j in city.pinned if j != gone}
        city.forbidden = {(i, int(renumber[j])) for i, j in city.forbidden if j != gone}
        return kind, None, renumber
    elif kind == "mentee leaves" and n > 2:
        gone = int(rng.integers(n))
        keep = np.flatnonzero(np.arange(n) != gone)
        renumber = np.full(n, -1)
        renumber[keep] = np.arange(len(keep))
        city.scores = city.scores[keep]
        city.demand = None if city.demand is None else city.demand[keep]
        city.priority = None if city.priority is None else city.priority[keep]
        city.pinned = {(int(renumber[i]), j) for i, j in city.pinned if i != gone}
        city.forbidden = {(int(renumber[i]), j) for i, j in city.forbidden if i != gone}
        return kind, renumber, None
    elif kind == "answers":
        i = int(rng.integers(n))
        row = city.scores[i]
        fresh = np.round(rng.random(m), 2)
        # a re-imported questionnaire: new scores where the pair was allowed, none where it was not
        city.scores[i] = np.where(np.isnan(row), np.nan, fresh)
    elif kind == "new pair":  # a pair allowed now (e.g. a mentor takes remote mentees)
        absent = np.argwhere(np.isnan(city.scores))
        if len(absent):
            i, j = absent[rng.integers(len(absent))]
            city.scores[i, j] = 0.95
    return kind, None, None


def _same_optimum(problem: Problem, warm: Matching, cold: Matching, what: str) -> None:
    """As many pairs and the same total of scores and priorities (what the solver maximises:
    with priorities, equal totals may split differently between scores and priorities)."""

    def gained(answer: Matching) -> float:
        return answer.total_score + sum(float(problem.priority[i]) for i, _ in answer.pairs)

    assert warm.n_matched == cold.n_matched, what
    assert gained(warm) == pytest.approx(gained(cold), abs=1e-9), what


@pytest.mark.parametrize("priced", [False, True], ids=["every pair kept", "priced subset kept"])
@pytest.mark.parametrize("demand", [False, True], ids=["one mentor", "demand"])
@pytest.mark.parametrize("seed", range(16))
def test_chains_of_edits_re_solved_warm_have_the_cold_optimum(
    monkeypatch: pytest.MonkeyPatch, seed: int, demand: bool, priced: bool
) -> None:
    monkeypatch.setattr(matching.warm, "KEEP_MIN_EDGES", 50)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_MENTEES", 0)  # the network simplex,
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_CELLS", 0)  # block by block
    if priced:  # the kept network holds the best pairs of each person; the rest are priced
        monkeypatch.setattr(matching.engines, "PRICING_MIN_EDGES", 50)
        monkeypatch.setattr(matching.engines, "PRICING_DEGREE", 2)
        monkeypatch.setattr(matching.engines, "PRICING_MENTOR_DEGREE", 3)
        monkeypatch.setattr(matching.engines, "PRICING_MAX_SHARE", 1.0)
        monkeypatch.setattr(matching.engines, "KEEP_ALL_MAX_EDGES", 50)
    rng = np.random.default_rng(1000 * seed + 10 * demand + priced)
    city = _municipality(rng, demand)
    last = solve(city.problem(), keep_networks=True)
    kept = any(solved.state is not None for solved in last.solved_blocks.values())
    kinds: list[str] = []
    warm_runs = 0
    for _ in range(8):
        kind, mentees, mentors = _edit(rng, city, last)
        kinds.append(kind)
        problem = city.problem()
        start: Any = last
        if mentees is not None or mentors is not None:
            n_old = len(mentees) if mentees is not None else problem.n_mentees
            m_old = len(mentors) if mentors is not None else problem.n_mentors
            start = last.renumbered(
                mentees if mentees is not None else np.arange(n_old),
                mentors if mentors is not None else np.arange(m_old),
            )
        warm = solve(problem, warm=start, keep_networks=True)
        cold = solve(problem)
        _same_optimum(problem, warm, cold, f"after {kinds}")
        assert violations(problem, warm.pairs) == [], f"after {kinds}"
        warm_runs += warm.info["warm"]
        last = warm
    if kept:  # the chain did run from kept networks
        assert warm_runs > 0


def _decisions(rng: np.random.Generator, city: _Municipality, last: Matching) -> str:
    """One of the curator's decisions (the people and their scores stay as they were)."""
    proposed = [p for p in last.pairs if p not in city.pinned]
    kind = str(
        rng.choice(["reject", "reject", "confirm", "confirm", "end", "places", "best", "leaves"])
    )
    if kind == "leaves":  # a mentor or a mentee leaves: handled by the caller
        return str(rng.choice(["mentor leaves", "mentee leaves"]))
    if kind == "best":  # the best-scoring pair rejected: the weights' scale may change
        allowed = np.argwhere(~np.isnan(city.scores))
        best = allowed[np.argmax(city.scores[allowed[:, 0], allowed[:, 1]])]
        pair = (int(best[0]), int(best[1]))
        if pair not in city.pinned:
            city.forbidden.add(pair)
        return kind
    if kind == "places":
        for j in rng.choice(len(city.capacity), 2, replace=False):
            taken = city.capacity[j] - _places_left(city, int(j))
            city.capacity[j] = int(rng.integers(taken, 4))
        return kind
    if kind == "end":
        if city.pinned:
            pinned = sorted(city.pinned)
            city.pinned.discard(pinned[int(rng.integers(len(pinned)))])
        return kind
    if kind == "reject" and proposed:
        for k in rng.choice(len(proposed), min(len(proposed), 3), replace=False):
            city.forbidden.add(proposed[int(k)])
    elif kind == "confirm" and proposed:
        for k in rng.choice(len(proposed), min(len(proposed), 4), replace=False):
            pair = proposed[int(k)]
            if _places_left(city, pair[1]) > 0 and _need_left(city, pair[0]) > 0:
                city.pinned.add(pair)
    return kind


def _chain_in_place(monkeypatch: pytest.MonkeyPatch, seed: int) -> int:
    """Runs whose score matrix is the one of the cold solve that kept the network (the service's
    cache passes it as it is when nobody left): the curator's decisions are applied to the kept
    network in place (``info["in_place"]``), and each answer has a cold solve's optimum. People
    leave too: the cache's matrix without their row or column (``Matching.renumbered``). Returns
    the runs after someone left that were re-solved in place."""
    monkeypatch.setattr(matching.warm, "KEEP_MIN_EDGES", 50)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_MENTEES", 0)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_CELLS", 0)
    rng = np.random.default_rng(7000 + seed)
    n, m = int(rng.integers(40, 90)), int(rng.integers(12, 30))
    allowed = rng.random((n, m)) < 0.5  # one block: every mentee and mentor joined
    scores = np.where(allowed, np.round(rng.random((n, m)), 2), np.nan)
    city = _Municipality(
        scores=scores,
        capacity=rng.integers(0, 4, size=m),
        demand=None,
        objective="coverage",
        priority=np.round(rng.random(n), 1) * (rng.random(n) < 0.2) if seed % 3 == 0 else None,
    )
    matrix = city.problem().scores  # the same matrix for every run, as the cache gives it
    if seed % 2:  # the cold run already has confirmed pairs (their mentees' pairs left out)
        first = solve(city.problem()).pairs
        city.pinned = {first[int(k)] for k in rng.choice(len(first), min(len(first), 3))}

    def problem() -> Problem:
        return Problem(
            matrix,
            city.capacity,
            min_score=0.1,
            pinned=sorted(city.pinned),
            forbidden=sorted(city.forbidden),
            priority=city.priority,
        )

    last = solve(problem(), keep_networks=True)
    assert last.info["blocks"] == 1
    kinds: list[str] = []
    in_place = moved = 0
    for _ in range(10):
        kinds.append(_decisions(rng, city, last))
        start = last
        if kinds[-1].endswith("leaves"):  # the cache's matrix without their row or column
            n, m = matrix.shape
            mentees, mentors = np.arange(n), np.arange(m)
            if kinds[-1] == "mentor leaves":
                gone = int(rng.integers(m))
                mentors = np.where(mentors < gone, mentors, mentors - 1)
                mentors[gone] = -1
                matrix = matrix[:, mentors >= 0]
                city.capacity = city.capacity[mentors >= 0]
                city.scores = city.scores[:, mentors >= 0]
            else:
                gone = int(rng.integers(n))
                mentees = np.where(mentees < gone, mentees, mentees - 1)
                mentees[gone] = -1
                matrix = matrix[mentees >= 0]
                city.scores = city.scores[mentees >= 0]
                city.priority = None if city.priority is None else city.priority[mentees >= 0]
            city.pinned = {
                (int(mentees[i]), int(mentors[j]))
                for i, j in city.pinned
                if mentees[i] >= 0 and mentors[j] >= 0
            }
            city.forbidden = {
                (int(mentees[i]), int(mentors[j]))
                for i, j in city.forbidden
                if mentees[i] >= 0 and mentors[j] >= 0
            }
            start = last.renumbered(mentees, mentors)
        changed = problem()
        warm = solve(changed, warm=start, keep_networks=True)
        cold = solve(problem())
        _same_optimum(changed, warm, cold, f"after {kinds}")
        assert violations(changed, warm.pairs) == [], f"after {kinds}"
        assert not {p for p in warm.pairs if p in city.forbidden}, f"after {kinds}"
        assert set(city.pinned) <= set(warm.pairs), f"after {kinds}"
        in_place += warm.info["in_place"]
        moved += warm.info["in_place"] and kinds[-1].endswith("leaves")
        last = warm
    assert in_place > 0, kinds  # the chain did take the in-place path
    return moved


@pytest.mark.parametrize("seed", range(12))
def test_decisions_applied_in_place_to_the_kept_network_have_the_cold_optimum(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    _chain_in_place(monkeypatch, seed)


def test_runs_after_people_left_are_applied_in_place_too(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sum(_chain_in_place(monkeypatch, seed) for seed in range(12, 24)) > 0


def test_a_new_score_matrix_is_not_applied_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal scores in a new matrix (a re-import) take the general warm path: only the same
    matrix is known to hold the same pairs and scores."""
    monkeypatch.setattr(matching.warm, "KEEP_MIN_EDGES", 50)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_MENTEES", 0)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_CELLS", 0)
    rng = np.random.default_rng(5)
    scores = np.round(rng.random((60, 20)), 2)
    capacity = np.full(20, 2)
    matrix = sp.csr_array(scores)
    last = solve(Problem(matrix, capacity), keep_networks=True)
    pair = last.pairs[0]
    same = solve(Problem(matrix, capacity, forbidden=[pair]), warm=last, keep_networks=True)
    assert same.info["in_place"] == 1
    copy = sp.csr_array(scores.copy())
    other = solve(Problem(copy, capacity, forbidden=[pair]), warm=same, keep_networks=True)
    assert other.info["in_place"] == 0
    assert other.info["warm"] == 1
    cold = solve(Problem(copy, capacity, forbidden=[pair]))
    assert other.n_matched == cold.n_matched == same.n_matched
    assert other.total_score == pytest.approx(cold.total_score, abs=1e-9)
    assert same.total_score == pytest.approx(cold.total_score, abs=1e-9)


def test_a_pool_solved_network_takes_the_first_mentees_confirmed_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service's municipality runs solve blocks with a thread pool's ``map``, and a curator
    confirms the proposals from the top of the list (the first mentees): the next run is still
    re-solved in place (the network's largest gains, which fix the weights' scale, are watched
    across many mentees, not only the first ones), with a cold solve's optimum."""
    monkeypatch.setattr(matching.warm, "KEEP_MIN_EDGES", 50)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_MENTEES", 0)
    monkeypatch.setattr(matching.solver, "HUNGARIAN_MAX_CELLS", 0)
    rng = np.random.default_rng(11)
    scores = np.round(rng.random((70, 25)), 2)  # about half the pairs above 0.5: the largest gains
    capacity = np.full(25, 3)  # places for every mentee
    matrix = sp.csr_array(scores)
    with ThreadPoolExecutor(max_workers=2) as pool:
        last = solve(Problem(matrix, capacity), map=pool.map, keep_networks=True)
        assert last.info["blocks"] == 1
        confirmed = last.pairs[:10]  # the pairs are sorted by mentee
        assert [mentee for mentee, _ in confirmed] == list(range(10))
        changed = Problem(matrix, capacity, pinned=confirmed)
        warm = solve(changed, map=pool.map, warm=last, keep_networks=True)
    assert (warm.info["warm"], warm.info["in_place"]) == (1, 1)
    cold = solve(Problem(sp.csr_array(scores), capacity, pinned=confirmed))
    _same_optimum(changed, warm, cold, "after the first ten mentees confirmed")
    assert set(confirmed) <= set(warm.pairs)
