"""Mentees needing several distinct mentors (``demand``) and groups above 3 (``max_capacity``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from matching import MAX_CAPACITY, Problem, ProblemError, solve, suggest, violations
from matching.engines import ENGINES
from tests.matching.reference import flow_lp, objective_of, optimum

SCORES = np.array([[0.9, 0.8, 0.1], [0.7, 0.2, 0.6], [0.5, 0.4, 0.3]])


def test_a_mentee_needing_two_gets_two_distinct_mentors() -> None:
    problem = Problem(SCORES, capacity=[2, 1, 1], demand=[2, 1, 1])
    result = solve(problem)
    mentors_of_0 = [j for i, j in result.pairs if i == 0]
    assert sorted(mentors_of_0) == [0, 1]
    assert len(result.pairs) == 4  # every unit of demand covered: 2 + 1 + 1 = 4 places
    assert result.unmatched == []
    assert result.partial == []
    assert violations(problem, result.pairs) == []


def test_one_mentor_with_places_left_cannot_cover_a_demand_of_two() -> None:
    # Mentor 0 has three places, but the two units of mentee 0 must go to distinct mentors.
    problem = Problem(np.array([[0.9]]), capacity=[3], demand=[2])
    result = solve(problem)
    assert result.pairs == [(0, 0)]
    assert result.partial == [0]
    assert result.unmatched == []


@pytest.mark.parametrize("engine", ENGINES)
def test_coverage_counts_units_of_demand(engine: str) -> None:
    # Mentee 0 needs two mentors; giving mentor 1 to mentee 1 instead covers as many units
    # (2) but mentee 0's second pair scores more: coverage counts pairs, then score decides.
    scores = np.array([[0.9, 0.8], [0.1, 0.2]])
    problem = Problem(scores, capacity=[1, 1], demand=[2, 1])
    result = solve(problem, engine=engine)  # type: ignore[arg-type]
    assert result.pairs == [(0, 0), (0, 1)]
    assert result.unmatched == [1]
    assert objective_of(problem, result.pairs).count == optimum(problem).count == 2


def test_pinned_pairs_count_towards_demand_and_are_not_repeated() -> None:
    problem = Problem(SCORES, capacity=[3, 3, 3], demand=[2, 1, 1], pinned=[(0, 2)])
    result = solve(problem)
    assert sorted(j for i, j in result.pairs if i == 0) == [0, 2]
    assert violations(problem, result.pairs) == []
    full = Problem(SCORES, capacity=[3, 3, 3], demand=[2, 1, 1], pinned=[(0, 2), (0, 1)])
    assert sorted(j for i, j in solve(full).pairs if i == 0) == [1, 2]


def test_groups_above_three_only_where_allowed() -> None:
    scores = np.full((8, 1), 0.5)
    with pytest.raises(ProblemError, match=r"'capacity'.*from 0 to 3\. Got 8 at mentor 0"):
        Problem(scores, capacity=[8])
    assert MAX_CAPACITY == 3
    group = Problem(scores, capacity=[8], max_capacity=10)
    assert len(solve(group).pairs) == 8
    # Per mentor: the second mentor's form allows 3 only.
    with pytest.raises(ProblemError, match=r"max_capacity \(3\)\. Got 5 at mentor 1"):
        Problem(np.full((8, 2), 0.5), capacity=[8, 5], max_capacity=[10, 3])
    mixed = Problem(np.full((12, 2), 0.5), capacity=[8, 3], max_capacity=[10, 3], load=[0, 1])
    assert np.bincount([j for _, j in solve(mixed).pairs]).tolist() == [8, 2]


@pytest.mark.parametrize(
    ("kwargs", "argument", "value"),
    [
        ({"demand": [0, 1, 1]}, "demand", 0),
        ({"demand": [1, 1.5, 1]}, "demand", 1.5),
        ({"demand": [1, 1]}, "demand", (2,)),
        ({"demand": [1, np.nan, 1]}, "demand", "nan"),
        ({"max_capacity": -1}, "max_capacity", -1.0),
        ({"max_capacity": [3, 3]}, "max_capacity", (2,)),
        ({"pinned": [(0, 0), (0, 0)], "demand": [2, 1, 1]}, "pinned", (0, 0)),
        ({"pinned": [(0, 0), (0, 1)], "demand": [1, 1, 1]}, "pinned", (0, 1)),
        (
            {"pinned": [(0, 0), (0, 1), (0, 2)], "demand": [2, 1, 1], "capacity": [1, 1, 1]},
            "pinned",
            (0, 2),
        ),
    ],
)
def test_bad_demand_names_itself(kwargs: dict[str, Any], argument: str, value: Any) -> None:
    arguments: dict[str, Any] = {"scores": SCORES, "capacity": [1, 1, 1], **kwargs}
    with pytest.raises(ProblemError, match=rf"^The '{argument}' parameter") as info:
        Problem(**arguments)
    assert info.value.argument == argument
    if isinstance(value, str):
        assert value in str(info.value)
    else:
        assert info.value.value == value


def test_pinned_beyond_demand_says_the_demand() -> None:
    with pytest.raises(ProblemError, match=r"at most 2 pairs of mentee 0 \(its demand\)"):
        Problem(SCORES, [1, 1, 1], demand=[2, 1, 1], pinned=[(0, 0), (0, 1), (0, 2)])


def test_violations_of_demand() -> None:
    problem = Problem(SCORES, capacity=[3, 3, 3], demand=[2, 1, 1])
    found = violations(problem, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0), (2, 0)])
    assert sorted(v.rule for v in found) == ["mentee_repeated", "mentee_repeated", "pair_repeated"]
    details = sorted(v.detail for v in found)
    assert "mentee 0 has 3 mentors, needs 2" in details
    assert "mentee 1 has 2 mentors" in details


def test_suggest_and_blocks_with_groups() -> None:
    problem = Problem(SCORES, capacity=[5, 0, 4], demand=[3, 1, 1], max_capacity=5)
    assert suggest(problem, 0) == [(0, 0.9), (2, 0.1)]
    result = solve(problem)
    assert result.partial == [0]  # only two mentors have places
    assert violations(problem, result.pairs) == []


@pytest.mark.parametrize("seed", range(6))
def test_gap_zero_to_the_lp_relaxation_with_groups(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 240, 40
    scores = np.round(rng.uniform(0.0, 1.0, size=(n, m)), 6)
    allowed = rng.uniform(size=(n, m)) < 0.25
    capacity = rng.integers(1, 11, size=m)  # groups of up to 10
    demand = np.where(rng.uniform(size=n) < 0.1, 2, 1)
    problem = Problem(
        sp.csr_array(np.where(allowed, scores, 0.0) * allowed),
        capacity,
        allowed=sp.csr_array(allowed),
        demand=demand,
        max_capacity=10,
    )
    result = solve(problem)
    assert violations(problem, result.pairs) == []
    units, best = flow_lp(problem)
    assert len(result.pairs) == units
    assert result.total_score == pytest.approx(best, abs=1e-6)
    for engine in ENGINES:
        other = solve(problem, engine=engine)  # type: ignore[arg-type]
        assert len(other.pairs) == units
        assert other.total_score == pytest.approx(best, abs=1e-6)
