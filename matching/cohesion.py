"""Group cohesion: mentees of one group who share needs, a class or a schedule (docs/rules.md#cohesion).

With a cohesion term the objective is quadratic: a mentee's gain depends on who else joins the
mentor. Each mentee ``i`` in the group ``G`` of mentor ``j`` adds, besides its pair's score,

    ``weight * sum(similarity[i, k] for k in G if k != i) / (capacity[j] - 1)``

(0 for a mentor of one place), so a mentee in a full group of perfectly alike mentees adds
``weight``, on the scale of the scores. Maximising this over b-matchings contains the densest
subgraph and clustering problems, which are NP-hard; :func:`solve_cohesive` therefore does not
promise the optimum. It uses **iterated linearisation**: solve without cohesion (exactly); then,
with the groups of the last answer fixed, give every candidate pair ``(i, j)`` the gain mentee
``i`` would add by joining ``j``'s current group (its score plus the cohesion it brings, both
ways) and solve that linear problem exactly again; repeat while the true objective improves;
then improve the best answer by moves (a mentee to a free place) and swaps (two mentees
exchange mentors), each priced exactly. This runs from two starts, the answer without cohesion
and the answer of the bounding problem below, and keeps the better. Every answer is an exact solution of a valid problem, so every rule holds
and the coverage (``objective="coverage"``) is the optimum's.

It also returns an **upper bound** on the optimum: give each pair ``(i, j)`` its score plus the
largest cohesion ``i`` could find at ``j`` (the mean of its ``capacity[j] - 1`` most similar
other candidates of ``j``) and solve that linear problem exactly. No answer can beat it, so
``bound - value`` is a certified gap (``experiments/bench_groups.py`` measures it, and the true
gap against a MILP optimum on small instances).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.errors import ProblemError
from matching.problem import Problem
from matching.solver import Matching, solve

__all__ = ["Cohesive", "cohesion_of", "solve_cohesive"]

FloatArray = npt.NDArray[np.float64]
Pair = tuple[int, int]


@dataclass(frozen=True)
class Cohesive:
    """The answer of :func:`solve_cohesive`.

    Attributes
    ----------
    matching : Matching
        The best answer found (its ``total_score`` is the sum of pair scores, cohesion excluded).
    cohesion : float
        The cohesion term of that answer (``weight`` included).
    value : float
        What was maximised after coverage: scores + priorities - load penalties + cohesion.
    bound : float
        An upper bound on ``value`` over every answer as good in coverage.
    rounds : int
        Exact solves made by the linearisation (the first, without cohesion, included).
    history : list of float
        ``value`` after each round.
    """

    matching: Matching
    cohesion: float
    value: float
    bound: float
    rounds: int
    history: list[float] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """``bound - value``: how far the answer may be from the optimum, at most."""
        return self.bound - self.value


def _check_similarity(similarity: Any, n: int) -> sp.csr_array:
    matrix = sp.csr_array(similarity, dtype=np.float64)
    if matrix.shape != (n, n):
        raise ProblemError("similarity", matrix.shape, f"of shape ({n}, {n}), mentees x mentees")
    data = matrix.data
    if data.size and (not np.isfinite(data).all() or data.min() < 0 or data.max() > 1):
        raise ProblemError("similarity", float(data[~(np.abs(data - 0.5) <= 0.5)][0]), "in [0, 1]")
    matrix = sp.csr_array((matrix + matrix.T) / 2)  # symmetric
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def cohesion_of(problem: Problem, pairs: list[Pair], similarity: Any, weight: float = 1.0) -> float:
    """The cohesion term of an answer: ``weight`` times, for every mentee of every group, its
    summed similarity to the others of the group over the mentor's ``capacity - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem
    >>> p = Problem(np.ones((3, 1)), capacity=[3])
    >>> alike = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> cohesion_of(p, [(0, 0), (1, 0), (2, 0)], alike)  # 0 and 1 alike: 1/2 each
    1.0
    """
    sim = _check_similarity(similarity, problem.n_mentees)
    return float(weight * _cohesion(problem, pairs, sim))


def _cohesion(problem: Problem, pairs: list[Pair], sim: sp.csr_array) -> float:
    if not pairs:
        return 0.0
    array = np.array(pairs, dtype=np.int64)
    spread = np.maximum(problem.capacity - 1, 1).astype(np.float64)
    total = 0.0
    order = np.argsort(array[:, 1], kind="stable")
    mentors, starts = np.unique(array[order, 1], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    for k, j in enumerate(mentors.tolist()):
        group = array[order[bounds[k] : bounds[k + 1]], 0]
        if len(group) > 1 and problem.capacity[j] > 1:
            total += float(sim[group][:, group].sum()) / spread[j]
    return total


def _pairs_value(problem: Problem, pairs: list[Pair]) -> float:
    """Scores + priorities - load penalties of an answer (the linear part of the objective)."""
    if not pairs:
        return 0.0
    array = np.array(pairs, dtype=np.int64)
    _, scores = problem.lookup(array[:, 0], array[:, 1])
    value = float(scores.sum()) + float(problem.priority[array[:, 0]].sum())
    if problem.load_penalty:
        taken = np.bincount(array[:, 1], minlength=problem.n_mentors)
        first = problem.load
        # places first .. first + taken - 1 cost 0, 1, 2 ... times the penalty
        places = taken * first + taken * (taken - 1) // 2
        value -= problem.load_penalty * float(places.sum())
    return value


def _with_scores(problem: Problem, mentee: Any, mentor: Any, gain: FloatArray) -> Problem:
    """The same problem over the candidate (and pinned) pairs with other scores."""
    scores = sp.csr_array((gain, (mentee, mentor)), shape=(problem.n_mentees, problem.n_mentors))
    return Problem(
        scores,
        problem.capacity,
        min_score=-np.inf,
        load=problem.load,
        pinned=problem.pinned,
        objective=problem.objective,
        load_penalty=problem.load_penalty,
        priority=problem.priority,
        demand=problem.demand,
        max_capacity=problem.max_capacity,
    )


def _pairs_of(problem: Problem) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Candidate pairs and pinned ones (which may score below ``min_score``), with scores."""
    cand = problem.candidates
    mentee, mentor, score = cand.mentee, cand.mentor, cand.score
    if problem.pinned:
        pinned = np.array(problem.pinned, dtype=np.int64)
        keys = mentee * problem.n_mentors + mentor
        extra = ~np.isin(pinned[:, 0] * problem.n_mentors + pinned[:, 1], keys)
        if extra.any():
            _, values = problem.lookup(pinned[extra, 0], pinned[extra, 1])
            mentee = np.concatenate([mentee, pinned[extra, 0]])
            mentor = np.concatenate([mentor, pinned[extra, 1]])
            score = np.concatenate([score, values])
    return mentee, mentor, score


