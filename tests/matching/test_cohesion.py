"""Group cohesion: valid answers, never worse than without it, within the certified bound of the
exact (MILP) optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Problem, ProblemError, solve, violations
from matching.cohesion import cohesion_of, solve_cohesive
from tests.matching.reference import cohesive_optimum, objective_of
from tests.matching.strategies import problems


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    problems(max_mentees=7, max_mentors=3), st.integers(0, 2**32 - 1), st.sampled_from([0.25, 1.0])
)
def test_cohesive_answer_is_valid_and_within_its_bound(
    problem: Problem, seed: int, weight: float
) -> None:
    rng = np.random.default_rng(seed)
    n = problem.n_mentees
    similarity = np.round(rng.uniform(size=(n, n)), 2) * (rng.uniform(size=(n, n)) < 0.6)
    found = solve_cohesive(problem, similarity, weight)
    pairs = found.matching.pairs
    assert violations(problem, pairs) == []
    plain = solve(problem)
    plain_value = objective_of(problem, plain.pairs).value + cohesion_of(
        problem, plain.pairs, similarity, weight
    )
    got = objective_of(problem, pairs)
    if problem.objective == "coverage":
        assert got.count == len(plain.pairs)  # coverage is never traded for cohesion
    assert found.value == pytest.approx(got.value + found.cohesion, abs=1e-9)
    assert found.value >= plain_value - 1e-9
    exact = cohesive_optimum(problem, similarity, weight)
    assert found.value <= exact + 1e-6
    assert exact <= found.bound + 1e-6


def test_cohesion_groups_alike_mentees() -> None:
    # Two classes of three pupils; two mentors of three places each; scores mix the classes.
    scores = np.array([[0.6, 0.5], [0.5, 0.6], [0.6, 0.5], [0.5, 0.6], [0.6, 0.5], [0.5, 0.6]])
    same_class = np.equal.outer([0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]).astype(float)
    problem = Problem(scores, capacity=[3, 3])
    assert cohesion_of(problem, solve(problem).pairs, same_class) == 2.0  # of 6 at most
    found = solve_cohesive(problem, same_class, weight=0.5)
    groups = {j: {i for i, k in found.matching.pairs if k == j} for j in (0, 1)}
    assert sorted(map(sorted, groups.values())) == [[0, 1, 2], [3, 4, 5]]
    assert found.cohesion == pytest.approx(3.0)  # six mentees in full alike groups, weight 0.5
    assert found.value == pytest.approx(cohesive_optimum(problem, same_class, 0.5))
    # The bound lets every pair have its best score and a full alike group at once.
    assert found.bound == pytest.approx(3.6 + 3.0)


def test_no_weight_is_the_plain_solve() -> None:
    problem = Problem(np.array([[0.9, 0.1], [0.8, 0.2]]), capacity=[2, 2])
    found = solve_cohesive(problem, np.ones((2, 2)), weight=0.0)
    assert found.matching.pairs == solve(problem).pairs
    assert found.gap == 0.0


@pytest.mark.parametrize(
    ("similarity", "weight", "argument"),
    [
        (np.ones((3, 3)), 1.0, "similarity"),
        (np.full((2, 2), 2.0), 1.0, "similarity"),
        (np.ones((2, 2)), -1.0, "weight"),
    ],
)
def test_bad_cohesion_arguments(similarity: np.ndarray, weight: float, argument: str) -> None:
    problem = Problem(np.array([[0.9, 0.1], [0.8, 0.2]]), capacity=[2, 2])
    with pytest.raises(ProblemError, match=rf"'{argument}'"):
        solve_cohesive(problem, similarity, weight)
