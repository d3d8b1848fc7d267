"""The solver's answers are valid and exactly optimal on many random problems."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings

from matching import Problem, solve, suggest, violations
from matching.engines import ENGINES
from tests.matching.reference import objective_of, optimum
from tests.matching.strategies import problems

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(problems())
def test_answer_is_valid_and_lexicographically_optimal(problem: Problem) -> None:
    result = solve(problem)
    assert violations(problem, result.pairs) == []
    got = objective_of(problem, result.pairs)
    best = optimum(problem)
    if problem.objective == "coverage":
        assert got.count == best.count
        assert got.value == pytest.approx(best.value, abs=1e-6)
    else:
        assert got.value == pytest.approx(best.value, abs=1e-6)
        assert got.count == best.count
    matched = {i for i, _ in result.pairs}
    assert result.unmatched == sorted(set(range(problem.n_mentees)) - matched)
    got_mentors = np.bincount([i for i, _ in result.pairs], minlength=problem.n_mentees)
    assert result.partial == [
        i for i in range(problem.n_mentees) if 0 < got_mentors[i] < problem.demand[i]
    ]
    assert result.total_score == pytest.approx(
        sum(problem.lookup(*zip(*result.pairs, strict=True))[1]) if result.pairs else 0.0
    )


@settings(max_examples=150, deadline=None)
@given(problems(max_mentees=14, max_mentors=8, dyadic=False))
def test_optimal_with_arbitrary_float_scores(problem: Problem) -> None:
    result = solve(problem)
    assert violations(problem, result.pairs) == []
    got, best = objective_of(problem, result.pairs), optimum(problem)
    if problem.objective == "coverage":
        assert got.count == best.count
    assert got.value == pytest.approx(best.value, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(problems(max_mentees=12, max_mentors=8))
def test_all_engines_agree(problem: Problem) -> None:
    """Every engine reaches the same optimum on every block."""
    answers = {engine: solve(problem, engine=engine) for engine in ENGINES}
    reference = objective_of(problem, answers["hungarian"].pairs)
    for engine, answer in answers.items():
        assert violations(problem, answer.pairs) == []
        got = objective_of(problem, answer.pairs)
        assert (got.count, got.value) == (reference.count, pytest.approx(reference.value, abs=1e-9))
        # Blocks with demand above 1 are b-matchings: the Hungarian engine hands them on.
        expected = (
            {engine} if problem.single or engine != "hungarian" else {engine, "network_simplex"}
        )
        assert set(answer.info["engines"]) <= expected


@settings(max_examples=60, deadline=None)
@given(problems())
def test_deterministic(problem: Problem) -> None:
    assert solve(problem).pairs == solve(problem).pairs


@settings(max_examples=100, deadline=None)
@given(problems())
def test_suggestions_are_proposable_and_best_first(problem: Problem) -> None:
    for mentee in range(problem.n_mentees):
        found = suggest(problem, mentee, k=None)
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
        for mentor, score in found:
            assert (mentee, mentor) not in problem.forbidden
            assert score >= problem.min_score
            assert problem.free[mentor] > 0
        assert suggest(problem, mentee, k=2) == found[:2]


def test_blocks_are_solved_apart() -> None:
    rng = np.random.default_rng(3)
    blocks = [rng.uniform(size=(200, 80)) for _ in range(4)]
    scores = sp.block_diag(blocks, format="csr")
    problem = Problem(scores, capacity=np.full(320, 2))
    result = solve(problem)
    assert result.info["blocks"] == 4
    assert len(result.pairs) == 640
    for mentee, mentor in result.pairs:
        assert mentee // 200 == mentor // 80
    # Another engine reaches the same optimum.
    whole = solve(problem, engine="network_simplex")
    assert whole.total_score == pytest.approx(result.total_score, abs=1e-6)


def test_load_penalty_spreads_mentees() -> None:
    # One mentor is everybody's favourite; without a penalty she takes three mentees.
    scores = np.array([[0.9, 0.6, 0.6], [0.9, 0.6, 0.6], [0.9, 0.6, 0.6]])
    crowded = solve(Problem(scores, capacity=[3, 3, 3]))
    assert [j for _, j in crowded.pairs] == [0, 0, 0]
    spread = solve(Problem(scores, capacity=[3, 3, 3], load_penalty=0.5))
    assert sorted(j for _, j in spread.pairs) == [0, 1, 2]


def test_coverage_beats_score_when_asked() -> None:
    # Mentee 0 could take mentor 0 (0.9) and leave mentee 1 without anyone.
    scores = np.array([[0.9, 0.5], [0.8, 0.0]])
    allowed = np.array([[True, True], [True, False]])
    coverage = solve(Problem(scores, capacity=[1, 1], allowed=allowed))
    assert coverage.pairs == [(0, 1), (1, 0)]
    best_total = solve(
        Problem(np.array([[0.9, 0.0], [0.8, 0.0]]), [1, 1], allowed=allowed, objective="score")
    )
    assert best_total.pairs == [(0, 0)]
    assert best_total.unmatched == [1]


@pytest.mark.parametrize("engine", ENGINES)
def test_coverage_takes_one_more_pair_at_any_cost_in_score(engine: str) -> None:
    # Matching both mentees needs the two worst pairs (-1 each) instead of the best one (+1).
    scores = np.array([[1.0, -1.0], [-1.0, -np.inf]])
    allowed = np.isfinite(scores)
    problem = Problem(np.where(allowed, scores, 0), [1, 1], allowed=allowed, min_score=-1)
    result = solve(problem, engine=engine)  # type: ignore[arg-type]
    assert result.pairs == [(0, 1), (1, 0)]
    assert result.total_score == -2.0


def test_priority_matches_the_longest_waiting_mentee_first() -> None:
    # One place, two mentees: the better pair is the newcomer's; the waiting one has priority.
    scores = np.array([[0.9], [0.6]])
    assert solve(Problem(scores, [1])).pairs == [(0, 0)]
    waiting = solve(Problem(scores, [1], priority=[0.0, 1.0]))
    assert waiting.pairs == [(1, 0)]
    assert waiting.total_score == pytest.approx(0.6)  # priorities are not scores
