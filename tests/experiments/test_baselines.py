"""The baselines keep every rule; deferred acceptance is stable; the solver is never worse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from experiments.baselines import deferred_acceptance, greedy_pairs, random_pairs
from experiments.metrics import blocking_pairs
from features import score_pairs
from matching import Problem, solve, violations
from tests.experiments.util import preference_problems
from tests.matching.strategies import problems

BASELINES = {
    "random": lambda problem: random_pairs(problem, seed=3),
    "greedy": greedy_pairs,
    "stable": deferred_acceptance,
}


@settings(max_examples=200, deadline=None)
@given(problems())
def test_every_baseline_keeps_the_rules(problem: Problem) -> None:
    for name, baseline in BASELINES.items():
        assert violations(problem, baseline(problem)) == [], name


@settings(max_examples=200, deadline=None)
@given(problems())
def test_deferred_acceptance_leaves_no_blocking_pair(problem: Problem) -> None:
    assert blocking_pairs(problem, deferred_acceptance(problem)) == []


@settings(max_examples=200, deadline=None)
@given(preference_problems())
def test_deferred_acceptance_is_stable_for_the_mentors_own_view(case: Any) -> None:
    problem, mentor_view = case
    pairs = deferred_acceptance(problem, mentor_view=mentor_view)
    assert violations(problem, pairs) == []
    assert blocking_pairs(problem, pairs, mentor_view=mentor_view) == []


@settings(max_examples=200, deadline=None)
@given(problems())
def test_with_one_score_for_both_sides_the_stable_answer_is_the_greedy_one(
    problem: Problem,
) -> None:
    # Preferences that come from one strict order of the pairs have a single stable answer,
    # which best-first greedy also finds: two independent implementations must agree.
    assert deferred_acceptance(problem) == greedy_pairs(problem)


def test_deferred_acceptance_is_best_for_mentees_among_stable_answers() -> None:
    # Two mentees, two mentors with one place each: mentees prefer (0->0, 1->1), mentors prefer
    # the other way round. Both answers are stable; mentee-proposing gives the mentees' choice.
    scores = np.array([[0.9, 0.1], [0.1, 0.9]])
    mentor_view = np.array([[0.1, 0.9], [0.9, 0.1]])
    problem = Problem(scores, capacity=[1, 1])
    assert deferred_acceptance(problem, mentor_view=mentor_view) == [(0, 0), (1, 1)]
    assert blocking_pairs(problem, [(0, 1), (1, 0)], mentor_view=mentor_view) == []


def test_a_rejected_mentee_proposes_to_the_next_mentor() -> None:
    # Mentor 0 has one place and keeps mentee 1 (0.8 > 0.7); mentee 0 then goes to mentor 1.
    scores = np.array([[0.7, 0.3], [0.8, 0.1]])
    assert deferred_acceptance(Problem(scores, capacity=[1, 1])) == [(0, 1), (1, 0)]


def test_random_pairs_depend_on_the_seed_only() -> None:
    rng = np.random.default_rng(5)
    problem = Problem(rng.uniform(size=(30, 12)), capacity=rng.integers(1, 4, 12))
    assert random_pairs(problem, seed=1) == random_pairs(problem, seed=1)
    assert random_pairs(problem, seed=1) != random_pairs(problem, seed=2)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_the_solver_beats_or_equals_every_baseline(problem: Problem) -> None:
    coverage = len(solve(_with(problem, "coverage")).pairs)
    total = solve(_with(problem, "score")).total_score
    for name, baseline in BASELINES.items():
        pairs = baseline(problem)
        assert coverage >= len(pairs), name
        assert total >= _total(problem, pairs) - 1e-9, name


@pytest.mark.parametrize("spec", ["teacher", "pupil"])
def test_the_solver_beats_or_equals_every_baseline_on_a_school(spec: str) -> None:
    from experiments.cohorts import make_school

    cohort = make_school(seed=4, spec=spec)
    scores = score_pairs(cohort.spec, cohort.answers("mentors"), cohort.answers("mentees"))
    problem = Problem(scores.scores, scores.capacity)
    by_coverage = solve(problem)
    by_score = solve(Problem(scores.scores, scores.capacity, objective="score"))
    for name, baseline in BASELINES.items():
        pairs = baseline(problem)
        assert len(by_coverage.pairs) >= len(pairs), name
        assert by_score.total_score >= _total(problem, pairs) - 1e-9, name
        if len(by_coverage.pairs) == len(pairs):
            assert by_coverage.total_score >= _total(problem, pairs) - 1e-9, name


def _with(problem: Problem, objective: str) -> Problem:
    return Problem(
        problem.scores,
        problem.capacity,
        allowed=problem.allowed,
        min_score=problem.min_score,
        load=problem.load,
        pinned=problem.pinned,
        forbidden=problem.forbidden,
        objective=objective,  # type: ignore[arg-type]
        demand=problem.demand,
        max_capacity=problem.max_capacity,
    )


def _total(problem: Problem, pairs: list[tuple[int, int]]) -> float:
    chosen = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return float(problem.lookup(chosen[:, 0], chosen[:, 1])[1].sum())
