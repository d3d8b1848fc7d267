"""Solve a :class:`~matching.Problem` exactly, block by block, and suggest mentors for one mentee."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from matching.engines import ENGINES, Block, weight_bits
from matching.problem import Candidates, Problem

__all__ = ["HUNGARIAN_MAX_CELLS", "HUNGARIAN_MAX_MENTEES", "Engine", "Matching", "solve", "suggest"]

IntArray = npt.NDArray[np.int64]
Engine = Literal["auto", "hungarian", "network_simplex", "cost_scaling"]

# Blocks with at most this many mentees and (mentee, free place) cells go to the Hungarian
# engine, larger ones to the network simplex; chosen by measurement
# (``python -m experiments.bench_solver --engines``).
HUNGARIAN_MAX_MENTEES = 400
HUNGARIAN_MAX_CELLS = 120_000

SCORE_BITS = 30
"""Scores are compared at a resolution of 2**-30 of the largest score, or coarser where a very
large block needs it to keep OR-Tools' costs in range (``Matching.info['resolution']``)."""


@dataclass(frozen=True)
class Matching:
    """The answer to a :class:`~matching.Problem`.

    Attributes
    ----------
    pairs : list of (mentee, mentor)
        Sorted; pinned pairs included.
    total_score : float
        Sum of the scores of ``pairs``.
    unmatched : list of int
        Mentees without a pair, sorted.
    info : dict
        How it was solved: number of blocks, engines used, the score resolution.
    """

    pairs: list[tuple[int, int]]
    total_score: float
    unmatched: list[int]
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_matched(self) -> int:
        return len(self.pairs)


def solve(problem: Problem, engine: Engine = "auto") -> Matching:
    """Propose the best set of pairs for ``problem``.

    With ``objective="coverage"`` the answer matches the most mentees and, among such answers,
    has the highest total score (plus priorities, minus load penalties); with ``objective="score"`` it has the
    highest total score. A mentee without any allowed mentor is simply left unmatched.
    The answer is deterministic and satisfies every rule (``violations`` is empty).

    Independent blocks (connected components of the candidate graph, such as schools) are
    solved apart: small ones with the Hungarian algorithm, large ones with LEMON's network
    simplex; ``engine`` forces one of the engines (``"hungarian"``, ``"network_simplex"``,
    ``"cost_scaling"`` for OR-Tools' min-cost flow) on every block, for tests and benchmarks.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, solve
    >>> scores = np.array([[0.9, 0.6], [0.8, 0.1], [0.7, 0.0]])
    >>> result = solve(Problem(scores, capacity=[1, 2]))
    >>> result.pairs, round(result.total_score, 2), result.unmatched
    ([(0, 1), (1, 0), (2, 1)], 1.4, [])
    """
    cand = problem.candidates
    pinned_mentee = np.zeros(problem.n_mentees, dtype=bool)
    for mentee, _ in problem.pinned:
        pinned_mentee[mentee] = True
    free = problem.free
    keep = ~pinned_mentee[cand.mentee] & (free[cand.mentor] > 0)
    if problem.objective == "score":
        keep &= cand.score + problem.priority[cand.mentee] >= 0
    edges = Candidates(cand.mentee[keep], cand.mentor[keep], cand.score[keep])

    chosen_mentee: list[IntArray] = [np.array([e[0] for e in problem.pinned], dtype=np.int64)]
    chosen_mentor: list[IntArray] = [np.array([e[1] for e in problem.pinned], dtype=np.int64)]
    engines: Counter[str] = Counter()
    resolution = 0.0
    if len(edges) and problem.n_mentees * int(free.sum()) <= HUNGARIAN_MAX_CELLS:
        blocks = [edges]  # one school: finding components would cost more than it saves
    else:
        blocks = _blocks(edges, problem.n_mentees, problem.n_mentors)
    for block_edges in blocks:
        picked, used_engine, step = _solve_block(problem, block_edges, free, engine)
        engines[used_engine] += 1
        resolution = max(resolution, step)
        chosen_mentee.append(block_edges.mentee[picked])
        chosen_mentor.append(block_edges.mentor[picked])

    mentees = np.concatenate(chosen_mentee)
    mentors = np.concatenate(chosen_mentor)
    order = np.lexsort((mentors, mentees))
    pairs = [(int(i), int(j)) for i, j in zip(mentees[order], mentors[order], strict=True)]
    _, pair_scores = problem.lookup(mentees, mentors)
    matched = np.zeros(problem.n_mentees, dtype=bool)
    matched[mentees] = True
    return Matching(
        pairs=pairs,
        total_score=float(pair_scores.sum()),
        unmatched=np.flatnonzero(~matched).tolist(),
        info={"blocks": sum(engines.values()), "engines": dict(engines), "resolution": resolution},
    )


