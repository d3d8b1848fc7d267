"""The matching problem: scores, capacities and the curator's decisions, validated once."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.errors import ProblemError

__all__ = ["MAX_CAPACITY", "OBJECTIVES", "Candidates", "Objective", "Pairs", "Problem"]

MAX_CAPACITY = 3
"""The maximum number of mentees of one mentor at the same time (docs/rules.md#capacity)."""

Objective = Literal["coverage", "score"]
OBJECTIVES: tuple[Objective, ...] = ("coverage", "score")

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Allowed pairs as parallel arrays sorted by (mentee, mentor)."""

    mentee: IntArray
    mentor: IntArray
    score: FloatArray

    def __len__(self) -> int:
        return len(self.mentee)


@dataclass(frozen=True, slots=True)
class Pairs:
    """Proposable pairs as compact arrays sorted by (mentee, mentor): 32-bit indices, and the
    scores shared with the input matrix where no pair is filtered out; ``start[i]:start[i + 1]``
    are the pairs of mentee ``i``."""

    start: IntArray
    mentee: Int32Array
    mentor: Int32Array
    score: FloatArray

    def __len__(self) -> int:
        return len(self.mentee)


class Problem:
    """A mentor-mentee assignment problem under the rules of the target model of mentoring.

    Parameters
    ----------
    scores : array_like or scipy.sparse matrix, shape (n_mentees, n_mentors)
        Pair scores, higher is better. With sparse input an absent entry means "not allowed"
        (a stored zero is an allowed pair of score 0).
    capacity : array_like of int, shape (n_mentors,)
        The total number of mentees each mentor may have, 0 to ``max_capacity`` (3 unless the
        caller allows more).
    allowed : array_like of bool or scipy.sparse matrix, optional
        False (or absent, when sparse) marks a pair that is never proposed.
    min_score : float, default 0.0
        A pair scoring below this is never proposed (pinned pairs excepted).
    load : array_like of int, shape (n_mentors,), optional
        Mentees each mentor already has outside this problem; free places are ``capacity - load``.
    pinned : iterable of (mentee, mentor)
        Pairs that must be in the answer (confirmed by the curator), whatever their score.
    forbidden : iterable of (mentee, mentor)
        Pairs never proposed (rejected by the curator).
    objective : {"coverage", "score"}, default "coverage"
        ``"coverage"``: most mentees matched, then the highest total score among those answers.
        ``"score"``: the highest total score (then the most mentees among equal totals).
    load_penalty : float, default 0.0
        Spreads load over mentors: a pair that takes a mentor's second place counts
        ``load_penalty`` less than its score, a third place ``2 * load_penalty`` less (places
        already taken by ``load`` and ``pinned`` count). With a penalty above the spread of the
        scores, every mentor gets one mentee before anyone gets a second. 0 (off) by default.
    priority : array_like of float, shape (n_mentees,), optional
        Counted in the objective for each matched mentee, on the scale of the scores (not in
        ``total_score``). A mentee is to get a mentor within 30 days (docs/rules.md#thirty-days), so
        give the longest waiting a priority: with a priority above the spread of the scores,
        among answers that match as many mentees, a waiting mentee is matched before any gain
        in score. None (all 0) by default. With ``demand``, counted once per mentor the mentee
        gets.
    demand : array_like of int, shape (n_mentees,), optional
        How many distinct mentors each mentee needs, at least 1 (a subject mentor and a tutor:
        docs/rules.md#co-mentors). None (all 1) by default: then a mentee appears in at most one
        pair. Pinned pairs count towards it. ``"coverage"`` then maximises the number of pairs,
        i.e. the units of demand covered (a mentee needing two mentors who gets one counts 1),
        which keeps the problem one min-cost flow; "the most mentees fully covered" would not be.
    max_capacity : int or array_like of int, shape (n_mentors,), default 3
        The largest ``capacity`` (and ``load``) allowed, for all mentors or per mentor: 3 for
        teacher forms (docs/rules.md#capacity); a form whose groups may be larger (a pupil form
        where the school's Положение allows groups, docs/rules.md#group-size) passes its maximum
        group size for its mentors.

    Raises
    ------
    ProblemError
        When an argument breaks a rule; the message names the argument and the offending value.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, solve
    >>> p = Problem(np.array([[0.9, 0.1], [0.8, 0.2]]), capacity=[1, 1])
    >>> solve(p).pairs
    [(0, 0), (1, 1)]
    """

    def __init__(
        self,
        scores: Any,
        capacity: Any,
        allowed: Any = None,
        min_score: float = 0.0,
        load: Any = None,
        pinned: Iterable[Pair] = (),
        forbidden: Iterable[Pair] = (),
        objective: Objective = "coverage",
        load_penalty: float = 0.0,
        priority: Any = None,
        demand: Any = None,
        max_capacity: Any = MAX_CAPACITY,
    ) -> None:
        self.scores = _check_scores(scores)
        self.n_mentees, self.n_mentors = self.scores.shape
        self.allowed = _check_allowed(allowed, self.scores.shape)
        self.max_capacity = _check_maximum(max_capacity, self.n_mentors)
        self.capacity = _check_counts(capacity, "capacity", self.n_mentors, self.max_capacity)
        self.load = _check_counts(load, "load", self.n_mentors, self.max_capacity)
        over = np.flatnonzero(self.load > self.capacity)
        if over.size:
            j = int(over[0])
            raise ProblemError(
                "load",
                int(self.load[j]),
                f"at most the mentor's capacity ({int(self.capacity[j])})",
                where=f"mentor {j}",
            )
        self.min_score = _check_number(min_score, "min_score", allow_neg_inf=True)
        self.load_penalty = _check_number(load_penalty, "load_penalty")
        if self.load_penalty < 0:
            raise ProblemError("load_penalty", load_penalty, "a number >= 0")
        self.priority = _check_priority(priority, self.n_mentees)
        self.demand = _check_demand(demand, self.n_mentees)
        if objective not in OBJECTIVES:
            raise ProblemError("objective", objective, "one of 'coverage', 'score'")
        self.objective: Objective = objective
        self.forbidden = frozenset(_check_pairs(forbidden, "forbidden", self.scores.shape))
        self.pinned = tuple(sorted(_check_pairs(pinned, "pinned", self.scores.shape)))
        self._check_pinned()

    # -- lookups -------------------------------------------------------------------------------

    @cached_property
    def _allowed_entries(self) -> tuple[IntArray, FloatArray]:
        """Sorted keys ``mentee * n_mentors + mentor`` of allowed pairs, and their scores."""
        keys, values = _allowed_entries(self.scores, self.allowed)
        return keys, values

    def lookup(self, mentees: Any, mentors: Any) -> tuple[npt.NDArray[np.bool_], FloatArray]:
        """Whether each pair is allowed, and its score (NaN when not allowed)."""
        mentees = np.asarray(mentees, dtype=np.int64)
        mentors = np.asarray(mentors, dtype=np.int64)
        if sp.issparse(self.scores):
            position = _find(self.scores, mentees, mentors)
            found = position >= 0
            values = np.full(mentees.shape, np.nan)
            values[found] = self.scores.data[position[found]]
        else:
            found = np.ones(mentees.shape, dtype=bool)
            values = self.scores[mentees, mentors]
        if self.allowed is not None and mentees.size:
            if sp.issparse(self.allowed):
                found &= _find(self.allowed, mentees, mentors) >= 0
            else:
                found &= self.allowed[mentees, mentors]
        return found, np.where(found, values, np.nan)

    @cached_property
    def proposable(self) -> Pairs:
        """The pairs that may be proposed (as :attr:`candidates`), compactly, rows by mentee."""
        return _proposable(self)

    @cached_property
    def candidates(self) -> Candidates:
        """Pairs that may be proposed: allowed, not forbidden, score at least ``min_score``."""
        pairs = self.proposable
        return Candidates(pairs.mentee.astype(np.int64), pairs.mentor.astype(np.int64), pairs.score)

    @cached_property
    def free(self) -> IntArray:
        """Free places of each mentor once ``load`` and ``pinned`` pairs are counted."""
        used = self.load.copy()
        for _, mentor in self.pinned:
            used[mentor] += 1
        return self.capacity - used

    @cached_property
    def need(self) -> IntArray:
        """Mentors each mentee still needs once ``pinned`` pairs are counted (``demand`` minus pins)."""
        need = self.demand.copy()
        for mentee, _ in self.pinned:
            need[mentee] -= 1
        return need

    @property
    def single(self) -> bool:
        """Whether every mentee needs one mentor (no ``demand`` above 1)."""
        return bool(self.demand.max(initial=1) <= 1)

    def restrict(self, mentees: Any, mentors: Any) -> Problem:
        """The same problem over some mentees and mentors only, in their own indices.

        Row ``k`` of the result is mentee ``mentees[k]``, column ``k`` mentor ``mentors[k]``;
        pinned and forbidden pairs with both people inside are kept; a place pinned to a mentee
        left out counts as the mentor's load (a pair pinned to a mentor left out is dropped, as if
        the mentee had not had it).

        Examples
        --------
        >>> import numpy as np
        >>> from matching import Problem
        >>> p = Problem(np.array([[0.9, 0.1], [0.8, 0.2]]), capacity=[1, 2], pinned=[(1, 1)])
        >>> q = p.restrict([1], [1])
        >>> q.n_mentees, q.n_mentors, q.pinned, q.capacity.tolist()
        (1, 1, ((0, 0),), [2])
        """
        rows = np.asarray(mentees, dtype=np.int64).reshape(-1)
        columns = np.asarray(mentors, dtype=np.int64).reshape(-1)
        row_of = np.full(self.n_mentees, -1, dtype=np.int64)
        row_of[rows] = np.arange(len(rows))
        column_of = np.full(self.n_mentors, -1, dtype=np.int64)
        column_of[columns] = np.arange(len(columns))

        def inside(pairs: Iterable[Pair]) -> list[Pair]:
            kept = [(int(row_of[i]), int(column_of[j])) for i, j in pairs]
            return [(i, j) for i, j in kept if i >= 0 and j >= 0]

        load = self.load[columns].copy()
        for i, j in self.pinned:  # a place pinned to a mentee left out stays taken
            if row_of[i] < 0 and column_of[j] >= 0:
                load[column_of[j]] += 1

        if sp.issparse(self.scores):
            scores = self.scores[rows][:, columns]
        else:
            scores = self.scores[np.ix_(rows, columns)]
        allowed = self.allowed
        if allowed is not None:
            allowed = (
                allowed[rows][:, columns]
                if sp.issparse(allowed)
                else allowed[np.ix_(rows, columns)]
            )
        return Problem(
            scores,
            self.capacity[columns],
            allowed=allowed,
            min_score=self.min_score,
            load=load,
            pinned=inside(self.pinned),
            forbidden=inside(sorted(self.forbidden)),
            objective=self.objective,
            load_penalty=self.load_penalty,
            priority=self.priority[rows],
            demand=self.demand[rows],
            max_capacity=self.max_capacity[columns],
        )

    # -- validation of the curator's decisions -------------------------------------------------

    def _check_pinned(self) -> None:
        seen: Counter[int] = Counter()
        previous = None
        for pair in self.pinned:  # sorted
            mentee = pair[0]
            if pair in self.forbidden:
                raise ProblemError("pinned", pair, "not forbidden (it is in 'forbidden')")
            if pair == previous:
                raise ProblemError("pinned", pair, "distinct pairs (repeated pair)")
            previous = pair
            seen[mentee] += 1
            if seen[mentee] > self.demand[mentee]:
                wanted = int(self.demand[mentee])
                expected = (
                    "pairs with different mentees (repeated mentee)"
                    if wanted == 1
                    else f"at most {wanted} pairs of mentee {mentee} (its demand)"
                )
                raise ProblemError("pinned", pair, expected)
        if self.pinned:
            mentees, mentors = np.array(self.pinned, dtype=np.int64).T
            allowed, _ = self.lookup(mentees, mentors)
            if not allowed.all():
                bad = self.pinned[int(np.flatnonzero(~allowed)[0])]
                raise ProblemError("pinned", bad, "allowed pairs (this pair is not allowed)")
        over = np.flatnonzero(self.free < 0)
        if over.size:
            j = int(over[0])
            taken = [p for p in self.pinned if p[1] == j]
            raise ProblemError(
                "pinned",
                taken,
                f"within the free places of mentor {j} "
                f"(capacity {int(self.capacity[j])}, load {int(self.load[j])})",
            )

    def __repr__(self) -> str:
        kind = "sparse" if sp.issparse(self.scores) else "dense"
        return (
            f"Problem({self.n_mentees} mentees x {self.n_mentors} mentors, {kind}, "
            f"objective={self.objective!r}, pinned={len(self.pinned)}, "
            f"forbidden={len(self.forbidden)})"
        )


# -- argument checks ---------------------------------------------------------------------------


def _check_scores(scores: Any) -> Any:
    if sp.issparse(scores):
        if scores.ndim != 2:
            raise ProblemError("scores", scores.shape, "a 2-D matrix (n_mentees, n_mentors)")
        matrix = sp.csr_array(scores, dtype=np.float64)
        matrix.sum_duplicates()
        data = matrix.data
    else:
        try:
            matrix = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ProblemError("scores", type(scores).__name__, "a matrix of numbers") from exc
        if matrix.ndim != 2:
            raise ProblemError("scores", matrix.shape, "a 2-D matrix (n_mentees, n_mentors)")
        data = matrix
    finite = np.isfinite(data)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.ravel())[0])
        if sp.issparse(matrix):
            row = int(np.searchsorted(matrix.indptr, bad, side="right") - 1)
            where = f"mentee {row}, mentor {int(matrix.indices[bad])}"
            value = float(data[bad])
        else:
            row, col = divmod(bad, matrix.shape[1])
            where = f"mentee {row}, mentor {col}"
            value = float(matrix[row, col])
        raise ProblemError("scores", value, "finite numbers (no NaN or infinity)", where=where)
    return matrix


def _check_allowed(allowed: Any, shape: tuple[int, int]) -> Any:
    if allowed is None:
        return None
    if sp.issparse(allowed):
        mask = sp.csr_array(allowed, dtype=bool)
        mask.eliminate_zeros()
    else:
        mask = np.asarray(allowed)
        if mask.dtype != np.bool_:
            if not np.isin(mask, (0, 1)).all():
                raise ProblemError("allowed", mask.dtype.name, "a boolean mask")
            mask = mask.astype(bool)
    if mask.shape != shape:
        raise ProblemError("allowed", mask.shape, f"of the same shape as scores {shape}")
    return mask


def _check_maximum(values: Any, n_mentors: int) -> IntArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProblemError("max_capacity", values, "an integer or one per mentor") from exc
    if array.ndim == 0:
        array = np.full(n_mentors, float(array))
    elif array.shape != (n_mentors,):
        raise ProblemError("max_capacity", array.shape, f"an integer or of shape ({n_mentors},)")
    bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ProblemError("max_capacity", _plain(array[j]), "integers >= 0", where=f"mentor {j}")
    return array.astype(np.int64)


def _check_demand(values: Any, n_mentees: int) -> IntArray:
    if values is None:
        return np.ones(n_mentees, dtype=np.int64)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProblemError("demand", values, "integers") from exc
    if array.shape != (n_mentees,):
        raise ProblemError("demand", array.shape, f"of shape ({n_mentees},), one per mentee")
    bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = values[i] if hasattr(values, "__getitem__") else array[i]
        raise ProblemError("demand", _plain(value), "integers >= 1", where=f"mentee {i}")
    return array.astype(np.int64)


def _check_counts(values: Any, name: str, n_mentors: int, maximum: IntArray) -> IntArray:
    if values is None:
        return np.zeros(n_mentors, dtype=np.int64)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProblemError(name, values, "integers") from exc
    if array.shape != (n_mentors,):
        raise ProblemError(name, array.shape, f"of shape ({n_mentors},), one per mentor")
    bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 0) | (array > maximum)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        value = values[j] if hasattr(values, "__getitem__") else array[j]
        top = int(maximum[j])
        bound = (
            f"integers from 0 to {top}"
            if len(np.unique(maximum)) == 1
            else f"integers from 0 to the mentor's max_capacity ({top})"
        )
        raise ProblemError(name, _plain(value), bound, where=f"mentor {j}")
    return array.astype(np.int64)


def _check_priority(values: Any, n_mentees: int) -> FloatArray:
    if values is None:
        return np.zeros(n_mentees)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProblemError("priority", values, "numbers") from exc
    if array.shape != (n_mentees,):
        raise ProblemError("priority", array.shape, f"of shape ({n_mentees},), one per mentee")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProblemError("priority", float(array[i]), "finite numbers >= 0", where=f"mentee {i}")
    return array


def _check_number(value: Any, name: str, allow_neg_inf: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ProblemError(name, value, "a number") from exc
    if math.isnan(number) or (math.isinf(number) and not (allow_neg_inf and number < 0)):
        raise ProblemError(name, value, "a finite number")
    return number


def _check_pairs(pairs: Iterable[Any], name: str, shape: tuple[int, int]) -> list[Pair]:
    checked: list[Pair] = []
    for pair in pairs:
        try:
            mentee, mentor = pair
            if int(mentee) != mentee or int(mentor) != mentor:
                raise ValueError
        except (TypeError, ValueError) as exc:
            raise ProblemError(name, pair, "(mentee, mentor) pairs of integers") from exc
        mentee, mentor = int(mentee), int(mentor)
        if not (0 <= mentee < shape[0] and 0 <= mentor < shape[1]):
            raise ProblemError(
                name, (mentee, mentor), f"pairs within 0..{shape[0] - 1} x 0..{shape[1] - 1}"
            )
        checked.append((mentee, mentor))
    return checked


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _allowed_entries(scores: Any, allowed: Any) -> tuple[IntArray, FloatArray]:
    # scores: a float csr_array or ndarray; allowed: None, a bool csr_array or ndarray.
    n_mentors = scores.shape[1]
    if sp.issparse(scores):
        scores.sort_indices()
        rows = np.repeat(np.arange(scores.shape[0], dtype=np.int64), np.diff(scores.indptr))
        keys = rows * n_mentors + scores.indices.astype(np.int64)
        values = scores.data.astype(np.float64, copy=False)
        if allowed is None:
            return keys, values
        if sp.issparse(allowed):
            allowed.sort_indices()
            arows = np.repeat(np.arange(allowed.shape[0], dtype=np.int64), np.diff(allowed.indptr))
            akeys = arows * n_mentors + allowed.indices.astype(np.int64)
            keep = np.isin(keys, akeys, assume_unique=True)
        else:
            keep = allowed[rows, scores.indices]
        return keys[keep], values[keep]
    if allowed is None:
        keys = np.arange(scores.size, dtype=np.int64)
        return keys, scores.ravel()
    if sp.issparse(allowed):
        allowed.sort_indices()
        rows = np.repeat(np.arange(allowed.shape[0], dtype=np.int64), np.diff(allowed.indptr))
        cols = allowed.indices.astype(np.int64)
    else:
        rows, cols = np.nonzero(allowed)
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    return rows * n_mentors + cols, scores[rows, cols]


def _csr_find(indptr: Any, indices: Any, rows: IntArray, cols: IntArray) -> IntArray:
    """Position of each (row, col) among the entries of a CSR structure with sorted indices,
    or -1: a vectorised binary search inside each row, without an index of all entries."""
    if not len(indices) or not len(rows):
        return np.full(rows.shape, -1, dtype=np.int64)
    lo = indptr[rows].astype(np.int64)
    end = indptr[rows + 1].astype(np.int64)
    hi = end.copy()
    last = len(indices) - 1
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        below = active & (indices[np.minimum(mid, last)] < cols)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    found = (lo < end) & (indices[np.minimum(lo, last)] == cols)
    return np.where(found, lo, -1)


def _find(matrix: Any, rows: IntArray, cols: IntArray) -> IntArray:
    matrix.sort_indices()
    return _csr_find(matrix.indptr, matrix.indices, rows, cols)


def _proposable(problem: Problem) -> Pairs:
    """Allowed, not forbidden, at least ``min_score``: without copies where nothing is filtered."""
    n, m = problem.n_mentees, problem.n_mentors
    scores, allowed = problem.scores, problem.allowed
    start: IntArray | None = None  # row starts of the unfiltered pairs, where known
    if sp.issparse(scores):
        scores.sort_indices()
        start = scores.indptr.astype(np.int64, copy=False)
        mentee = np.repeat(np.arange(n, dtype=np.int32), np.diff(start))
        mentor = scores.indices.astype(np.int32, copy=False)
        score = scores.data
        keep = None
        if allowed is not None:
            if sp.issparse(allowed):
                keep = _find(allowed, mentee.astype(np.int64), mentor.astype(np.int64)) >= 0
            else:
                keep = allowed[mentee, mentor]
    else:
        if allowed is None:
            mentee = np.repeat(np.arange(n, dtype=np.int32), m)
            mentor = np.tile(np.arange(m, dtype=np.int32), n)
        elif sp.issparse(allowed):
            allowed.sort_indices()
            mentee = np.repeat(np.arange(n, dtype=np.int32), np.diff(allowed.indptr))
            mentor = allowed.indices.astype(np.int32)
        else:
            rows, cols = np.nonzero(allowed)
            mentee, mentor = rows.astype(np.int32), cols.astype(np.int32)
        score = scores[mentee, mentor]
        keep = None
    below = score < problem.min_score
    if below.any():
        keep = ~below if keep is None else keep & ~below
    del below
    if problem.forbidden:
        rejected = np.array(sorted(problem.forbidden), dtype=np.int64).reshape(-1, 2)
        rows = _starts(mentee, n) if start is None else start
        position = _csr_find(rows, mentor, rejected[:, 0], rejected[:, 1])
        position = np.unique(position[position >= 0])
        if keep is None:  # only the rejected pairs go: copies of the rest, no mask
            mentee, mentor, score = _without(position, mentee, mentor, score)
            if start is None:
                return Pairs(_starts(mentee, n), mentee, mentor, score)
            return Pairs(start - np.searchsorted(position, start), mentee, mentor, score)
        keep[position] = False
    if keep is None:
        return Pairs(_starts(mentee, n) if start is None else start, mentee, mentor, score)
    mentee, mentor, score = mentee[keep], mentor[keep], score[keep]
    if start is None:
        return Pairs(_starts(mentee, n), mentee, mentor, score)
    return Pairs(_kept_starts(start, keep), mentee, mentor, score)


WITHOUT_MAX_RUNS = 4096
"""``_without`` copies the runs between dropped positions when there are at most this many."""


def _without(dropped: IntArray, *arrays: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """``arrays`` without the items at ``dropped`` (sorted, distinct positions). A few dropped
    positions (a rejected pair, the rows of a confirmed mentee) leave a few runs, copied whole:
    several times cheaper than a boolean mask over every item."""
    if not len(dropped):
        return list(arrays)
    breaks = np.flatnonzero(np.diff(dropped) != 1)
    first = np.concatenate([dropped[:1], dropped[breaks + 1]])  # of each run of dropped items
    end = np.concatenate([dropped[breaks], dropped[-1:]]) + 1
    if len(first) > WITHOUT_MAX_RUNS:
        keep = np.ones(len(arrays[0]), dtype=bool)
        keep[dropped] = False
        return [array[keep] for array in arrays]
    lows = [0, *end.tolist()]
    highs = [*first.tolist(), len(arrays[0])]
    return [
        np.concatenate([array[lo:hi] for lo, hi in zip(lows, highs, strict=True)])
        for array in arrays
    ]


def _kept_starts(start: IntArray, keep: npt.NDArray[np.bool_]) -> IntArray:
    """Row starts of the pairs ``keep`` leaves, from the row starts of all pairs: each start
    moves back by the pairs dropped before it (no pass over the kept pairs' indices)."""
    dropped = np.flatnonzero(~keep)
    return start - np.searchsorted(dropped, start)


def _starts(mentee: Int32Array, n: int) -> IntArray:
    """Where the pairs of each mentee start in arrays sorted by mentee (n + 1 offsets)."""
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(mentee, minlength=n), out=start[1:])
    return start
