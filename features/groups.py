"""Groups: a mentor with the mentees proposed to them in one form (docs/rules.md#group-size), how
alike the mentees of a group are (docs/rules.md#cohesion), and the solve that takes it into account.

>>> import numpy as np
>>> from features.groups import jaccard
>>> jaccard(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)).tolist()
[[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from features.answers import Answers
from features.scoring import PairScores

__all__ = ["cohesion_weight", "group_sizes", "jaccard", "mentee_similarity", "solve_groups"]

Pair = tuple[int, int]


def jaccard(hot: np.ndarray) -> np.ndarray:
    """Jaccard similarity of the rows of a 0/1 matrix (two empty rows: 0)."""
    matrix = hot.astype(np.float64)
    common = matrix @ matrix.T
    sizes = matrix.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - common
    return np.divide(common, union, out=np.zeros_like(common), where=union > 0)


def _question_similarity(answers: Answers, key: str, people: np.ndarray) -> tuple[Any, Any]:
    """(similarity, both answered) of ``people`` x ``people`` for one question."""
    question = answers.spec.mentees.question(key)
    values = [answers.answers(key)[i] for i in people]
    known = np.array([v is not None and v != [] for v in values])
    both = known[:, None] & known[None, :]
    if question.type in ("multi", "slots"):
        keys = sorted({x for v in values if v for x in v})
        index = {x: k for k, x in enumerate(keys)}
        hot = np.zeros((len(people), len(keys)), dtype=bool)
        for row, v in enumerate(values):
            for x in v or ():
                hot[row, index[x]] = True
        return jaccard(hot), both
    if question.type in ("number", "likert") and question.min is not None and question.max:
        span = max(question.max - question.min, 1e-9)
        numbers = np.array([np.nan if v is None else float(v) for v in values])
        close = 1 - np.abs(numbers[:, None] - numbers[None, :]) / span
        return np.nan_to_num(np.clip(close, 0, 1)), both
    codes = np.array([hash(repr(v)) for v in values])
    return (codes[:, None] == codes[None, :]).astype(np.float64), both


def mentee_similarity(scores: PairScores) -> sp.csr_array:
    """How alike two mentees of one organisation are in the spec's ``cohesion.questions``, in
    [0, 1]: the mean over the questions both answered (docs/rules.md#cohesion). Mentees of
    different organisations are not compared (a group meets in one school), so the matrix stays
    sparse at city scale. Empty without a ``cohesion`` section.
    """
    spec = scores.spec
    mentees = scores.mentees
    n = len(mentees)
    if spec.cohesion is None or n == 0:
        return sp.csr_array((n, n))
    org = np.asarray(scores._organisations[0])
    rows, cols, data = [], [], []
    order = np.argsort(org, kind="stable")
    cuts = np.flatnonzero(np.diff(org[order])) + 1
    for people in np.split(order, cuts):
        if len(people) < 2:
            continue
        total = np.zeros((len(people), len(people)))
        count = np.zeros_like(total)
        for key in spec.cohesion.questions:
            similar, both = _question_similarity(mentees, key, people)
            total += np.where(both, similar, 0.0)
            count += both
        mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
        np.fill_diagonal(mean, 0.0)
        r, c = np.nonzero(mean)
        rows.append(people[r])
        cols.append(people[c])
        data.append(mean[r, c])
    if not rows:
        return sp.csr_array((n, n))
    return sp.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def cohesion_weight(scores: PairScores, weight: float | None = None) -> float:
    """The weight of the cohesion term: ``weight`` if given, else the spec's, else 0."""
    if weight is not None:
        return float(weight)
    cohesion = scores.spec.cohesion
    return 0.0 if cohesion is None else float(cohesion.weight)


def solve_groups(
    scores: PairScores, weight: float | None = None, **options: Any
) -> tuple[Any, dict[str, Any]]:
    """Solve the batch with demand and group sizes, and with the cohesion term when its weight
    is above 0 and some mentor can have a group: ``(Matching, info)``; ``info`` has
    ``cohesion``, ``value``, ``bound`` and ``gap`` (see :func:`matching.solve_cohesive`) or is
    empty for the plain exact solve."""
    from matching import solve, solve_cohesive

    problem = scores.problem(**options)
    used = cohesion_weight(scores, weight)
    if used <= 0 or not (problem.capacity > 1).any():
        return solve(problem), {}
    found = solve_cohesive(problem, mentee_similarity(scores), used)
    return found.matching, {
        "weight": used,
        "cohesion": found.cohesion,
        "value": found.value,
        "bound": found.bound,
        "gap": found.gap,
        "rounds": found.rounds,
    }


def group_sizes(scores: PairScores, pairs: Sequence[Pair]) -> dict[str, list[int]]:
    """Sizes of the proposed groups (a mentor's mentees in one form), by form label."""
    forms = {f.key: f.label for f in scores.spec.forms}
    found: dict[tuple[int, str], int] = {}
    for mentee, mentor in pairs:
        key = (mentor, scores.form(mentee, mentor))
        found[key] = found.get(key, 0) + 1
    sizes: dict[str, list[int]] = {label: [] for label in forms.values()}
    for (_, form), size in sorted(found.items()):
        sizes[forms[form]].append(size)
    return sizes
