"""Metrics on hand-made pairs whose values a reader can check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings

from experiments.metrics import blocking_pairs, gini, measure, mentor_loads, most_matched
from matching import Problem, solve
from tests.matching.strategies import problems

# Two mentors with one place each; both mentees like mentor 0 best, mentor 0 likes mentee 0 best.
SCORES = np.array([[0.9, 0.2], [0.8, 0.1]])


def test_a_mentee_and_mentor_who_prefer_each_other_block_the_pairs() -> None:
    problem = Problem(SCORES, capacity=[1, 1])
    assert blocking_pairs(problem, [(0, 1), (1, 0)]) == [(0, 0)]
    assert blocking_pairs(problem, [(0, 0), (1, 1)]) == []


def test_a_free_place_or_an_unmatched_mentee_is_enough_to_block() -> None:
    problem = Problem(SCORES, capacity=[2, 1])
    # Mentor 0 still has a place and mentee 1 prefers mentor 0 to mentor 1.
    assert blocking_pairs(problem, [(0, 0), (1, 1)]) == [(1, 0)]
    # Mentee 1 has nobody and mentor 1 a free place; mentor 0 keeps the better mentee 0.
    assert blocking_pairs(Problem(SCORES, capacity=[1, 1]), [(0, 0)]) == [(1, 1)]


def test_ties_and_confirmed_pairs_never_block() -> None:
    tied = Problem(np.array([[0.5, 0.5], [0.5, 0.5]]), capacity=[1, 1])
    assert blocking_pairs(tied, [(0, 1), (1, 0)]) == []
    # The mentor's confirmed mentee cannot be displaced, so mentee 1 cannot block with mentor 0.
    pinned = Problem(SCORES, capacity=[1, 1], pinned=[(1, 0)])
    assert blocking_pairs(pinned, [(1, 0), (0, 1)]) == []


def test_blocking_follows_the_mentors_own_view_when_given() -> None:
    problem = Problem(SCORES, capacity=[1, 1])
    # Mentor 0 prefers mentee 1 here, so the pairs that block by the scores are stable.
    view = np.array([[0.1, 0.5], [0.9, 0.5]])
    assert blocking_pairs(problem, [(0, 1), (1, 0)], mentor_view=view) == []
    assert blocking_pairs(problem, [(0, 0), (1, 1)], mentor_view=view) == [(1, 0)]


def test_a_sparse_problem_only_counts_allowed_pairs() -> None:
    scores = sp.csr_array(np.array([[0.0, 0.3], [0.9, 0.2]]))
    scores.eliminate_zeros()  # mentee 0 may not have mentor 0
    problem = Problem(scores, capacity=[1, 1])
    assert blocking_pairs(problem, [(0, 1), (1, 0)]) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [([2, 2, 2, 2], 0.0), ([0, 0, 0, 4], 0.75), ([1, 3], 0.25), ([], 0.0), ([0, 0], 0.0)],
)
def test_gini(values: list[int], expected: float) -> None:
    assert gini(values) == pytest.approx(expected)


def test_gini_rejects_negative_loads() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


def test_measure_counts_coverage_load_waiting_and_satisfaction() -> None:
    problem = Problem(
        np.array([[0.9, 0.4], [0.8, 0.2], [0.7, 0.6], [0.1, 0.0]]),
        capacity=[3, 1],
        load=[1, 0],
    )
    pairs = [(0, 0), (1, 0), (2, 1)]
    outcomes = pd.DataFrame(
        {
            "mentee_satisfaction": [9, 7, 3],
            "mentor_satisfaction": [6, 10, 8],
            "finished": [True, True, False],
        }
    )
    waiting = np.array([40.0, 5.0, np.nan, 31.0])
    row = measure(
        problem, pairs, truth=np.array([0.5, 0.7, 0.9]), outcomes=outcomes, waiting=waiting
    )
    assert row["pairs"] == 3
    assert row["coverage"] == pytest.approx(0.75)
    assert row["mean_score"] == pytest.approx((0.9 + 0.8 + 0.6) / 3)
    assert row["min_score"] == pytest.approx(0.6)
    assert row["truth_mean"] == pytest.approx(0.7)
    assert row["truth_total"] == pytest.approx(2.1)
    assert row["mentee_satisfied"] == pytest.approx(2 / 3)
    assert row["mentor_satisfied"] == pytest.approx(2 / 3)
    assert row["finished"] == pytest.approx(2 / 3)
    assert mentor_loads(problem, pairs).tolist() == [3, 1]
    assert row["mentors_full"] == 1
    assert row["load_gini"] == pytest.approx(gini([3, 1]))
    # Mentees 0 and 3 waited past 30 days; only mentee 0 got a mentor.
    assert row["waiting_matched"] == 1
    # Mentee 3 is unmatched and both mentors are full with better mentees: stable.
    assert row["blocking_pairs"] == 0


def test_measure_of_no_pairs() -> None:
    row = measure(Problem(SCORES, capacity=[1, 1]), [])
    assert row["coverage"] == 0.0
    assert row["mean_score"] is None
    assert row["blocking_pairs"] == 4  # every pair could be made
    assert row["truth_mean"] is None


@settings(max_examples=150, deadline=None)
@given(problems(objective="coverage"))
def test_most_matched_is_the_solvers_coverage(problem: Problem) -> None:
    assert most_matched(problem) == len(solve(problem).pairs)
