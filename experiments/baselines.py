"""Baselines the solver is compared with: what a curator could do without it.

Every baseline answers a :class:`matching.Problem` under the same rules as the solver -- only
candidate pairs (allowed, not forbidden, at least ``min_score``), pinned pairs kept, free places of
each mentor respected -- so that ``matching.violations`` is empty on every answer.

- :func:`random_pairs`: mentees in random order each take a random mentor with a free place
  (pairs "by hand", without looking at the scores).
- :func:`greedy_pairs`: the best remaining pair first (a curator going down a sorted list).
- :func:`deferred_acceptance`: the mentee-proposing deferred acceptance algorithm with capacities
  (Gale and Shapley; the hospital-resident problem of Roth), the stable answer best for mentees.

Examples
--------
>>> import numpy as np
>>> from matching import Problem
>>> problem = Problem(np.array([[0.9, 0.8], [0.7, 0.1]]), capacity=[1, 1])
>>> greedy_pairs(problem), deferred_acceptance(problem)
([(0, 0), (1, 1)], [(0, 0), (1, 1)])
>>> len(random_pairs(problem, seed=1))
2
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import numpy.typing as npt

from matching import Problem

__all__ = ["deferred_acceptance", "greedy_pairs", "random_pairs"]

Pair = tuple[int, int]


def _open(problem: Problem) -> tuple[list[Pair], list[bool], list[int], Any]:
    """Pinned pairs, which mentees are still free, free places, and the open candidates."""
    pinned = list(problem.pinned)
    free_mentee = [True] * problem.n_mentees
    for mentee, _ in pinned:
        free_mentee[mentee] = False
    places = problem.free.tolist()
    return pinned, free_mentee, places, problem.candidates


def random_pairs(problem: Problem, seed: int = 0) -> list[Pair]:
    """Mentees in a random order each take a random candidate mentor that still has a place.

    Parameters
    ----------
    problem : Problem
    seed : int
        Seed of the random order and choices.

    Returns
    -------
    list of (mentee, mentor)
        Sorted pairs, pinned ones included.
    """
    pairs, free_mentee, places, cand = _open(problem)
    rng = np.random.default_rng(seed)
    bounds = np.searchsorted(cand.mentee, np.arange(problem.n_mentees + 1))
    mentors = cand.mentor.tolist()
    for mentee in rng.permutation(problem.n_mentees).tolist():
        if not free_mentee[mentee]:
            continue
        options = [j for j in mentors[bounds[mentee] : bounds[mentee + 1]] if places[j] > 0]
        if options:
            mentor = options[int(rng.integers(len(options)))]
            places[mentor] -= 1
            pairs.append((mentee, mentor))
    return sorted(pairs)


def greedy_pairs(problem: Problem) -> list[Pair]:
    """Best pair first: go down the candidates by score and keep each pair whose people are free.

    Ties go to the lower mentee, then the lower mentor index.

    Returns
    -------
    list of (mentee, mentor)
        Sorted pairs, pinned ones included.
    """
    pairs, free_mentee, places, cand = _open(problem)
    order = np.lexsort((cand.mentor, cand.mentee, -cand.score))
    left = sum(free_mentee)
    open_places = sum(p for p in places if p > 0)
    for mentee, mentor in zip(
        cand.mentee[order].tolist(), cand.mentor[order].tolist(), strict=True
    ):
        if left == 0 or open_places == 0:
            break
        if free_mentee[mentee] and places[mentor] > 0:
            free_mentee[mentee] = False
            places[mentor] -= 1
            left -= 1
            open_places -= 1
            pairs.append((mentee, mentor))
    return sorted(pairs)


def deferred_acceptance(problem: Problem, mentor_view: Any = None) -> list[Pair]:
    """The mentee-optimal stable answer: mentee-proposing deferred acceptance with capacities.

    Each free mentee proposes to the best mentor (by the scores) they have not proposed to yet;
    a mentor holds the best proposals up to their free places and rejects the worst when over;
    a rejected mentee proposes again. It ends when every mentee is held or has proposed to every
    candidate. The answer has no blocking pair (:func:`experiments.metrics.blocking_pairs`).

    Parameters
    ----------
    problem : Problem
        Mentees rank their candidate mentors by ``problem.scores`` (ties: lower mentor first).
    mentor_view : array_like or scipy.sparse matrix, optional
        How mentors rank mentees, same shape as the scores (ties: lower mentee first); by default
        the same scores, when the stable answer is unique and equals :func:`greedy_pairs`.

    Returns
    -------
    list of (mentee, mentor)
        Sorted pairs, pinned ones included.

    Notes
    -----
    Pinned mentees do not propose and pinned pairs take their places first. The structure follows
    the resident-optimal algorithm of the hospital-resident problem (Dubins and Freedman 1981),
    with a heap per mentor so that the worst held mentee is found in O(log capacity).
    """
    pairs, free_mentee, places, cand = _open(problem)
    mentor_pref = cand.score if mentor_view is None else _mentor_scores(problem, mentor_view)
    order = np.lexsort((cand.mentor, -cand.score, cand.mentee))
    wishes = cand.mentor[order].tolist()
    ranks = mentor_pref[order].tolist()
    bounds = np.searchsorted(cand.mentee[order], np.arange(problem.n_mentees + 1)).tolist()
    held: list[list[tuple[float, int]]] = [[] for _ in range(problem.n_mentors)]
    next_wish = bounds[:-1]
    waiting = [i for i in range(problem.n_mentees) if free_mentee[i]][::-1]
    while waiting:
        mentee = waiting.pop()
        while next_wish[mentee] < bounds[mentee + 1]:
            k = next_wish[mentee]
            next_wish[mentee] += 1
            mentor = wishes[k]
            if places[mentor] <= 0:
                continue
            # The heap's top is the mentor's worst held proposal; a lower mentee index wins ties.
            offer = (ranks[k], -mentee)
            if len(held[mentor]) < places[mentor]:
                heapq.heappush(held[mentor], offer)
                break
            if offer > held[mentor][0]:
                _, rejected = heapq.heapreplace(held[mentor], offer)
                waiting.append(-rejected)
                break
    pairs += [(-mentee, mentor) for mentor, offers in enumerate(held) for _, mentee in offers]
    return sorted(pairs)


def _mentor_scores(problem: Problem, mentor_view: Any) -> npt.NDArray[np.float64]:
    cand = problem.candidates
    _, values = Problem(mentor_view, problem.capacity).lookup(cand.mentee, cand.mentor)
    return np.nan_to_num(values, nan=-np.inf)