def _upper_gain(problem: Problem, mentee: Any, mentor: Any, sim: sp.csr_array) -> FloatArray:
    """For each pair, the largest cohesion its mentee could bring to the mentor's group: the sum
    of its ``capacity - 1`` largest similarities to other candidates of the mentor, over
    ``capacity - 1``."""
    bonus = np.zeros(len(mentee))
    order = np.argsort(mentor, kind="stable")
    mentors, starts = np.unique(mentor[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    for k, j in enumerate(mentors.tolist()):
        places = int(problem.capacity[j]) - 1
        if places < 1:
            continue
        at = order[bounds[k] : bounds[k + 1]]
        group = mentee[at]
        block = sim[group][:, group].toarray()
        if places < block.shape[1]:
            block = -np.partition(-block, places - 1, axis=1)[:, :places]
        bonus[at] = block.sum(axis=1) / places
    return bonus


def _join_gain(
    problem: Problem, mentee: Any, mentor: Any, pairs: list[Pair], sim: sp.csr_array
) -> FloatArray:
    """For each pair, the cohesion its mentee adds by joining the mentor's group of ``pairs``
    (both ways: what it gets and what it gives), with the mentee itself left out."""
    n, m = problem.n_mentees, problem.n_mentors
    if not pairs:
        return np.zeros(len(mentee))
    array = np.array(pairs, dtype=np.int64)
    member = sp.csr_array(
        (np.ones(len(array)), (array[:, 0], array[:, 1])), shape=(n, m)
    )  # mentee x mentor incidence of the groups
    together = sp.csr_array(sim @ member)  # [i, j] = sum of sim(i, k) over k in group j
    values = np.asarray(together[mentee, mentor]).ravel()
    spread = np.maximum(problem.capacity[mentor] - 1, 1).astype(np.float64)
    return np.where(problem.capacity[mentor] > 1, 2 * values / spread, 0.0)


def solve_cohesive(
    problem: Problem,
    similarity: Any,
    weight: float,
    rounds: int = 20,
) -> Cohesive:
    """Pairs that are good and form cohesive groups: iterated linearisation with a bound.

    Parameters
    ----------
    problem : Problem
    similarity : array_like or scipy.sparse matrix, shape (n_mentees, n_mentees)
        How alike two mentees are, in [0, 1] (symmetrised; the diagonal is ignored).
    weight : float
        Weight of the cohesion term on the scale of the scores (0: the plain solve).
    rounds : int
        At most this many exact solves.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, solve
    >>> # Two mentors of two places; mentees 0, 1 alike and 2, 3 alike; scores prefer mixing.
    >>> scores = np.array([[0.6, 0.5], [0.5, 0.7], [0.5, 0.6], [0.7, 0.5]])
    >>> alike = np.kron(np.eye(2), np.ones((2, 2)))
    >>> problem = Problem(scores, capacity=[2, 2])
    >>> solve(problem).pairs
    [(0, 0), (1, 1), (2, 1), (3, 0)]
    >>> found = solve_cohesive(problem, alike, weight=0.5)
    >>> found.matching.pairs, found.cohesion, round(found.value, 6), round(found.bound, 6)
    ([(0, 1), (1, 1), (2, 0), (3, 0)], 2.0, 4.4, 4.6)
    """
    if not np.isfinite(weight) or weight < 0:
        raise ProblemError("weight", weight, "a finite number >= 0")
    sim = _check_similarity(similarity, problem.n_mentees)
    mentee, mentor, score = _pairs_of(problem)

    def value_of(pairs: list[Pair]) -> tuple[float, float]:
        together = weight * _cohesion(problem, pairs, sim)
        return _pairs_value(problem, pairs) + together, together

    best = solve(problem)
    best_value, best_cohesion = value_of(best.pairs)
    history = [best_value]
    if weight == 0 or sim.nnz == 0:
        return Cohesive(
            best, float(best_cohesion), float(best_value), float(best_value), 1, history
        )
    bonus = weight * _upper_gain(problem, mentee, mentor, sim)
    bounding = solve(_with_scores(problem, mentee, mentor, score + bonus))
    bound = _pairs_value(problem, bounding.pairs) + float(
        bonus[_positions(mentee, mentor, bounding.pairs, problem.n_mentors)].sum()
    )
    done = 2
    # From two starts: the answer without cohesion, and the answer of the bounding problem
    # (pairs that could find the most cohesion): the better one after improving both is kept.
    for start in (best, bounding):
        answer, value, together, solves = _improve(
            problem, mentee, mentor, score, sim, weight, start, rounds, value_of, history
        )
        done += solves
        if value > best_value + 1e-12:
            best, best_value, best_cohesion = answer, value, together
    matching = Matching(
        pairs=best.pairs,
        total_score=float(problem.lookup(*_split(best.pairs))[1].sum()) if best.pairs else 0.0,
        unmatched=best.unmatched,
        info={**best.info, "cohesion_rounds": done},
        partial=best.partial,
    )
    return Cohesive(
        matching,
        float(best_cohesion),
        float(best_value),
        float(max(bound, best_value)),
        done,
        [float(v) for v in history],
    )


def _improve(
    problem: Problem,
    mentee: npt.NDArray[np.int64],
    mentor: npt.NDArray[np.int64],
    score: FloatArray,
    sim: sp.csr_array,
    weight: float,
    start: Matching,
    rounds: int,
    value_of: Any,
    history: list[float],
) -> tuple[Matching, float, float, int]:
    """Iterated linearisation from ``start`` (exact solves with each pair's gain of joining the
    groups of the last answer), then moves and swaps: the best answer seen, its value and
    cohesion, and the number of exact solves."""
    best, current = start, start
    best_value, best_cohesion = value_of(start.pairs)
    seen = {tuple(start.pairs)}
    done = 0
    while done < rounds:
        gain = score + weight * _join_gain(problem, mentee, mentor, current.pairs, sim)
        answer = solve(_with_scores(problem, mentee, mentor, gain))
        done += 1
        key = tuple(answer.pairs)
        if key in seen:
            break
        seen.add(key)
        value, together = value_of(answer.pairs)
        history.append(value)
        current = answer
        if value > best_value + 1e-12:
            best, best_value, best_cohesion = answer, value, together
        elif len(history) > 2 and history[-1] <= history[-2]:
            break
    polished = _local_search(problem, mentee, mentor, score, sim, weight, best.pairs)
    if polished is not None:
        value, together = value_of(polished)
        history.append(value)
        if value > best_value + 1e-12:
            got = np.bincount([i for i, _ in polished], minlength=problem.n_mentees)
            best = Matching(
                pairs=polished,
                total_score=0.0,
                unmatched=np.flatnonzero(got == 0).tolist(),
                info=best.info,
                partial=np.flatnonzero((got > 0) & (got < problem.demand)).tolist(),
            )
            best_value, best_cohesion = value, together
    return best, best_value, best_cohesion, done


def _local_search(
    problem: Problem,
    mentee: npt.NDArray[np.int64],
    mentor: npt.NDArray[np.int64],
    score: FloatArray,
    sim: sp.csr_array,
    weight: float,
    pairs: list[Pair],
    max_passes: int = 200,
) -> list[Pair] | None:
    """Improve an answer by moves (a mentee to another mentor's free place) and swaps (two
    mentees exchange mentors), each priced exactly; many at once when they touch distinct
    mentors (their gains are then independent). Mentees who need several mentors or have a
    pinned pair stay where they are; the number of pairs never changes. None when nothing
    improves."""
    n, m = problem.n_mentees, problem.n_mentors
    if not pairs:
        return None
    keys = mentee * m + mentor
    order = np.argsort(keys)
    sorted_keys = keys[order]

    def find(i: Any, j: Any) -> npt.NDArray[np.int64]:
        wanted = np.asarray(i, dtype=np.int64) * m + np.asarray(j, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
        return np.where(sorted_keys[at] == wanted, order[at], -1)

    pinned = {i for i, _ in problem.pinned}
    movable = (problem.demand == 1) & ~np.isin(np.arange(n), list(pinned))
    array = np.array(pairs, dtype=np.int64)
    fixed = array[~movable[array[:, 0]]]
    at = np.full(n, -1, dtype=np.int64)  # the candidate pair of each movable matched mentee
    moving = array[movable[array[:, 0]]]
    at[moving[:, 0]] = find(moving[:, 0], moving[:, 1])
    if (at[moving[:, 0]] < 0).any():
        return None  # not from the candidates (cannot happen with solve's answers)
    spread = np.maximum(problem.capacity - 1, 1).astype(np.float64)
    grouped = (problem.capacity > 1).astype(np.float64)
    unit = 2 * weight * grouped / spread  # cohesion per unit of summed similarity, by mentor
    penalty = problem.load_penalty
    improved = False
    for _ in range(max_passes):
        chosen = np.flatnonzero(at >= 0)
        current = at[chosen]
        members = np.concatenate([fixed, np.stack([chosen, mentor[current]], axis=1)])
        count = np.bincount(members[:, 1], minlength=m)
        incidence = sp.csr_array(
            (np.ones(len(members)), (members[:, 0], members[:, 1])), shape=(n, m)
        )
        together = np.asarray(sp.csr_array(sim @ incidence)[mentee, mentor]).ravel()
        # Each candidate pair's value where it stands: score + cohesion (as if in the group).
        worth = score + unit[mentor] * together
        here = np.full(n, np.nan)
        here[chosen] = worth[current] - penalty * (problem.load + count - 1)[mentor[current]]
        source = np.full(n, -1, dtype=np.int64)
        source[chosen] = mentor[current]
        options: list[tuple[float, int, int, int, int]] = []  # gain, kind, a, b, mentors...
        # Moves: a movable matched mentee to a mentor with a free place.
        free = problem.capacity - problem.load - count
        can = movable[mentee] & (source[mentee] >= 0) & (source[mentee] != mentor)
        can &= free[mentor] > 0
        if can.any():
            e = np.flatnonzero(can)
            i = mentee[e]
            gain = worth[e] - penalty * (problem.load + count)[mentor[e]] - here[i]
            good = gain > 1e-12
            options += [
                (float(g), 0, int(x), int(y), -1)
                for g, x, y in zip(gain[good], e[good], i[good], strict=True)
            ]
        # Swaps: mentee i (at j) takes k's place at l and k takes i's at j.
        can = movable[mentee] & (source[mentee] >= 0) & (source[mentee] != mentor)
        e = np.flatnonzero(can)
        if len(e):
            by_mentor = np.argsort(mentor[current], kind="stable")
            starts = np.searchsorted(mentor[current][by_mentor], np.arange(m + 1))
            sizes = (starts[1:] - starts[:-1])[mentor[e]]
            e2 = np.repeat(e, sizes)
            offset = np.arange(len(e2)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            k = chosen[by_mentor[starts[mentor[e2]] + offset]]
            i = mentee[e2]
            j = source[i]
            f = find(k, j)
            ok = f >= 0
            e2, k, i, j, f = e2[ok], k[ok], i[ok], j[ok], f[ok]
            if len(e2):
                l_ = mentor[e2]
                s_ik = np.asarray(sim[i, k]).ravel()
                gain = (
                    score[e2]
                    + score[f]
                    + unit[l_] * (together[e2] - s_ik)
                    + unit[j] * (together[f] - s_ik)
                    - score[at[i]]
                    - score[at[k]]
                    - unit[j] * together[at[i]]
                    - unit[l_] * together[at[k]]
                )
                good = gain > 1e-12
                options += [
                    (float(g), 1, int(a), int(b), int(c))
                    for g, a, b, c in zip(gain[good], e2[good], f[good], k[good], strict=True)
                ]
        if not options:
            break
        options.sort(key=lambda option: -option[0])
        touched: set[int] = set()
        for _, kind, a, b, c in options:
            who = int(mentee[a])
            left, joined = int(source[who]), int(mentor[a])
            if left in touched or joined in touched:
                continue
            at[who] = a
            if kind == 1:
                at[c] = b
            touched.update((left, joined))
            improved = True
    if not improved:
        return None
    chosen = np.flatnonzero(at >= 0)
    result = [(int(i), int(j)) for i, j in fixed] + [(int(i), int(mentor[at[i]])) for i in chosen]
    return sorted(result)


def _split(pairs: list[Pair]) -> tuple[list[int], list[int]]:
    return [i for i, _ in pairs], [j for _, j in pairs]


def _positions(
    mentee: npt.NDArray[np.int64], mentor: npt.NDArray[np.int64], pairs: list[Pair], m: int
) -> npt.NDArray[np.int64]:
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    keys = mentee * m + mentor
    order = np.argsort(keys)
    array = np.array(pairs, dtype=np.int64)
    wanted = array[:, 0] * m + array[:, 1]
    return order[np.searchsorted(keys[order], wanted)]
