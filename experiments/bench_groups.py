"""How close the group-cohesion solve comes to the optimum (issue 11).

With a cohesion term the objective is quadratic (``matching.cohesion``), so the solver uses iterated
linearisation and exact-priced moves and swaps instead of one exact min-cost flow. Two measures:

1. **True gap** on small random problems (12 mentees, 4 mentors of up to 5 places, a tenth needing
   two mentors): the exact optimum of the quadratic objective as a MILP (HiGHS through
   ``scipy.optimize.milp``, the product of two pair variables linearised) against the value found.
2. **Certified gap** on the city of pupils with groups (:func:`experiments.cohorts.make_groups`):
   the solver's own upper bound (each pair with the most cohesion it could find at its mentor,
   solved exactly) minus the value found, relative to the bound; and the time against the plain
   solve without cohesion.

Run ``python -m experiments.bench_groups [--small N] [--city MENTEES ...]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_array

from matching import Problem, solve, solve_cohesive


def exact(problem: Problem, similarity: np.ndarray, weight: float) -> float:
    """The optimum of the cohesion objective among the answers of the most pairs (a MILP)."""
    cand = problem.candidates
    edges = list(zip(cand.mentee.tolist(), cand.mentor.tolist(), cand.score.tolist(), strict=True))
    n, m, e = problem.n_mentees, problem.n_mentors, len(edges)
    both = [
        (
            a,
            b,
            2 * weight * similarity[edges[a][0], edges[b][0]] / (problem.capacity[edges[a][1]] - 1),
        )
        for a in range(e)
        for b in range(a + 1, e)
        if edges[a][1] == edges[b][1]
        and problem.capacity[edges[a][1]] > 1
        and similarity[edges[a][0], edges[b][0]] > 0
    ]
    size = e + len(both)
    rows = lil_array((n + m + 2 * len(both), size))
    upper = np.concatenate([problem.demand, problem.free, np.zeros(2 * len(both))])
    lower = np.concatenate([np.zeros(n + m), np.full(2 * len(both), -np.inf)])
    for k, (i, j, _) in enumerate(edges):
        rows[i, k] = 1
        rows[n + j, k] = 1
    for y, (a, b, _) in enumerate(both):
        for r, x in ((n + m + 2 * y, a), (n + m + 2 * y + 1, b)):
            rows[r, e + y] = 1
            rows[r, x] = -1
    count = np.concatenate([np.ones(e), np.zeros(len(both))])
    value = np.concatenate([[s for _, _, s in edges], [c for _, _, c in both]])
    base = [LinearConstraint(rows.tocsr(), lower, upper)]
    bounds = Bounds(np.zeros(size), np.ones(size))
    integral = np.concatenate([np.ones(e), np.zeros(len(both))])
    top = milp(-count, constraints=base, bounds=bounds, integrality=integral)
    base.append(LinearConstraint(count.reshape(1, -1), -top.fun - 1e-7, np.inf))
    best = milp(-value, constraints=base, bounds=bounds, integrality=integral)
    return float(-best.fun)


def small(count: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    gaps, exact_hits, certified = [], 0, []
    for _ in range(count):
        n, m = 12, 4
        scores = np.round(rng.uniform(0.2, 1.0, size=(n, m)), 3)
        allowed = rng.uniform(size=(n, m)) < 0.8
        klass = rng.integers(0, 3, size=n)
        similarity = np.where(klass[:, None] == klass[None, :], 1.0, 0.0) * 0.6
        similarity += 0.4 * (rng.uniform(size=(n, n)) < 0.3)
        similarity = np.triu(similarity, 1)
        similarity = similarity + similarity.T
        problem = Problem(
            np.where(allowed, scores, 0.0),
            rng.integers(1, 6, size=m),
            allowed=allowed,
            demand=np.where(rng.uniform(size=n) < 0.1, 2, 1),
            max_capacity=5,
        )
        found = solve_cohesive(problem, similarity, weight=0.3)
        best = exact(problem, similarity, 0.3)
        gap = (best - found.value) / best
        gaps.append(gap)
        exact_hits += gap < 1e-9
        certified.append(found.gap / found.bound)
    print(
        f"small (12 x 4, weight 0.3), {count} problems: optimum found in {exact_hits}; "
        f"true gap mean {np.mean(gaps):.2%}, max {np.max(gaps):.2%}; "
        f"certified gap mean {np.mean(certified):.2%}, max {np.max(certified):.2%}"
    )


def city(mentees: int, seed: int = 0) -> None:
    from experiments.cohorts import make_groups
    from features import score_pairs
    from features.groups import mentee_similarity

    cohort = make_groups(seed=seed, mentees=mentees, mentors=mentees // 3, schools=mentees // 100)
    mentors, pupils = cohort.answers("mentors"), cohort.answers("mentees")
    scores = score_pairs(cohort.spec, mentors, pupils, cohort.mentee_orgs, cohort.mentor_orgs)
    problem = scores.problem()
    start = time.process_time()
    plain = solve(problem)
    plain_cpu = time.process_time() - start
    start = time.process_time()
    similarity = mentee_similarity(scores)
    weight = cohort.spec.cohesion.weight if cohort.spec.cohesion else 0.1
    found = solve_cohesive(problem, similarity, weight)
    cpu = time.process_time() - start
    from matching import cohesion_of

    before = cohesion_of(problem, plain.pairs, similarity, weight)
    print(
        f"city {mentees} x {problem.n_mentors} (weight {weight:g}): pairs {len(plain.pairs)} = "
        f"{len(found.matching.pairs)}; cohesion {before:.1f} -> {found.cohesion:.1f}, "
        f"score {plain.total_score:.1f} -> {found.matching.total_score:.1f}; value "
        f"{found.value:.1f}, bound {found.bound:.1f}, certified gap {found.gap / found.bound:.2%}; "
        f"{found.rounds} exact solves; CPU {cpu:.2f} s (plain solve {plain_cpu:.2f} s)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--small", type=int, default=30, help="random small problems (MILP)")
    parser.add_argument("--city", type=int, nargs="*", default=[3_000, 30_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.small:
        small(args.small, args.seed)
    for mentees in args.city:
        city(mentees, args.seed)


if __name__ == "__main__":
    main()
