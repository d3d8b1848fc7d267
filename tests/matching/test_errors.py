"""Bad arguments raise ProblemError naming the argument and the value; edge cases are normal."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from matching import Problem, ProblemError, solve, suggest, violations

SCORES = np.array([[0.5, 0.4], [0.3, 0.2], [0.1, 0.9]])


@pytest.mark.parametrize(
    ("kwargs", "argument", "value"),
    [
        ({"capacity": [4, 1]}, "capacity", 4),
        ({"capacity": [1, -1]}, "capacity", -1),
        ({"capacity": [1.5, 1]}, "capacity", 1.5),
        ({"capacity": [1, 1, 1]}, "capacity", (3,)),
        ({"scores": np.ones((3, 3))}, "capacity", (2,)),
        ({"scores": np.ones(3)}, "scores", (3,)),
        ({"scores": np.array([[0.5, np.nan], [0, 0], [0, 0]])}, "scores", "nan"),
        ({"scores": np.array([[0.5, np.inf], [0, 0], [0, 0]])}, "scores", np.inf),
        ({"scores": sp.csr_array(np.array([[0.5, 0], [0, -np.inf], [0, 0]]))}, "scores", -np.inf),
        ({"scores": [["a", "b"], ["c", "d"], ["e", "f"]]}, "scores", "list"),
        ({"allowed": np.ones((2, 2), dtype=bool)}, "allowed", (2, 2)),
        ({"allowed": np.full((3, 2), 7)}, "allowed", "int64"),
        ({"load": [2, 0], "capacity": [1, 1]}, "load", 2),
        ({"load": [0, 0, 0]}, "load", (3,)),
        ({"min_score": float("nan")}, "min_score", "nan"),
        ({"objective": "fairness"}, "objective", "fairness"),
        ({"load_penalty": -0.1}, "load_penalty", -0.1),
        ({"pinned": [(0, 0)], "forbidden": [(0, 0)]}, "pinned", (0, 0)),
        ({"pinned": [(0, 0), (0, 1)]}, "pinned", (0, 1)),
        ({"pinned": [(3, 0)]}, "pinned", (3, 0)),
        ({"pinned": [(0, -1)]}, "pinned", (0, -1)),
        ({"pinned": [("a", 0)]}, "pinned", ("a", 0)),
        ({"pinned": [(0, 0), (1, 0)], "capacity": [1, 1]}, "pinned", [(0, 0), (1, 0)]),
        ({"pinned": [(0, 0)], "load": [1, 0], "capacity": [1, 1]}, "pinned", [(0, 0)]),
        (
            {"pinned": [(0, 1)], "allowed": np.array([[True, False], [True, True], [True, True]])},
            "pinned",
            (0, 1),
        ),
        ({"forbidden": [(0, 5)]}, "forbidden", (0, 5)),
        ({"priority": [1.0, 0.0]}, "priority", (2,)),
        ({"priority": [1.0, -1.0, 0.0]}, "priority", -1.0),
        ({"priority": [1.0, np.nan, 0.0]}, "priority", "nan"),
    ],
)
def test_bad_argument_names_itself_and_value(
    kwargs: dict[str, Any], argument: str, value: Any
) -> None:
    arguments: dict[str, Any] = {"scores": SCORES, "capacity": [1, 1], **kwargs}
    with pytest.raises(
        ProblemError, match=rf"^The '{argument}' parameter of Problem must be"
    ) as info:
        Problem(**arguments)
    assert info.value.argument == argument
    if isinstance(value, str) and not isinstance(info.value.value, str):
        assert value in repr(info.value.value) or value in str(info.value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(info.value.value)
    else:
        assert info.value.value == value
    assert re.search(r"Got .+ instead\.$", str(info.value))


def test_error_says_where_in_an_array() -> None:
    with pytest.raises(ProblemError, match=r"Got 4 at mentor 1 instead"):
        Problem(SCORES, capacity=[3, 4])
    with pytest.raises(ProblemError, match=r"Got nan at mentee 2, mentor 0 instead"):
        Problem(np.array([[0.0, 0.0], [0.0, 0.0], [np.nan, 0.0]]), capacity=[1, 1])


@pytest.mark.parametrize(
    ("scores", "capacity"),
    [
        (np.zeros((0, 3)), [1, 2, 3]),  # no mentees
        (np.zeros((4, 0)), []),  # no mentors
        (np.zeros((0, 0)), []),
        (sp.csr_array((4, 3)), [3, 3, 3]),  # nothing allowed
        (np.ones((4, 3)), [0, 0, 0]),  # all capacity 0
    ],
)
def test_nothing_to_match_is_a_normal_answer(scores: Any, capacity: list[int]) -> None:
    problem = Problem(scores, capacity)
    result = solve(problem)
    assert result.pairs == []
    assert result.total_score == 0.0
    assert result.unmatched == list(range(scores.shape[0]))
    for mentee in range(scores.shape[0]):
        assert suggest(problem, mentee) == []


def test_mentee_without_allowed_mentor_is_left_unmatched() -> None:
    allowed = np.array([[True, True], [False, False], [True, False]])
    result = solve(Problem(SCORES, [2, 1], allowed=allowed))
    assert result.unmatched == [1]
    assert len(result.pairs) == 2


def test_pinned_pair_kept_whatever_its_score() -> None:
    problem = Problem(SCORES, [1, 1], min_score=0.35, pinned=[(1, 1)])
    result = solve(problem)
    assert (1, 1) in result.pairs
    assert result.pairs == [(0, 0), (1, 1)]
    assert violations(problem, result.pairs) == []


def test_forbidden_pair_never_proposed() -> None:
    problem = Problem(SCORES, [1, 1], forbidden=[(2, 1)])
    assert (2, 1) not in solve(problem).pairs
    assert 1 not in [j for j, _ in suggest(problem, 2)]


def test_load_takes_places() -> None:
    problem = Problem(SCORES, capacity=[1, 3], load=[1, 2])
    result = solve(problem)
    assert result.pairs == [(2, 1)]
    assert suggest(problem, 0) == [(1, 0.4)]


def test_sparse_absent_entry_is_not_allowed_but_stored_zero_is() -> None:
    scores = sp.csr_array(
        (np.array([0.0, 0.7]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2)
    )
    result = solve(Problem(scores, [1, 1]))
    assert result.pairs == [(0, 1), (1, 0)]


def test_violations_lists_every_broken_rule() -> None:
    problem = Problem(
        SCORES,
        [1, 1],
        allowed=np.array([[True, True], [True, False], [True, True]]),
        min_score=0.35,
        pinned=[(2, 1)],
        forbidden=[(0, 1)],
    )
    found = violations(problem, [(0, 0), (1, 0), (1, 1), (0, 1), (5, 0), (2, 0), (2, 0)])
    rules = sorted(v.rule for v in found)
    assert rules == sorted(
        [
            "out_of_range",  # (5, 0)
            "pair_repeated",  # (2, 0) twice
            "mentee_repeated",  # mentee 0 and mentee 1 have two mentors each
            "mentee_repeated",
            "not_allowed",  # (1, 1)
            "forbidden",  # (0, 1)
            "below_min_score",  # (1, 0) scores 0.3, (2, 0) scores 0.1
            "below_min_score",
            "over_capacity",  # mentor 0 has three
            "over_capacity",  # mentor 1 has two
            "pinned_missing",  # (2, 1)
        ]
    )
    assert violations(problem, solve(problem).pairs) == []


@pytest.mark.parametrize("bad", [-1, 3, 1.5])
def test_suggest_rejects_unknown_mentee(bad: Any) -> None:
    with pytest.raises(IndexError, match=r"mentee must be an index in 0\.\.2"):
        suggest(Problem(SCORES, [1, 1]), bad)