def suggest(problem: Problem, mentee: int, k: int | None = 5) -> list[tuple[int, float]]:
    """The best mentors for one mentee: ``[(mentor, score), ...]``, best first.

    Only pairs that :func:`solve` could propose: allowed, not forbidden, score at least
    ``min_score``, and a mentor with a free place. Ties go to the lower mentor index.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, suggest
    >>> suggest(Problem(np.array([[0.2, 0.9, 0.5]]), capacity=[1, 0, 1]), mentee=0)
    [(2, 0.5), (0, 0.2)]
    """
    if not isinstance(mentee, int | np.integer) or not 0 <= mentee < problem.n_mentees:
        raise IndexError(f"mentee must be an index in 0..{problem.n_mentees - 1}, got {mentee!r}")
    if k is not None and k < 1:
        raise ValueError(f"k must be a positive number of mentors, got {k!r}")
    cand = problem.candidates
    lo, hi = np.searchsorted(cand.mentee, [mentee, mentee + 1])
    mentors, scores = cand.mentor[lo:hi], cand.score[lo:hi]
    has_place = problem.free[mentors] > 0
    mentors, scores = mentors[has_place], scores[has_place]
    order = np.lexsort((mentors, -scores))[:k]
    return [(int(mentors[i]), float(scores[i])) for i in order]


def _blocks(edges: Candidates, n_mentees: int, n_mentors: int) -> list[Candidates]:
    """Split the candidate graph into connected components (independent blocks)."""
    if not len(edges):
        return []
    graph = sp.coo_array(
        (np.ones(len(edges), dtype=np.int8), (edges.mentee, edges.mentor + n_mentees)),
        shape=(n_mentees + n_mentors, n_mentees + n_mentors),
    )
    n_blocks, label = connected_components(graph, directed=False)
    if n_blocks == 1:
        return [edges]
    edge_label = label[edges.mentee]
    order = np.argsort(edge_label, kind="stable")
    bounds = np.searchsorted(edge_label[order], np.arange(n_blocks + 1))
    blocks = []
    for b in range(n_blocks):
        idx = order[bounds[b] : bounds[b + 1]]
        if len(idx):
            blocks.append(Candidates(edges.mentee[idx], edges.mentor[idx], edges.score[idx]))
    return blocks


def _relabel(ids: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """The distinct ids (sorted) and each id's position among them."""
    if len(ids) * 16 < size:  # a small block of a large problem: sorting is cheaper
        distinct, position = np.unique(ids, return_inverse=True)
        return distinct, position.astype(np.int64)
    present = np.zeros(size, dtype=bool)
    present[ids] = True
    distinct = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return distinct, position[ids]


def _solve_block(
    problem: Problem, edges: Candidates, free: IntArray, engine: Engine
) -> tuple[IntArray, str, float]:
    """Solve one block; returns the chosen edge indices, the engine name and the resolution."""
    mentees, local_mentee = _relabel(edges.mentee, problem.n_mentees)
    mentors, local_mentor = _relabel(edges.mentor, problem.n_mentors)
    block_free = free[mentors]
    n, slots = len(mentees), int(block_free.sum())
    max_pairs = min(n, slots)
    if engine == "auto":
        small = n <= HUNGARIAN_MAX_MENTEES and n * slots <= HUNGARIAN_MAX_CELLS
        engine = "hungarian" if small else "network_simplex"
    count_first = problem.objective == "coverage"
    # Integer weights: the score objective multiplies by (max_pairs + 1) and adds 1 per pair,
    # so among equal totals the answer with more pairs wins, and never at the cost of score.
    multiplier = 1 if count_first else max_pairs + 1
    bits = min(SCORE_BITS, weight_bits(engine, n, len(mentors), multiplier))
    gain = edges.score + problem.priority[edges.mentee]  # what a pair adds to the objective
    top = max(float(np.abs(gain).max()), 2 * problem.load_penalty)
    exponent = bits - math.ceil(math.log2(top)) if top > 0 else 0
    weight = np.rint(np.ldexp(gain, exponent)).astype(np.int64) * multiplier
    penalty = int(np.rint(math.ldexp(problem.load_penalty, exponent))) * multiplier
    if not count_first:
        weight += 1
    used = problem.capacity[mentors] - block_free
    block = Block(
        n_mentees=n,
        n_mentors=len(mentors),
        mentee=local_mentee.astype(np.int64),
        mentor=local_mentor.astype(np.int64),
        weight=weight,
        free=block_free,
        used=used,
        place_penalty=penalty,
        maximize_count=count_first,
    )
    picked = ENGINES[engine](block)
    resolution = math.ldexp(1.0, -exponent) if top > 0 else 0.0
    return picked, engine, resolution
