"""Solve a :class:`~matching.Problem` exactly, block by block, and suggest mentors for one mentee."""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from matching.engines import ENGINES, Block, weight_bits
from matching.problem import FloatArray, Int32Array, Problem, _csr_find, _starts, _without
from matching.warm import NetworkState, Source, keeps, resolve_decisions, solve_network

__all__ = [
    "HUNGARIAN_MAX_CELLS",
    "HUNGARIAN_MAX_MENTEES",
    "Engine",
    "MapFunction",
    "Matching",
    "SubProblem",
    "blocks",
    "solve",
    "suggest",
]

IntArray = npt.NDArray[np.int64]
MapFunction = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
"""``map(function, items)``: the builtin ``map``, ``Executor.map`` or a Dask wrapper."""
Engine = Literal["auto", "hungarian", "network_simplex", "cost_scaling"]

# Blocks with at most this many mentees and (mentee, free place) cells go to the Hungarian
# engine, larger ones to the network simplex; chosen by measurement
# (``python -m experiments.bench_solver --engines``).
HUNGARIAN_MAX_MENTEES = 400
HUNGARIAN_MAX_CELLS = 120_000

KEPT_KEY = b"kept network"
"""The key of a block answer that is never taken whole (its kept network serves instead)."""

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
    partial : list of int
        Mentees with at least one mentor but fewer than their ``demand``, sorted (empty when
        every mentee needs one mentor).
    info : dict
        How it was solved: number of blocks, engines used, the score resolution, and how many
        blocks were taken from the previous answer (``solve(..., warm=...)``).
    """

    pairs: list[tuple[int, int]]
    total_score: float
    unmatched: list[int]
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    partial: list[int] = field(default_factory=list)
    solved_blocks: dict[bytes, _Solved] = field(default_factory=dict, compare=False, repr=False)
    """The answer of every block by a digest of its data, for ``solve(..., warm=this)``."""

    @property
    def n_matched(self) -> int:
        """Number of pairs (with ``demand``, the units of demand covered)."""
        return len(self.pairs)

    def renumbered(self, mentees: Any, mentors: Any) -> Matching:
        """This answer for a problem whose people were renumbered (some left, none came):
        old mentee ``i`` is now ``mentees[i]`` and old mentor ``j`` is ``mentors[j]`` (-1: left).
        Give it as ``solve(..., warm=...)``: the kept networks (``keep_networks=True``) are re-solved
        from their last basis; no block is taken as it was."""
        new_mentee = np.asarray(mentees, dtype=np.int64)
        new_mentor = np.asarray(mentors, dtype=np.int64)
        old = np.array(self.pairs, dtype=np.int64).reshape(-1, 2)
        inside = (old[:, 0] < len(new_mentee)) & (old[:, 1] < len(new_mentor))
        moved = np.stack([new_mentee[old[inside, 0]], new_mentor[old[inside, 1]]], axis=1).reshape(
            -1, 2
        )
        moved = moved[(moved >= 0).all(axis=1)]
        pairs = list(zip(moved[:, 0].tolist(), moved[:, 1].tolist(), strict=True))
        empty = np.zeros(0, dtype=np.int64)
        kept = {
            KEPT_KEY + b" %d" % k: _Solved(
                b"",
                empty,
                empty,
                np.zeros(0),
                "network_simplex",
                0.0,
                state=solved.state.renumbered(new_mentee, new_mentor),
            )
            for k, solved in enumerate(self.solved_blocks.values())
            if solved.state is not None
        }
        return Matching(sorted(pairs), 0.0, [], dict(self.info), solved_blocks=kept)


@dataclass(frozen=True)
class SubProblem:
    """An independent part of a larger problem (see :func:`blocks`).

    Attributes
    ----------
    mentees, mentors : ndarray of int
        Indices in the larger problem of this part's mentees (its rows) and mentors (columns).
    problem : Problem
        The part as a problem of its own, in its own indices.
    """

    mentees: IntArray
    mentors: IntArray
    problem: Problem


def solve(
    problem: Problem,
    engine: Engine = "auto",
    *,
    map: MapFunction | None = None,
    warm: Matching | None = None,
    keep_networks: bool = False,
) -> Matching:
    """Propose the best set of pairs for ``problem``.

    With ``objective="coverage"`` the answer matches the most mentees (with ``demand``, forms the
    most pairs: units of demand covered, each mentee's mentors distinct) and, among such answers,
    has the highest total score (plus priorities, minus load penalties); with ``objective="score"`` it has the
    highest total score. A mentee without any allowed mentor is simply left unmatched.
    The answer is deterministic and satisfies every rule (``violations`` is empty).

    Independent blocks (connected components of the candidate graph, such as schools) are
    solved apart: small ones with the Hungarian algorithm, large ones with LEMON's network
    simplex. A block where a mentee needs more than one mentor is a b-matching with distinct
    mentors (each pair arc carries one unit), which an assignment cannot express: it always goes
    to a flow engine (the network simplex when the Hungarian one is asked for).

    Parameters
    ----------
    problem : Problem
    engine : {"auto", "hungarian", "network_simplex", "cost_scaling"}, default "auto"
        Forces one engine on every block (``"cost_scaling"`` is OR-Tools' min-cost flow), for
        tests and benchmarks.
    map : callable, optional
        Runs the blocks elsewhere: called once as ``map(function, blocks)`` and must return the
        results of ``function`` on each block, in order, like the builtin :func:`map`,
        :meth:`concurrent.futures.Executor.map` or, for Dask,
        ``lambda f, xs: client.gather(client.map(f, list(xs)))``. ``function`` is a module-level
        function and the blocks plain arrays, so both pickle (process pools, Dask workers).
        None (the default) solves the blocks one after another in this thread. The answer is
        the same either way.
    warm : Matching, optional
        The answer to an earlier version of this problem (same people, same indices), e.g.
        before a curator confirmed or rejected a pair or a person left. Blocks whose data did
        not change (same people, pairs, scores, places, priorities) take their answer from it;
        only the touched blocks are solved: a large one from the network kept in ``warm``
        (``keep_networks=True``, see :mod:`matching.warm`), re-solved from its last basis when the new
        block has no person the old one lacked. When the old answer's one block held every pair
        and the new problem has the same score matrix (the same memory, not changed in place),
        or it without the rows and columns of people who left, only the curator's decisions
        and places are applied to that network (``info["in_place"]``, no pass over the
        pairs). The answer is as good as without ``warm``:
        as many pairs and the same total (among equal optima the pairs chosen may differ).
    keep_networks : bool, default False
        Keep the network of each large block in the answer, for a later
        ``solve(..., warm=answer)`` in this process (a block sent to another process, a Dask
        worker, is solved cold there). Costs the networks' memory.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, solve
    >>> scores = np.array([[0.9, 0.6], [0.8, 0.1], [0.7, 0.0]])
    >>> result = solve(Problem(scores, capacity=[1, 2]))
    >>> result.pairs, round(result.total_score, 2), result.unmatched
    ([(0, 1), (1, 0), (2, 1)], 1.4, [])

    Blocks in a thread pool:

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(max_workers=2) as pool:
    ...     in_pool = solve(Problem(scores, capacity=[1, 2]), map=pool.map)
    >>> in_pool == result
    True
    """
    if warm is not None:
        decided = _decided(problem, warm, keep_networks)
        if decided is not None:
            return decided
    pairs = problem.proposable
    free = problem.free
    states = () if warm is None else tuple(_states(warm))
    # Pairs with a mentor without a free place can never be chosen: left out, except where a
    # kept network serves (there they keep its rows as they were, so each pair's arc is found by
    # its offset; their capacity is 0 either way).
    # A mask over all pairs only where a test of every pair needs one.
    keep = None if states else (free > 0)[pairs.mentor]
    if problem.objective == "score":
        paying = pairs.score + problem.priority[pairs.mentee] >= 0
        keep = paying if keep is None else keep & paying
        del paying
    gone: list[IntArray] = []  # positions of pairs that go, whatever the mask says
    if problem.pinned:
        # The rows of mentees whose pins cover their demand go (a range each: no pass over all
        # pairs' mentees).
        gone.append(_rows_of(pairs.start, np.flatnonzero(problem.need <= 0)))
        if not problem.single:  # a mentee's pinned mentor is not proposed again
            pinned = np.array(problem.pinned, dtype=np.int64)
            at = _csr_find(pairs.start, pairs.mentor, pinned[:, 0], pinned[:, 1])
            gone.append(at[at >= 0])
    if keep is None:
        dropped = np.unique(np.concatenate(gone)) if gone else np.zeros(0, dtype=np.int64)
    else:
        for positions in gone:
            keep[positions] = False
        dropped = np.flatnonzero(~keep)
    if not len(dropped):
        mentee, mentor, score, start = pairs.mentee, pairs.mentor, pairs.score, pairs.start
    else:
        if keep is None:  # a few rows: copied by runs
            mentee, mentor, score = _without(dropped, pairs.mentee, pairs.mentor, pairs.score)
        else:
            mentee, mentor, score = pairs.mentee[keep], pairs.mentor[keep], pairs.score[keep]
        start = pairs.start - np.searchsorted(dropped, pairs.start)  # each row moves back
    del keep, dropped
    one_block = problem.n_mentees * int(free.sum()) <= HUNGARIAN_MAX_CELLS
    # One school: finding components would cost more than it saves.
    label = None
    # Which mentors have pairs, found once where kept networks serve (components and blocks
    # both ask).
    paired = _present(mentor, problem.n_mentors) if states else None
    if not one_block:
        label = _kept_components(states, start, mentee, mentor, score, problem.n_mentors, paired)
    # A block whose network is kept is re-solved from it the next time, never reused whole:
    # its digest (a pass over all its pairs) is not needed, unless it may be solved elsewhere.
    digest_kept = not keep_networks or map is not None
    tasks: Iterable[_Task] = _tasks(
        problem, engine, start, mentee, mentor, score, label, digest_kept, paired
    )
    reused: list[_Solved] = []
    if warm is not None:
        known = warm.solved_blocks
        tasks = list(tasks)
        taken = {task.key for task in tasks if task.key in known and not _kept_key(task.key)}
        reused = [known[task.key] for task in tasks if task.key in taken]
        tasks = [
            dataclasses.replace(task, states=states) for task in tasks if task.key not in taken
        ]
    if keep_networks:
        tasks = [dataclasses.replace(task, keep_network=True) for task in tasks]
    solved = builtins.map(_run, tasks) if map is None else map(_run, tasks)
    results = itertools.chain(reused, solved)

    out = _matching(problem, results, len(reused))
    if keep_networks and len(out.solved_blocks) == 1:
        # One block holding every pair, solved cold: the next problem that differs only by the
        # curator's decisions re-solves it in place (``_decided``). Solved by ``map`` in this
        # process (a thread pool, as the service's batches), its network is here; from another
        # process (a Dask worker) it arrives as None (``NetworkState.__reduce__``).
        (only,) = out.solved_blocks.values()
        if only.state is not None and not only.warm:
            only.state.source = Source.of(problem, only.state, only.resolution, SCORE_BITS)
    return out


def _matching(problem: Problem, results: Iterable[_Solved], reused: int = 0) -> Matching:
    """The answer made of the blocks' answers and the pinned pairs."""
    chosen_mentee: list[IntArray] = [np.array([e[0] for e in problem.pinned], dtype=np.int64)]
    chosen_mentor: list[IntArray] = [np.array([e[1] for e in problem.pinned], dtype=np.int64)]
    chosen_score = [problem.lookup(chosen_mentee[0], chosen_mentor[0])[1]]
    engines: Counter[str] = Counter()
    resolution = 0.0
    answers: dict[bytes, _Solved] = {}
    for answer in results:
        answers[answer.key] = answer
        engines[answer.engine] += 1
        resolution = max(resolution, answer.resolution)
        chosen_mentee.append(answer.mentee)
        chosen_mentor.append(answer.mentor)
        chosen_score.append(answer.score)
    mentees = np.concatenate(chosen_mentee)
    mentors = np.concatenate(chosen_mentor)
    order = np.lexsort((mentors, mentees))
    # tolist() makes Python ints in C: a loop of int() calls costs ~10x as much per pair
    pairs_out = list(zip(mentees[order].tolist(), mentors[order].tolist(), strict=True))
    got = np.bincount(mentees, minlength=problem.n_mentees)
    return Matching(
        pairs=pairs_out,
        total_score=float(np.concatenate(chosen_score)[order].sum()),
        unmatched=np.flatnonzero(got == 0).tolist(),
        partial=np.flatnonzero((got > 0) & (got < problem.demand)).tolist(),
        info={
            "blocks": sum(engines.values()),
            "engines": dict(engines),
            "resolution": resolution,
            "reused": reused,
            "warm": sum(answer.warm for answer in answers.values()),
            "in_place": sum(answer.in_place for answer in answers.values()),
        },
        solved_blocks=answers,
    )


def _decided(problem: Problem, warm: Matching, keep_networks: bool) -> Matching | None:
    """``problem`` solved on the kept network of ``warm``'s one block with the curator's new
    decisions applied in place (``matching.warm.resolve_decisions``), when its score matrix and
    rules are those of the cold solve that kept it (people who left taken out); None otherwise."""
    if len(warm.solved_blocks) != 1:
        return None
    (last,) = warm.solved_blocks.values()
    state = last.state
    if state is None or state.source is None:
        return None
    source = state.source
    arcs = resolve_decisions(problem, state)
    if arcs is None:
        return None
    answer = _Solved(
        key=last.key,
        mentee=state.mentees[np.searchsorted(state.arc_start, arcs, side="right") - 1],
        mentor=state.mentors[state.arc_mentor[arcs]],
        score=source.data[source.arc_entry[arcs]],  # the cold matrix's (checked the same)
        engine="network_simplex",
        resolution=source.resolution,
        state=state if keep_networks else None,
        warm=True,
        in_place=True,
    )
    return _matching(problem, [answer])


def blocks(problem: Problem) -> list[SubProblem]:
    """Split ``problem`` into independent sub-problems: no proposable or pinned pair joins two.

    Solving each sub-problem and putting the answers together (through ``mentees`` and
    ``mentors``) gives an optimal answer to ``problem``; :func:`solve` does this itself (its
    ``map`` argument runs the blocks elsewhere). Mentees and mentors without any proposable or
    pinned pair are left out: they cannot be matched. Sub-problems come in the order of their
    first mentee.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, blocks
    >>> scores = np.array([[0.9, 0.0, 0.0], [0.0, 0.8, 0.7], [0.0, 0.0, 0.0]])
    >>> parts = blocks(Problem(scores, capacity=[1, 1, 1], min_score=0.5))
    >>> [(part.mentees.tolist(), part.mentors.tolist()) for part in parts]
    [([0], [0]), ([1], [1, 2])]
    """
    pairs = problem.proposable
    n, m = problem.n_mentees, problem.n_mentors
    mentee, mentor = pairs.mentee, pairs.mentor
    if problem.pinned:
        pinned = np.array(problem.pinned, dtype=np.int32)
        mentee = np.concatenate([mentee, pinned[:, 0]])
        mentor = np.concatenate([mentor, pinned[:, 1]])
        order = np.lexsort((mentor, mentee))
        mentee, mentor = mentee[order], mentor[order]
    start = _starts(mentee, n)
    label = _components(start, mentor, np.ones(len(mentor)), m)
    has_pair = np.zeros(n + m, dtype=bool)
    has_pair[mentee] = True
    has_pair[n + mentor.astype(np.int64)] = True
    members = np.flatnonzero(has_pair)
    member_label = label[members]
    order = np.argsort(member_label, kind="stable")
    bounds = np.flatnonzero(np.diff(member_label[order], prepend=-1, append=-1))
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        people = members[order[lo:hi]]
        rows, columns = people[people < n], people[people >= n] - n
        parts.append(SubProblem(rows, columns, problem.restrict(rows, columns)))
    parts.sort(key=lambda part: int(part.mentees[0]))
    return parts


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


def _components(start: IntArray, mentor: Int32Array, score: FloatArray, n_mentors: int) -> IntArray:
    """The connected component of every mentee (``0..n-1``) and mentor (``n..n+m-1``) in the
    graph of the pairs given row by row (``start``, ``mentor``), without a copy of the pairs
    beyond one shifted index array."""
    n = len(start) - 1
    indptr = np.concatenate([start, np.full(n_mentors, start[-1])])
    indices = mentor + np.int32(n) if n + n_mentors < 2**31 else mentor.astype(np.int64) + n
    # Float data, as csgraph wants it (other types are converted, slowly); only the structure counts.
    data = score if score.all() else np.ones(len(indices))
    graph = sp.csr_array((data, indices, indptr), shape=(n + n_mentors, n + n_mentors))
    _, label = connected_components(graph, directed=False)
    return label.astype(np.int64)


def _kept_components(
    states: tuple[NetworkState, ...],
    start: IntArray,
    mentee: Int32Array,
    mentor: Int32Array,
    score: FloatArray,
    n_mentors: int,
    paired: npt.NDArray[np.bool_] | None = None,
) -> IntArray:
    """A block label for every mentee and mentor such that no pair joins two blocks, as
    :func:`_components`, but without a pass of the component search over the pairs of the blocks
    whose networks were kept: their people keep one label each when no pair now leaves them
    (checked for every pair), and only the other pairs are searched (``paired``: whether each
    mentor has a pair, when known). A kept block that split
    is solved as one block (its parts are independent, so the answer is the same)."""
    n = len(start) - 1
    if not states:
        return _components(start, mentor, score, n_mentors)
    # Labels of one byte where they fit: fewer bytes for the passes over all pairs below.
    kept: npt.NDArray[np.signedinteger[Any]] = np.full(
        n + n_mentors, -1, dtype=np.int8 if len(states) < 127 else np.int32
    )
    for k, state in enumerate(states):
        mentees, mentors = state.mentees[state.mentees >= 0], state.mentors[state.mentors >= 0]
        if mentees.max(initial=-1) >= n or mentors.max(initial=-1) >= n_mentors:
            return _components(start, mentor, score, n_mentors)  # not this problem's people
        kept[mentees], kept[n + mentors] = k, k
    degree = np.diff(start)
    # One kept block holding every mentee with pairs: a pair leaves it only to a mentor it
    # lacks (one pass over the pairs' mentors, none when it holds every mentor).
    if (
        len(states) == 1
        and (kept[:n][degree > 0] >= 0).all()
        and (
            (kept[n:] >= 0).all()
            or (paired is not None and bool(((kept[n:] >= 0) | ~paired).all()))
            or (kept[n:][mentor] >= 0).all()
        )
    ):
        return kept.astype(np.int64)
    if not np.array_equal(np.repeat(kept[:n], degree), kept[n:][mentor]):
        return _components(start, mentor, score, n_mentors)  # a pair leaves a kept block
    label = kept.astype(np.int64)
    rows = np.flatnonzero((kept[:n] < 0) & (degree > 0))
    if len(rows):  # mentees outside kept blocks: their components are searched
        rest = np.zeros(n + 1, dtype=np.int64)
        rest[rows + 1] = degree[rows]
        np.cumsum(rest, out=rest)
        edges = np.repeat(start[rows] - rest[rows], degree[rows])
        edges += np.arange(len(edges), dtype=np.int64)
        found = _components(rest, mentor[edges], np.ones(len(edges)), n_mentors)
        outside = label < 0
        label[outside] = len(states) + found[outside]
    return label


def _tasks(
    problem: Problem,
    engine: Engine,
    start: IntArray,
    mentee: Int32Array,
    mentor: Int32Array,
    score: FloatArray,
    label: IntArray | None,
    digest_kept: bool = True,
    paired: npt.NDArray[np.bool_] | None = None,
) -> Iterator[_Task]:
    """The blocks to solve, one task each, made as they are asked for (``digest_kept``: False
    when a block whose network will be kept needs no digest)."""
    n = problem.n_mentees
    degree = np.diff(start)
    single = problem.single
    need_all = problem.need
    if label is None:
        groups: list[IntArray] = [np.flatnonzero(degree)]
    else:
        busy = np.flatnonzero(degree)
        by_block = busy[np.argsort(label[busy], kind="stable")]
        cuts = np.flatnonzero(np.diff(label[by_block])) + 1
        groups = np.split(by_block, cuts) if len(by_block) else []
    total = len(mentee)
    for mentees in groups:
        if not len(mentees):
            continue
        size = int(degree[mentees].sum())
        if size == total:  # every pair: no copy
            edges: Any = slice(None)
        elif size * 2 > total:  # most pairs: a mask costs less than a list of positions
            inside = np.zeros(n, dtype=bool)
            inside[mentees] = True
            edges = inside[mentee]
        else:
            first = start[mentees]
            offset = np.repeat(
                first - (np.cumsum(degree[mentees]) - degree[mentees]), degree[mentees]
            )
            edges = offset + np.arange(size)
        block_mentor = mentor[edges]
        mentors, local_mentor = _relabel(
            block_mentor, problem.n_mentors, paired if size == total else None
        )
        del block_mentor
        if len(mentees) == n:  # every mentee: local indices are global ones
            local_mentee = mentee[edges]
        else:
            local_mentee = np.repeat(np.arange(len(mentees), dtype=np.int32), degree[mentees])
        arrays = {
            "mentees": mentees,
            "mentors": mentors,
            "mentee": local_mentee,
            "mentor": local_mentor,
            "score": score[edges],
            "priority": problem.priority[mentees],
            "free": problem.free[mentors],
            "used": problem.capacity[mentors] - problem.free[mentors],
        }
        need = None if single else need_all[mentees]
        if need is not None and need.max(initial=1) <= 1:
            need = None  # this block is an assignment like any other
        kept = (
            not digest_kept
            and _engine(engine, len(mentees), int(arrays["free"].sum()), need) == "network_simplex"
            and keeps(size, problem.load_penalty, need is None)
        )
        if kept:  # never taken whole from an earlier answer: a key unlike any digest
            yield _Task(
                key=KEPT_KEY + b" of mentee %d" % int(mentees[0]),
                engine=engine,
                load_penalty=problem.load_penalty,
                coverage=problem.objective == "coverage",
                demand=need,
                # Every pair: the block's rows start where the problem's do (no search).
                row_start=np.append(start[mentees], total) if size == total else None,
                **arrays,
            )
            continue
        digest = hashlib.blake2b(digest_size=16)
        digest.update(
            repr((engine, problem.load_penalty, problem.objective, need is None)).encode()
        )
        for array in [*arrays.values(), *([] if need is None else [need])]:
            digest.update(np.int64(len(array)).tobytes())
            digest.update(np.ascontiguousarray(array).data)
        yield _Task(
            key=digest.digest(),
            engine=engine,
            load_penalty=problem.load_penalty,
            coverage=problem.objective == "coverage",
            demand=need,
            **arrays,
        )


def _rows_of(start: IntArray, rows: IntArray) -> IntArray:
    """The positions of the pairs of ``rows`` (pairs listed row by row from ``start``)."""
    length = start[rows + 1] - start[rows]
    out = np.repeat(start[rows] - (np.cumsum(length) - length), length)
    out += np.arange(len(out), dtype=np.int64)
    return out


def _kept_key(key: bytes) -> bool:
    return key.startswith(KEPT_KEY)


def _states(warm: Matching) -> Iterator[NetworkState]:
    for solved in warm.solved_blocks.values():
        if solved.state is not None:
            yield solved.state


_COUNT_CHUNK = 1 << 18


def _present(ids: Int32Array, size: int) -> npt.NDArray[np.bool_]:
    """Whether each of ``0..size-1`` is among ``ids``: counted in chunks that stay in cache
    (bincount copies 32-bit ids to 64 bits first), faster than one count or a scatter."""
    present = np.zeros(size, dtype=bool)
    for lo in range(0, len(ids), _COUNT_CHUNK):
        present |= np.bincount(ids[lo : lo + _COUNT_CHUNK], minlength=size) > 0
    return present


def _relabel(
    ids: Int32Array, size: int, present: npt.NDArray[np.bool_] | None = None
) -> tuple[IntArray, Int32Array]:
    """The distinct ids (sorted) and each id's position among them (``present``: whether each
    id is among them, when known)."""
    if present is None and len(ids) * 16 < size:  # a small block of a large problem: sorting
        unique, inverse = np.unique(ids, return_inverse=True)
        return unique.astype(np.int64), inverse.astype(np.int32)
    if present is None:
        present = _present(ids, size)
    if present.all():  # every id: positions are the ids
        return np.arange(size, dtype=np.int64), ids
    position = (np.cumsum(present) - 1).astype(np.int32)
    return np.flatnonzero(present).astype(np.int64), position[ids]


@dataclass(frozen=True, slots=True)
class _Task:
    """One block to solve: its people (indices in the problem) and pairs (local indices)."""

    key: bytes
    engine: Engine
    mentees: IntArray
    mentors: IntArray
    mentee: Int32Array
    mentor: Int32Array
    score: FloatArray
    priority: FloatArray
    free: IntArray
    used: IntArray
    load_penalty: float
    coverage: bool
    demand: IntArray | None = None
    """Mentors each mentee of the block still needs; None when every one needs one."""
    states: tuple[NetworkState | None, ...] = ()  # kept networks of an earlier answer
    keep_network: bool = False  # keep this block's network in the answer
    row_start: IntArray | None = None  # where each mentee's pairs start, when known


@dataclass(frozen=True, slots=True)
class _Solved:
    """The pairs chosen in one block, in the problem's indices, and how it was solved."""

    key: bytes
    mentee: IntArray
    mentor: IntArray
    score: FloatArray
    engine: str
    resolution: float
    state: NetworkState | None = field(default=None, compare=False, repr=False)
    warm: bool = False  # re-solved from a kept network
    in_place: bool = False  # ... with the decisions applied to it directly (``_decided``)


def _engine(engine: Engine, n: int, slots: int, demand: IntArray | None) -> str:
    """The engine that solves a block of ``n`` mentees and ``slots`` free places."""
    if engine == "auto":
        small = n <= HUNGARIAN_MAX_MENTEES and n * slots <= HUNGARIAN_MAX_CELLS
        engine = "hungarian" if small else "network_simplex"
    if engine == "hungarian" and demand is not None:
        engine = "network_simplex"  # an assignment cannot keep a mentee's mentors distinct
    return engine


def _run(task: _Task) -> _Solved:
    """Solve one block (in whatever process ``map`` runs it)."""
    n, m = len(task.mentees), len(task.mentors)
    slots = int(task.free.sum())
    # Units of demand: one per mentee unless some need several mentors.
    units = n if task.demand is None else int(task.demand.sum())
    engine = _engine(task.engine, n, slots, task.demand)
    # Integer weights: the score objective multiplies by (max_pairs + 1) and adds 1 per pair,
    # so among equal totals the answer with more pairs wins, and never at the cost of score.
    max_pairs = min(units, slots)
    multiplier = 1 if task.coverage else max_pairs + 1
    # The old bound min(n, 3 m) where it holds, so that demand-1 problems keep their resolution.
    bound = min(units, max(3 * m, slots))
    bits = min(SCORE_BITS, weight_bits(engine, units, m, multiplier, max_pairs=bound))
    # What a pair adds to the objective: its score plus its mentee's priority.
    gain = task.score + task.priority[task.mentee] if task.priority.any() else task.score
    top = max(float(gain.max(initial=0)), -float(gain.min(initial=0)), 2 * task.load_penalty)
    exponent = bits - math.ceil(math.log2(top)) if top > 0 else 0
    scaled = gain * math.ldexp(1.0, exponent)  # exact: a power of two
    del gain
    weight = np.rint(scaled, out=scaled).astype(np.int64)
    del scaled
    if not task.coverage:
        weight *= multiplier
        weight += 1
    penalty = int(np.rint(math.ldexp(task.load_penalty, exponent))) * multiplier
    block = Block(
        n_mentees=n,
        n_mentors=m,
        mentee=task.mentee,
        mentor=task.mentor,
        weight=weight,
        free=task.free,
        used=task.used,
        place_penalty=penalty,
        maximize_count=task.coverage,
        demand=task.demand,
    )
    state, was_warm = None, False
    if engine == "network_simplex" and (task.keep_network or task.states):
        picked, state, was_warm = solve_network(
            block, task.mentees, task.mentors, list(task.states), task.row_start
        )
    else:
        picked = ENGINES[engine](block)
    return _Solved(
        key=task.key,
        mentee=task.mentees[task.mentee[picked]],
        mentor=task.mentors[task.mentor[picked]],
        score=task.score[picked],
        engine=engine,
        resolution=math.ldexp(1.0, -exponent) if top > 0 else 0.0,
        state=state if task.keep_network else None,
        warm=was_warm,
    )
