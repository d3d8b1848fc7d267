"""Measures of a set of proposed pairs: coverage, scores, truth, satisfaction, load, stability, urgency.

Every function takes the :class:`matching.Problem` the pairs answer (its candidates, capacities and
loads) and the pairs as ``(mentee, mentor)`` tuples, so that any method -- the solver or a baseline --
is measured the same way. :func:`measure` gathers one row of the evaluation's headline table.

Examples
--------
>>> import numpy as np
>>> from matching import Problem
>>> problem = Problem(np.array([[0.9, 0.2], [0.8, 0.1]]), capacity=[1, 1])
>>> blocking_pairs(problem, [(0, 1), (1, 0)])
[(0, 0)]
>>> gini([1, 1, 1]), round(gini([0, 0, 3]), 3)
(0.0, 0.667)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from features.answers import ASSIGN_WITHIN_DAYS
from features.targets import SATISFACTION_TARGETS
from matching import MAX_CAPACITY, Problem

__all__ = [
    "METRICS",
    "SATISFIED",
    "TARGETS",
    "WAITING_DAYS",
    "Metric",
    "blocking_pairs",
    "gini",
    "measure",
    "mentor_loads",
    "most_matched",
]

Pair = tuple[int, int]

#: A satisfaction answer (1-10) at or above this counts as "satisfied" in the share compared with
#: the targets: the monitoring forms count the share of satisfied participants, not a mean.
SATISFIED = 7
#: Target shares of satisfied mentees and mentors by year (docs/rules.md#satisfaction), as fractions.
TARGETS = {year: percent / 100 for year, percent in SATISFACTION_TARGETS.items()}
#: The regulation wants a mentor within this many days of starting (docs/rules.md#thirty-days).
WAITING_DAYS = ASSIGN_WITHIN_DAYS


@dataclass(frozen=True)
class Metric:
    """One column of the headline table: its key, the Russian label and the number format."""

    key: str
    label: str
    format: str


METRICS = (
    Metric("pairs", "Пар", "{:d}"),
    Metric("coverage", "Охват", "{:.1%}"),
    Metric("mean_score", "Средняя оценка", "{:.3f}"),
    Metric("min_score", "Низшая оценка", "{:.3f}"),
    Metric("truth_mean", "Истинная совместимость, средняя", "{:.3f}"),
    Metric("truth_total", "Истинная совместимость, сумма", "{:.1f}"),
    Metric("mentee_satisfied", "Довольны наставляемые", "{:.1%}"),
    Metric("mentor_satisfied", "Довольны наставники", "{:.1%}"),
    Metric("finished", "Завершили программу", "{:.1%}"),
    Metric("mentors_full", "Наставников с 3", "{:d}"),
    Metric("load_gini", "Джини загрузки", "{:.3f}"),
    Metric("blocking_pairs", "Блокирующих пар", "{:d}"),
    Metric("waiting_matched", "Ждавших > 30 дн. подобрано", "{:d}"),
)


def mentor_loads(problem: Problem, pairs: Sequence[Pair]) -> npt.NDArray[np.int64]:
    """Mentees of each mentor once the pairs are made, counting ``problem.load``."""
    mentors = np.array([j for _, j in pairs], dtype=np.int64)
    return problem.load + np.bincount(mentors, minlength=problem.n_mentors)


def gini(values: Any) -> float:
    """Gini index of non-negative numbers: 0 when all are equal, near 1 when one has everything.

    Examples
    --------
    >>> gini([2, 2, 2, 2]), gini([0, 0, 0, 4]), gini([])
    (0.0, 0.75, 0.0)
    """
    x = np.sort(np.asarray(values, dtype=float))
    if (x < 0).any():
        raise ValueError(f"gini needs non-negative values. Got {x.min()!r} instead.")
    if x.size == 0 or x.sum() == 0:
        return 0.0
    n = x.size
    # Mean absolute difference over all ordered pairs, divided by twice the mean.
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def blocking_pairs(problem: Problem, pairs: Sequence[Pair], mentor_view: Any = None) -> list[Pair]:
    """Candidate pairs whose mentee and mentor both prefer each other to what they got.

    A candidate pair (allowed, not forbidden, at least ``min_score``) that is not chosen blocks
    the answer when the mentee is unmatched or scores it strictly higher than their pair, and the
    mentor has a free place or scores it strictly higher than their worst mentee (capacity counts
    ``load``). Ties never block, and pinned pairs (confirmed by the curator) are never undone.

    Parameters
    ----------
    problem : Problem
        Mentees rank mentors by ``problem.scores``.
    pairs : sequence of (mentee, mentor)
    mentor_view : array_like or scipy.sparse matrix, optional
        How mentors rank mentees (same shape as the scores); by default the same scores.

    Returns
    -------
    list of (mentee, mentor)
        The blocking pairs, sorted; empty for a stable answer.
    """
    cand = problem.candidates
    chosen = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    mentee_view = cand.score
    mentor_pref = mentee_view if mentor_view is None else _view(mentor_view, problem, cand)
    _, chosen_score = problem.lookup(chosen[:, 0], chosen[:, 1])
    got = np.full(problem.n_mentees, -np.inf)
    got[chosen[:, 0]] = chosen_score
    # A confirmed (pinned) pair cannot be undone: its mentee never moves, its place never frees.
    pinned = np.array(problem.pinned, dtype=np.int64).reshape(-1, 2)
    got[pinned[:, 0]] = np.inf
    worst = _worst_kept(problem, chosen, mentor_view)
    key = cand.mentee * problem.n_mentors + cand.mentor
    in_answer = np.isin(key, chosen[:, 0] * problem.n_mentors + chosen[:, 1])
    blocking = ~in_answer & (mentee_view > got[cand.mentee]) & (mentor_pref > worst[cand.mentor])
    return [
        (int(i), int(j)) for i, j in zip(cand.mentee[blocking], cand.mentor[blocking], strict=True)
    ]


def _view(matrix: Any, problem: Problem, cand: Any) -> npt.NDArray[np.float64]:
    _, values = Problem(matrix, problem.capacity).lookup(cand.mentee, cand.mentor)
    return np.nan_to_num(values, nan=-np.inf)


def _worst_kept(
    problem: Problem, chosen: npt.NDArray[np.int64], mentor_view: Any
) -> npt.NDArray[np.float64]:
    """Each mentor's worst kept mentee (mentor's view); -inf while a place is free, inf at capacity 0."""
    if mentor_view is None:
        _, score = problem.lookup(chosen[:, 0], chosen[:, 1])
    else:
        _, score = Problem(mentor_view, problem.capacity).lookup(chosen[:, 0], chosen[:, 1])
    worst = np.full(problem.n_mentors, np.inf)
    movable = ~np.isin(chosen[:, 0], [mentee for mentee, _ in problem.pinned])
    np.minimum.at(worst, chosen[movable, 1], np.nan_to_num(score[movable], nan=-np.inf))
    taken = problem.load + np.bincount(chosen[:, 1], minlength=problem.n_mentors)
    worst[taken < problem.capacity] = -np.inf
    return worst


def most_matched(problem: Problem) -> int:
    """The most mentees any valid answer matches (pinned ones included): the coverage optimum
    (with ``demand``, the most pairs: units of demand).

    A maximum flow (Dinic's algorithm, in scipy) from the free mentees through their candidate
    pairs to the free places of the mentors; much faster than a full solve, so that a coverage
    curve over many minimum scores stays cheap at city scale.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem
    >>> most_matched(Problem(np.array([[0.9, 0.0], [0.8, 0.0], [0.7, 0.5]]), capacity=[2, 0]))
    2
    """
    cand = problem.candidates
    free = np.maximum(problem.free, 0)
    need = np.maximum(problem.need, 0)  # with ``demand``: mentors still needed, pins counted
    m = problem.n_mentors
    pinned = np.array([i * m + j for i, j in problem.pinned], dtype=np.int64)
    keep = (need[cand.mentee] > 0) & (free[cand.mentor] > 0)
    keep &= ~np.isin(cand.mentee * m + cand.mentor, pinned)
    mentee, mentor = cand.mentee[keep], cand.mentor[keep]
    n = problem.n_mentees
    source, sink = n + m, n + m + 1
    tails = np.concatenate([np.full(n, source), mentee, n + np.arange(m)])
    heads = np.concatenate([np.arange(n), n + mentor, np.full(m, sink)])
    capacity = np.concatenate([need, np.ones(len(mentee)), free]).astype(np.int32)
    graph = sp.csr_array((capacity, (tails, heads)), shape=(n + m + 2, n + m + 2))
    flow = maximum_flow(graph, source, sink, method="dinic").flow_value
    return len(pinned) + int(flow)


def measure(
    problem: Problem,
    pairs: Sequence[Pair],
    truth: npt.NDArray[np.float64] | None = None,
    outcomes: Any = None,
    waiting: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """One row of the headline table for a set of pairs.

    Parameters
    ----------
    problem : Problem
        The reference problem: its scores are the scores reported, its candidates define blocking.
    pairs : sequence of (mentee, mentor)
    truth : numpy.ndarray, optional
        Hidden true compatibility of each pair, in the order of ``pairs``.
    outcomes : pandas.DataFrame, optional
        Simulated outcomes of ``pairs`` (columns ``mentee_satisfaction``, ``mentor_satisfaction``
        1-10 and ``finished``), as :meth:`experiments.cohorts.Cohort.outcomes` gives them.
    waiting : numpy.ndarray, optional
        Days each mentee has waited (NaN when unknown).

    Returns
    -------
    dict
        Keys of :data:`METRICS`; a metric without its input is None.
    """
    chosen = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    _, scores = problem.lookup(chosen[:, 0], chosen[:, 1])
    loads = mentor_loads(problem, pairs)
    volunteers = problem.capacity > 0
    row: dict[str, Any] = {
        "pairs": len(chosen),
        "coverage": len(set(chosen[:, 0].tolist())) / problem.n_mentees
        if problem.n_mentees
        else 0.0,
        "mean_score": float(scores.mean()) if len(scores) else None,
        "min_score": float(scores.min()) if len(scores) else None,
        "truth_mean": None,
        "truth_total": None,
        "mentee_satisfied": None,
        "mentor_satisfied": None,
        "finished": None,
        "mentors_full": int((loads >= MAX_CAPACITY).sum()),
        "load_gini": gini(loads[volunteers]),
        "blocking_pairs": len(blocking_pairs(problem, pairs)),
        "waiting_matched": None,
    }
    if truth is not None and len(truth):
        row["truth_mean"] = float(np.mean(truth))
        row["truth_total"] = float(np.sum(truth))
    if outcomes is not None and len(outcomes):
        row["mentee_satisfied"] = float((outcomes["mentee_satisfaction"] >= SATISFIED).mean())
        row["mentor_satisfied"] = float((outcomes["mentor_satisfaction"] >= SATISFIED).mean())
        row["finished"] = float(np.mean(outcomes["finished"]))
    if waiting is not None:
        late = np.flatnonzero(np.asarray(waiting) > WAITING_DAYS)
        matched = np.isin(late, chosen[:, 0]).sum()
        row["waiting_matched"] = int(matched)
    return row
