"""The optimum of a Problem as a mixed-integer linear program solved by HiGHS (scipy.optimize.milp).

An independent formulation: one binary variable per candidate or pinned pair and, for the load
penalty, one variable per place of each mentor. It never shares code with the solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import lil_array

from matching import Problem


@dataclass
class Optimum:
    count: int
    value: float  # total score minus load penalties


def objective_of(problem: Problem, pairs: list[tuple[int, int]]) -> Optimum:
    """Count and objective value (scores + priorities - load penalties) of an answer."""
    mentees = [i for i, _ in pairs]
    mentors = [j for _, j in pairs]
    _, scores = problem.lookup(mentees, mentors)
    penalty = 0.0
    for j in set(mentors):
        first = int(problem.load[j])
        penalty += problem.load_penalty * sum(range(first, first + mentors.count(j)))
    priority = float(problem.priority[mentees].sum()) if pairs else 0.0
    return Optimum(len(pairs), float(np.sum(scores)) + priority - penalty)


def optimum(problem: Problem) -> Optimum:
    """Lexicographic optimum: (count, value) for coverage, (value, count) for score."""
    n, m = problem.n_mentees, problem.n_mentors
    keys, values = problem._allowed_entries
    pinned = set(problem.pinned)
    edges: list[tuple[int, int, float]] = []
    for key, value in zip(keys.tolist(), values.tolist(), strict=True):
        i, j = divmod(key, m)
        pair = (i, j)
        if pair in pinned or (pair not in problem.forbidden and value >= problem.min_score):
            edges.append((i, j, value))
    places = [
        (j, p) for j in range(m) for p in range(int(problem.load[j]), int(problem.capacity[j]))
    ]
    n_x, n_z = len(edges), len(places)
    if n_x == 0:
        return Optimum(0, 0.0)
    size = n_x + n_z
    rows = lil_array((n + m, size))
    lower = np.zeros(n + m)
    upper = np.zeros(n + m)
    for e, (i, j, _) in enumerate(edges):
        rows[i, e] = 1
        rows[n + j, e] = 1
    upper[:n] = problem.demand  # distinct mentors: each pair is one binary variable
    for z, (j, _) in enumerate(places):
        rows[n + j, n_x + z] = -1  # pairs of mentor j == places of mentor j taken
    count_row = np.concatenate([np.ones(n_x), np.zeros(n_z)])
    value_row = np.concatenate(
        [
            np.array([s + problem.priority[i] for i, _, s in edges]),
            -problem.load_penalty * np.array([p for _, p in places]),
        ]
    )
    lb = np.array([1.0 if (i, j) in pinned else 0.0 for i, j, _ in edges] + [0.0] * n_z)
    bounds = Bounds(lb, np.ones(size))
    base = [LinearConstraint(rows.tocsr(), lower, upper)]
    first, second = (
        (count_row, value_row) if problem.objective == "coverage" else (value_row, count_row)
    )
    top = milp(-first, constraints=base, bounds=bounds, integrality=np.ones(size))
    assert top.success, top.message
    best_first = -top.fun
    fixed = LinearConstraint(first.reshape(1, -1), best_first - 1e-7, np.inf)
    both = milp(-second, constraints=[*base, fixed], bounds=bounds, integrality=np.ones(size))
    assert both.success, both.message
    x = both.x
    return Optimum(round(count_row @ x), float(value_row @ x))


def cohesive_optimum(problem: Problem, similarity: np.ndarray, weight: float) -> float:
    """The exact optimum of the cohesion objective (``matching.cohesion``) among answers of the
    most pairs (coverage) or of any size (score), as a MILP: ``y <= x_e, y <= x_f`` for two pairs
    of one mentor stands for both being chosen."""
    n, m = problem.n_mentees, problem.n_mentors
    keys, values = problem._allowed_entries
    pinned = set(problem.pinned)
    edges: list[tuple[int, int, float]] = []
    for key, value in zip(keys.tolist(), values.tolist(), strict=True):
        i, j = divmod(key, m)
        if (i, j) in pinned or ((i, j) not in problem.forbidden and value >= problem.min_score):
            edges.append((i, j, value))
    places = [
        (j, p) for j in range(m) for p in range(int(problem.load[j]), int(problem.capacity[j]))
    ]
    sim = (similarity + similarity.T) / 2
    both = [
        (e, f, 2 * weight * sim[edges[e][0], edges[f][0]] / (problem.capacity[edges[e][1]] - 1))
        for e in range(len(edges))
        for f in range(e + 1, len(edges))
        if edges[e][1] == edges[f][1]
        and edges[e][0] != edges[f][0]
        and problem.capacity[edges[e][1]] > 1
        and sim[edges[e][0], edges[f][0]] > 0
    ]
    n_x, n_z, n_y = len(edges), len(places), len(both)
    if n_x == 0:
        return 0.0
    size = n_x + n_z + n_y
    rows = lil_array((n + m + 2 * n_y, size))
    lower = np.full(n + m + 2 * n_y, -np.inf)
    upper = np.zeros(n + m + 2 * n_y)
    lower[: n + m] = 0
    for e, (i, j, _) in enumerate(edges):
        rows[i, e] = 1
        rows[n + j, e] = 1
    upper[:n] = problem.demand
    for z, (j, _) in enumerate(places):
        rows[n + j, n_x + z] = -1
    for y, (e, f, _) in enumerate(both):
        for r, x in ((n + m + 2 * y, e), (n + m + 2 * y + 1, f)):
            rows[r, n_x + n_z + y] = 1
            rows[r, x] = -1
    count_row = np.concatenate([np.ones(n_x), np.zeros(n_z + n_y)])
    value_row = np.concatenate(
        [
            np.array([s + problem.priority[i] for i, _, s in edges]),
            -problem.load_penalty * np.array([p for _, p in places]),
            np.array([c for _, _, c in both]),
        ]
    )
    lb = np.array([1.0 if (i, j) in pinned else 0.0 for i, j, _ in edges] + [0.0] * (n_z + n_y))
    bounds = Bounds(lb, np.ones(size))
    base = [LinearConstraint(rows.tocsr(), lower, upper)]
    integrality = np.concatenate([np.ones(n_x + n_z), np.zeros(n_y)])
    if problem.objective == "coverage":
        top = milp(-count_row, constraints=base, bounds=bounds, integrality=integrality)
        assert top.success, top.message
        base.append(LinearConstraint(count_row.reshape(1, -1), -top.fun - 1e-7, np.inf))
    best = milp(-value_row, constraints=base, bounds=bounds, integrality=integrality)
    assert best.success, best.message
    return float(-best.fun)


def flow_lp(problem: Problem) -> tuple[int, float]:
    """Units covered and the best total score among answers covering that many, from the LP
    relaxation (HiGHS). The constraint matrix of a bipartite b-matching is totally unimodular,
    so the relaxation has an integral optimum: a gap of 0 to it is a certificate of optimality."""
    cand = problem.candidates
    e, n, m = len(cand), problem.n_mentees, problem.n_mentors
    rows = np.concatenate([cand.mentee, n + cand.mentor])
    matrix = sp.csr_array((np.ones(2 * e), (rows, np.tile(np.arange(e), 2))), shape=(n + m, e))
    limits = np.concatenate([problem.demand, problem.free])
    bounds = (0, 1)
    count = linprog(-np.ones(e), A_ub=matrix, b_ub=limits, bounds=bounds, method="highs")
    units = round(-count.fun)
    value = linprog(
        -cand.score,
        A_ub=matrix,
        b_ub=limits,
        A_eq=np.ones((1, e)),
        b_eq=[units],
        bounds=bounds,
        method="highs",
    )
    return units, float(-value.fun)
