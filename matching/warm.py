"""Warm re-solves of a large block: LEMON's network kept from the last solve, changed in place.

After a curator confirms or rejects a pair, or a person leaves, the block of the next run is the
old one with pairs, mentees or places taken away. Its network is the old network with those arcs
closed (capacity 0) and the costs of changed weights set anew; LEMON re-solves it from the last
optimal basis (``pylmcf`` repairs the basis after capacity and cost changes), which costs a
fraction of a cold solve. A network kept for this holds every pair of its block (up to
``engines.KEEP_ALL_MAX_EDGES``; above, the priced subset of a cold solve): the potentials of the
answer then price every pair of the new block that the network does not hold; none negative
proves the answer optimal (linear programming duality); otherwise the block is solved cold.
Either way the answer is exact.

The warm path makes no pass over all pairs beyond a few vectorised ones (issue 14: a warm run
under a tenth of a cold one): each pair's arc is found by its row's offset (``_arcs``: no sort,
no search, no digest); closed arcs keep their cost and ``top`` and the bypass cost stay as they
were (``_prices``), so that LEMON sees only the changes and, when costs did not change, takes its
fast path; the basis is repaired by LEMON's greedy dual repair (``WARM_REPAIR``).

Only blocks without place penalties and demands are kept (one arc per mentor to the sink, one
unit per mentee) and only in the process that solved them; the new block must have no mentee or
mentor the old network lacks (pairs it lacks are priced). Nodes and arcs stand for problem
indices: a caller that renumbers people only makes the start worse, never the answer.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.engines import Block, network_simplex, weight_bits
from matching.problem import FloatArray, Int32Array, Problem, _csr_find, _starts

__all__ = ["NetworkState", "Source", "keeps", "resolve_decisions", "solve_network"]

IntArray = npt.NDArray[np.int64]

KEEP_MIN_EDGES = 50_000
"""Blocks with fewer pairs are not kept: a cold solve costs little there."""

SCALE_ARCS = 64
"""Pairs of the largest gains a ``Source`` keeps: while one stays open, the weights' scale does."""

MAX_BYPASS = 1 << 60
"""The largest bypass cost kept from the last solve (LEMON takes costs up to 2**62)."""

WARM_REPAIR = "dual_greedy"
"""How LEMON repairs the kept basis when closed arcs make it infeasible (``pylmcf``)."""


@dataclass
class LastCosts:
    """The costs last set on a kept network: pair arcs cost ``top - weight``, the arc source ->
    sink ``bypass`` (kept while they still serve, see ``_prices``); ``arcs``: every arc's."""

    top: int
    bypass: int
    arcs: IntArray | None = field(default=None, repr=False)
    version: int = 0  # counts the costs set since: a ``Source`` knows the costs of its version


@dataclass
class Scratch:
    """Arrays a warm re-solve of a kept network writes into, allocated (and touched) once with
    it: fresh arrays of the block's size would be mapped anew on every re-solve, and their first
    touches cost as much as the work done in them. Used only under the state's lock."""

    wide: IntArray  # one value per arc: the capacities set on LEMON, then a gather of costs
    arc: IntArray  # the arc of each pair of the block
    costs: IntArray  # the cost of each pair
    held: npt.NDArray[np.bool_]  # whether the network holds each pair
    flowing: npt.NDArray[np.bool_]  # whether each pair arc has flow

    @classmethod
    def touched(cls, n_edges: int, n_arcs: int) -> Scratch:
        return cls(
            np.ones(n_edges, dtype=np.int64),
            np.ones(n_arcs, dtype=np.int64),
            np.ones(n_arcs, dtype=np.int64),
            np.ones(n_arcs, dtype=bool),
            np.ones(n_arcs, dtype=bool),
        )


def _scratch(array: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:
    """The first ``size`` items of a scratch array, or a new array when it is too short (a block
    with more pairs than its kept network)."""
    return array[:size] if len(array) >= size else np.empty(size, dtype=array.dtype)


@dataclass
class NetworkState:
    """A solved block's network and what its nodes and pair arcs stand for (problem indices)."""

    network: Any  # pylmcf.Graph
    mentees: IntArray  # node k < n stands for this mentee of the problem (-1: gone)
    mentors: IntArray  # node n + k stands for this mentor (-1: gone)
    arc_start: IntArray  # pair arcs arc_start[k]:arc_start[k + 1] leave mentee node k ...
    arc_mentor: Int32Array  # ... to mentor node n + arc_mentor[a] (sorted within each node)
    last: LastCosts  # shared with renumbered copies, as the network is
    scratch: Scratch = field(repr=False)  # shared too
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    source: Source | None = field(default=None, repr=False)  # set by a cold solve (solver)

    def renumbered(self, mentee_new: IntArray, mentor_new: IntArray) -> NetworkState:
        """The same network (and lock) for a problem whose people were renumbered: old index
        ``i`` is now ``mentee_new[i]`` (-1: left)."""

        def moved(nodes: IntArray, new: IntArray) -> IntArray:
            out = np.full(len(nodes), -1, dtype=np.int64)
            known = (nodes >= 0) & (nodes < len(new))
            out[known] = new[nodes[known]]
            return out

        return NetworkState(
            self.network,
            moved(self.mentees, mentee_new),
            moved(self.mentors, mentor_new),
            self.arc_start,
            self.arc_mentor,
            self.last,
            self.scratch,
            self.lock,
            None if self.source is None else self.source.renumbered(mentee_new, mentor_new),
        )

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        # A kept network lives in the process that solved it: sent elsewhere (a Dask worker),
        # it arrives as None and the block there is solved cold.
        return (_lost, ())


def _lost() -> None:
    return None


def _same_memory(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """Whether two arrays are views of the same items (one array, maybe wrapped anew)."""
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.strides == b.strides
    )


@dataclass
class Source:
    """The problem a kept network was solved cold for, when its one block held every pair. The
    next problem with the same score matrix (the same memory, not changed in place, as the
    service's score cache passes it when nobody left), or that matrix without the rows and
    columns of people who left (checked item by item, ``Matching.renumbered``), differs only by
    the curator's decisions and places: ``resolve_decisions`` applies them to the network
    directly, with no pass over the pairs in the first case and a few in the second (no problem
    pairs, block, integer weights, arcs or cost check).

    The network's pair arcs are the entries ``arc_entry`` (increasing) of the cold matrix: those
    at least ``min_score``, not ``forbidden``, of a mentee not confirmed then and to a mentor
    with a free place then (``closed_mentees``, ``closed_mentors``: those whose pairs have no
    arc). Their costs are those of ``version`` of
    the costs (integer weights at the scale of the largest gain, which no bit limit narrowed:
    any of ``scale_arcs`` left open keeps it)."""

    data: FloatArray  # the cold score matrix's arrays (held: their memory identifies it)
    indices: npt.NDArray[Any]
    indptr: npt.NDArray[Any]
    min_score: float
    forbidden: frozenset[tuple[int, int]]  # in the indices of the people now
    closed_mentees: IntArray  # confirmed at the cold solve: their pairs have no arc (indices now)
    closed_mentors: IntArray  # without a free place then: their pairs have no arc (indices now)
    priority: FloatArray  # per mentee node
    arc_entry: IntArray
    scale_arcs: IntArray  # pairs of the largest gains (within a factor 2: the same scale)
    bits: int  # the bits of the weights (the cap: no block size narrowed them)
    spread: int  # ``top`` minus the lowest weight of the cold block
    version: int
    resolution: float  # of the weights: 2**-exponent
    shape: tuple[int, int]  # of the cold matrix
    moved: tuple[IntArray, IntArray] | None = None  # each cold row's and column's index now
    seen: tuple[npt.NDArray[Any], ...] = ()  # a matrix checked to be the cold one moved

    @classmethod
    def of(
        cls, problem: Problem, state: NetworkState, resolution: float, cap: int
    ) -> Source | None:
        """The source of ``state``, just solved cold for ``problem`` as its one block holding
        every pair (``resolution``: of its weights, ``cap``: the most bits weights take); None
        when the fast path cannot serve it (other rules, or the arcs are not the entries that
        the rules leave, checked)."""
        scores = problem.scores
        costs = state.last.arcs
        if (
            getattr(scores, "format", None) != "csr"
            or problem.allowed is not None
            or problem.objective != "coverage"
            or not problem.single
            or problem.load_penalty
            or costs is None
            or (state.mentees < 0).any()
            or (state.mentors < 0).any()
        ):
            return None
        data, indices, indptr = scores.data, scores.indices, scores.indptr
        keep = data >= problem.min_score
        if problem.forbidden:
            pairs = np.array(sorted(problem.forbidden), dtype=np.int64).reshape(-1, 2)
            entries = _csr_find(indptr, indices, pairs[:, 0], pairs[:, 1])
            keep[entries[entries >= 0]] = False
        # Mentees whose pins cover their demand have no pairs in the block.
        closed_mentees = np.flatnonzero(problem.need <= 0)
        keep[_ranges(indptr[closed_mentees], np.diff(indptr)[closed_mentees])] = False
        arc_entry = np.flatnonzero(keep)
        n_arcs = len(state.arc_mentor)
        # A cold solve leaves out the pairs of mentors without a free place; a block solved
        # cold in a warm run holds them (at capacity 0).
        closed = np.zeros(problem.n_mentors, dtype=bool)
        if len(arc_entry) != n_arcs:
            closed = problem.free <= 0
            keep &= ~closed[indices]
            arc_entry = np.flatnonzero(keep)
        count = np.diff(np.searchsorted(arc_entry, indptr))  # arcs of each mentee's row
        if (
            len(arc_entry) != n_arcs
            or not np.array_equal(count[state.mentees], np.diff(state.arc_start))
            or not np.array_equal(state.mentors[state.arc_mentor], indices[arc_entry])
        ):
            return None
        gain = data[arc_entry]
        if problem.priority.any():
            gain = gain + problem.priority[np.repeat(state.mentees, np.diff(state.arc_start))]
        size = np.abs(gain)
        top = float(size.max(initial=0))
        if top <= 0 or resolution <= 0:
            return None
        exponent = -(math.frexp(resolution)[1] - 1)  # resolution is 2**-exponent
        if exponent + math.ceil(math.log2(top)) != cap:
            return None
        # The scale holds while the largest gain stays in (top / 2, top]: a few pairs there.
        scale_arcs = np.flatnonzero(size > math.ldexp(1.0, math.ceil(math.log2(top)) - 1))
        if len(scale_arcs) > SCALE_ARCS:
            # Spread over mentees (each one's first such pair, then each one's second...): in
            # the arcs' order they would all be the first mentees', and confirming those few
            # (a curator working down the list) would close them all.
            node = np.searchsorted(state.arc_start, scale_arcs, side="right") - 1
            first = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
            rank = np.arange(len(node)) - np.repeat(first, np.diff(np.r_[first, len(node)]))
            scale_arcs = np.sort(scale_arcs[np.lexsort((node, rank))[:SCALE_ARCS]])
        del size, gain
        last = state.last
        lowest = min(0, last.top - int(costs[:n_arcs].max(initial=last.top)))
        return cls(
            data,
            indices,
            indptr,
            problem.min_score,
            problem.forbidden,
            closed_mentees,
            np.flatnonzero(closed),
            problem.priority[state.mentees],
            arc_entry,
            scale_arcs[:SCALE_ARCS],
            cap,
            last.top - lowest,
            last.version,
            resolution,
            (problem.n_mentees, problem.n_mentors),
        )

    def renumbered(self, mentee_new: IntArray, mentor_new: IntArray) -> Source:
        """This source for a problem whose people were renumbered (``NetworkState.renumbered``)."""
        rows, columns = self.moved or (np.arange(self.shape[0]), np.arange(self.shape[1]))

        def moved(index: IntArray, new: IntArray) -> IntArray:
            out = np.full(len(index), -1, dtype=np.int64)
            known = (index >= 0) & (index < len(new))
            out[known] = new[index[known]]
            return out

        def pair(i: int, j: int) -> tuple[int, int]:
            inside = i < len(mentee_new) and j < len(mentor_new)
            return (int(mentee_new[i]), int(mentor_new[j])) if inside else (-1, -1)

        forbidden = {pair(i, j) for i, j in self.forbidden}
        forbidden = {(i, j) for i, j in forbidden if i >= 0 and j >= 0}
        mentees = moved(self.closed_mentees, mentee_new)
        mentors = moved(self.closed_mentors, mentor_new)
        return dataclasses.replace(
            self,
            forbidden=frozenset(forbidden),
            closed_mentees=mentees[mentees >= 0],
            closed_mentors=mentors[mentors >= 0],
            moved=(moved(rows, mentee_new), moved(columns, mentor_new)),
            seen=(),
        )

    def matrix(self, scores: Any) -> bool:
        """Whether ``scores`` is the cold matrix (the same memory), or it without the rows and
        columns of people who left (``moved``), item by item."""
        if getattr(scores, "format", None) != "csr" or not isinstance(scores.data, np.ndarray):
            return False
        arrays = (scores.data, scores.indices, scores.indptr)
        if self.moved is None:
            return all(map(_same_memory, arrays, (self.data, self.indices, self.indptr)))
        if self.seen and all(map(_same_memory, arrays, self.seen)):
            return True
        rows, columns = self.moved
        row_kept, column_kept = rows >= 0, columns >= 0
        n_new, m_new = int(row_kept.sum()), int(column_kept.sum())
        if (
            scores.shape != (n_new, m_new)
            or not np.array_equal(rows[row_kept], np.arange(n_new))
            or not np.array_equal(columns[column_kept], np.arange(m_new))
        ):
            return False  # not the cold matrix without some rows and columns, in order
        keep = column_kept[self.indices]
        if not row_kept.all():
            keep &= np.repeat(row_kept, np.diff(self.indptr))
        counted = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=counted[1:])
        start = counted[self.indptr]
        indptr = np.zeros(n_new + 1, dtype=np.int64)
        np.cumsum(np.diff(start)[row_kept], out=indptr[1:])
        if (
            not np.array_equal(scores.indptr, indptr)
            or not np.array_equal(scores.data, self.data[keep])
            or not np.array_equal(scores.indices, columns[self.indices[keep]])
        ):
            return False
        self.seen = arrays
        return True


def resolve_decisions(problem: Problem, state: NetworkState) -> IntArray | None:
    """The network arcs of the optimal pairs of ``problem``, re-solved on the kept network with
    the new decisions applied in place: a new rejected pair's arc closed, a confirmed (or gone)
    mentee's arc from the source closed, each mentor's arc to the sink at its free places (none
    for a mentor who left). None when ``state.source`` does not serve ``problem`` or the
    weights' scale would change (a cold solve would then weigh the pairs otherwise): the caller
    takes the general warm path.

    The network then is the cold block of ``problem`` with some arcs closed: the same pairs with
    the same weights (up to the shift ``top``), a bypass that still exceeds any exchange, so its
    optimum is ``problem``'s (exact, as a cold solve)."""
    source = state.source
    if (
        source is None
        or problem.objective != "coverage"
        or not problem.single
        or problem.load_penalty
        or problem.allowed is not None
        or problem.min_score != source.min_score
        or not source.forbidden <= problem.forbidden
        or not source.matrix(problem.scores)
        or not state.lock.acquire(blocking=False)
    ):
        return None
    try:
        return _decide(problem, state, source)
    finally:
        state.lock.release()


def _decide(problem: Problem, state: NetworkState, source: Source) -> IntArray | None:
    network, last = state.network, state.last
    n_arcs, old_m, old_n = len(state.arc_mentor), len(state.mentors), len(state.mentees)
    if last.version != source.version or network.no_edges() != n_arcs + old_m + old_n + 1:
        return None
    here = state.mentees >= 0  # mentee nodes of people still here
    if not np.array_equal(problem.priority[state.mentees[here]], source.priority[here]):
        return None
    present = state.mentors >= 0
    mentor_free = np.zeros(old_m, dtype=np.int64)
    mentor_free[present] = np.maximum(problem.free[state.mentors[present]], 0)
    if (problem.free[source.closed_mentors] > 0).any() or (
        problem.need[source.closed_mentees] > 0
    ).any():
        return None  # a place or a mentee opened whose pairs the network lacks
    slots = int(mentor_free.sum())
    # The scale of the weights: a block of at most old_n mentees, old_m mentors and these slots
    # keeps the bits of the cold one (the cap), and its largest gain when that pair stays open.
    bits = weight_bits("network_simplex", old_n, old_m, 1, min(old_n, max(3 * old_m, slots)))
    if bits < source.bits or (min(old_n, slots) + 1) * source.spread + 1 > last.bypass:
        return None
    node_of_mentee = np.full(problem.n_mentees, -1, dtype=np.int64)
    node_of_mentee[state.mentees[here]] = np.flatnonzero(here)
    rejected = sorted(problem.forbidden - source.forbidden)
    closed_arcs = np.zeros(0, dtype=np.int64)
    if rejected:
        pairs = np.array(rejected, dtype=np.int64).reshape(-1, 2)
        node_of_mentor = np.full(problem.n_mentors, -1, dtype=np.int64)
        node_of_mentor[state.mentors[present]] = np.flatnonzero(present)
        rows, heads = node_of_mentee[pairs[:, 0]], node_of_mentor[pairs[:, 1]]
        inside = (rows >= 0) & (heads >= 0)
        closed_arcs = _csr_find(state.arc_start, state.arc_mentor, rows[inside], heads[inside])
        closed_arcs = closed_arcs[closed_arcs >= 0]
    gone = np.flatnonzero(~present)
    if len(gone):
        # Their pair arcs closed too, not only their arcs to the sink: LEMON's repair then
        # takes 60-70 ms instead of 140-220 (experiments.bench_warm, a mentor leaving).
        left = state.arc_mentor == gone[0] if len(gone) == 1 else np.isin(state.arc_mentor, gone)
        closed_arcs = np.concatenate([closed_arcs, np.flatnonzero(left)])
    pinned = np.array([mentee for mentee, _ in problem.pinned], dtype=np.int64)
    closed_nodes = np.concatenate([node_of_mentee[pinned], np.flatnonzero(~here)])
    closed_nodes = closed_nodes[closed_nodes >= 0]
    scale = source.scale_arcs
    scale_node = np.searchsorted(state.arc_start, scale, side="right") - 1
    kept = (
        ~np.isin(scale, closed_arcs)
        & ~np.isin(scale_node, closed_nodes)
        & (mentor_free[state.arc_mentor[scale]] > 0)
    )
    if not kept.any():
        return None  # the largest gains leave the block: a cold solve would weigh anew
    caps = state.scratch.wide
    caps[:n_arcs] = 1
    caps[closed_arcs] = 0
    caps[n_arcs : n_arcs + old_m] = mentor_free
    mentee_caps = caps[n_arcs + old_m : n_arcs + old_m + old_n]
    mentee_caps.fill(1)
    mentee_caps[closed_nodes] = 0
    caps[-1] = old_n
    network.set_edge_capacities(caps)  # copied: the scratch is free again
    network.solve()  # warm: from the last basis
    flow = np.asarray(network.result())
    return np.flatnonzero(np.not_equal(flow[:n_arcs], 0, out=state.scratch.flowing))


def solve_network(
    block: Block,
    mentees: IntArray,
    mentors: IntArray,
    states: list[NetworkState | None],
    row_start: IntArray | None = None,
) -> tuple[IntArray, NetworkState | None, bool]:
    """Solve ``block`` (its people are ``mentees`` and ``mentors`` of the problem) with the
    network simplex, from one of ``states`` when one fits; return the chosen edges, the state to
    keep for the next time (None for a small block) and whether it was re-solved warm.
    ``row_start``: where each mentee's pairs start in the block, when the caller knows."""
    for state in states:
        if state is None or not state.lock.acquire(blocking=False):
            continue
        try:
            picked = _resolve(block, mentees, mentors, state, row_start)
        finally:
            state.lock.release()
        if picked is not None:
            return picked, state, True
    if not keeps(len(block.mentee), block.place_penalty, block.demand is None):
        return network_simplex(block), None, False
    kept: list[tuple[Any, IntArray]] = []
    picked = network_simplex(block, keep=kept)
    network, edges = kept[0]
    # Measured on experiments.bench_warm: LEMON's default dual repair of a basis made infeasible
    # by closed arcs often gives up and starts cold (0.3-0.5 s there); the greedy one does not
    # (0.05-0.1 s; the primal one 0.1-0.4 s).
    network.set_warm_repair(WARM_REPAIR)
    arc_mentee = block.mentee[edges]
    arc_costs = np.asarray(network.get_edge_costs())
    state = NetworkState(
        network,
        mentees.copy(),
        mentors.copy(),
        _starts(arc_mentee, block.n_mentees),
        block.mentor[edges].astype(np.int32),
        # The costs just set, kept whole (the first warm re-solve then reads none back).
        LastCosts(int(block.weight.max(initial=0)), int(arc_costs[-1]), arc_costs),
        Scratch.touched(len(arc_costs), len(edges)),
    )
    return picked, state, False


def keeps(n_edges: int, place_penalty: float, single: bool) -> bool:
    """Whether the network of a block solved by the network simplex is kept: a large block with
    one arc per mentor to the sink and one unit per mentee (no place penalties, no demand of
    several mentors)."""
    return n_edges >= KEEP_MIN_EDGES and not place_penalty and single


def _fits(block: Block) -> bool:
    """Whether a kept network can serve this block: one arc per mentor to the sink and one unit
    per mentee (no place penalties, no demand of several mentors)."""
    return not block.place_penalty and block.demand is None


def _nodes(nodes: IntArray, wanted: IntArray) -> IntArray | None:
    """The node of each of ``wanted`` (problem indices); None when one has no node."""
    size = int(max(nodes.max(initial=-1), wanted.max(initial=-1))) + 1
    node_of = np.full(size, -1, dtype=np.int64)
    present = nodes >= 0
    node_of[nodes[present]] = np.flatnonzero(present)
    found = node_of[wanted]
    return None if (found < 0).any() else found


def _arcs(
    block: Block,
    node_mentee: IntArray,
    node_mentor: IntArray,
    state: NetworkState,
    row_start: IntArray | None = None,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The arc of each pair of ``block`` in the kept network, and whether it has one.

    Both list pairs row by row, sorted by mentor. A mentee with as many pairs as its node has
    arcs to the block's mentors has them in the same order: its pairs' arcs are found by their
    offsets (and checked by one comparison of mentors); in the rows of arcs to mentors the block
    lacks (gone, or without a free place) those arcs are skipped; only the pairs of the other
    mentees (a pair rejected, a new pair) are looked up by binary search. No sort, no search
    over all pairs: a few passes, and work in proportion to the rows touched.
    """
    n_arcs = len(state.arc_mentor)
    if row_start is None:
        ids = np.arange(block.n_mentees + 1, dtype=block.mentee.dtype)  # no copy of the pairs
        row_start = np.searchsorted(block.mentee, ids).astype(np.int64)  # sorted by mentee
    start = row_start
    degree = np.diff(start)
    first = state.arc_start[node_mentee]
    last = state.arc_start[node_mentee + 1]
    identity = len(node_mentor) == len(state.mentors) and bool(
        (node_mentor == np.arange(len(node_mentor))).all()
    )
    head = block.mentor if identity else node_mentor.astype(np.int32)[block.mentor]
    if not n_arcs:
        return np.zeros(len(head), dtype=np.int64), np.zeros(len(head), dtype=bool)
    # Offsets: first[i], first[i] + 1, ... along the pairs of row i, as one running sum of
    # ones with a jump at each row's first pair (one array, no index array beside it).
    scratch = state.scratch
    arc = _scratch(scratch.arc, len(head))
    arc.fill(1)
    rows = np.flatnonzero(degree)
    if len(rows):
        jump = first[rows]
        jump[1:] -= first[rows[:-1]] + degree[rows[:-1]] - 1
        arc[start[rows]] = jump
        np.cumsum(arc, out=arc)
    # The mentor of each arc found, into the capacities' scratch (free until they are set).
    arc_mentor = np.take(
        state.arc_mentor, arc, mode="clip", out=_scratch(scratch.wide.view(np.int32), len(arc))
    )
    held = np.equal(arc_mentor, head, out=_scratch(scratch.held, len(arc)))
    del arc_mentor
    aligned = degree == last - first
    in_block = np.zeros(len(state.mentors), dtype=bool)
    in_block[node_mentor] = True
    # Arcs to mentors the block lacks (gone) are skipped in their rows: rows with fewer pairs
    # than arcs (found per row, no pass over all arcs), realigned when that is the difference.
    touched = np.zeros(0, dtype=np.int64)
    if not in_block.all():
        touched = np.flatnonzero(degree < last - first)
    if len(touched):
        length = (last - first)[touched]
        arcs = _ranges(first[touched], length)
        alive = in_block[state.arc_mentor[arcs]]
        row = np.repeat(np.arange(len(touched)), length)[alive]
        arcs = arcs[alive]
        fits = np.bincount(row, minlength=len(touched)) == degree[touched]
        aligned[touched] = fits
        arcs = arcs[fits[row]]
        edges = _ranges(start[touched[fits]], degree[touched[fits]])
        arc[edges] = arcs
        held[edges] = state.arc_mentor[arcs] == head[edges]
    misaligned = np.flatnonzero(~aligned)
    if len(misaligned):  # their pairs' offsets say nothing
        held[_ranges(start[misaligned], degree[misaligned])] = False
    redo = np.flatnonzero(~held)
    if len(redo) * 8 > len(arc):  # most rows differ (a network of a priced subset): one search
        arc_key = np.repeat(np.arange(len(state.mentees), dtype=np.int64), np.diff(state.arc_start))
        arc_key <<= 32
        arc_key |= state.arc_mentor
        edge_key = np.repeat(node_mentee, degree)
        edge_key <<= 32
        edge_key |= head
        arc = np.searchsorted(arc_key, edge_key)
        held = arc_key.take(arc, mode="clip") == edge_key
    elif len(redo):
        rows = node_mentee[np.searchsorted(start, redo, side="right") - 1]
        found = _csr_find(state.arc_start, state.arc_mentor, rows, head[redo].astype(np.int64))
        arc[redo] = found
        held[redo] = found >= 0
    return arc, held


def _ranges(first: IntArray, length: IntArray) -> IntArray:
    """``first[k], first[k] + 1, ..., first[k] + length[k] - 1`` for every ``k``, in one array."""
    out = np.repeat(first - (np.cumsum(length) - length), length)
    out += np.arange(len(out), dtype=np.int64)
    return out


def _prices(block: Block, state: NetworkState) -> tuple[int, int]:
    """``top`` (a pair costs ``top - weight``) and the bypass cost of ``block`` on the kept
    network: the last ones when they still serve, so that the costs LEMON sees change only where
    weights did.

    Any ``top`` at least the largest weight gives the same optimum (every unit of flow crosses
    one pair or the bypass, so the shift moves all answers of as many pairs alike); the bypass
    must cost ``top`` (a pair is taken when its weight is positive) or, with ``maximize_count``,
    more than any exchange of pairs can gain: a larger one serves as well while LEMON's costs stay
    in range."""
    n = block.n_mentees
    highest = int(block.weight.max(initial=0))
    lowest = int(block.weight.min(initial=0))

    def bypass_for(top: int) -> int:
        if not block.maximize_count:
            return top
        return (min(n, block.n_slots) + 1) * (top - lowest) + 1

    top = state.last.top if highest <= state.last.top else highest
    bypass = bypass_for(top)
    if block.maximize_count:
        bypass = max(bypass, state.last.bypass)
    elif bypass != state.last.bypass:  # without coverage the bypass is top itself
        top = bypass = highest
    if bypass > MAX_BYPASS:  # the last prices are out of range for this block
        top = highest
        bypass = bypass_for(top)
    return top, bypass


_SAME_CHUNK = 1 << 16


def _same(values: IntArray, at: IntArray, expected: IntArray, scratch: IntArray) -> bool:
    """Whether ``values[at]`` equals ``expected``: gathered and compared in chunks that stay in
    cache (into ``scratch``), stopping at the first difference."""
    for lo in range(0, len(at), _SAME_CHUNK):
        hi = min(lo + _SAME_CHUNK, len(at))
        got = np.take(values, at[lo:hi], out=scratch[: hi - lo])
        if not np.array_equal(got, expected[lo:hi]):
            return False
    return True


def _resolve(
    block: Block,
    mentees: IntArray,
    mentors: IntArray,
    state: NetworkState,
    row_start: IntArray | None = None,
) -> IntArray | None:
    """The block re-solved on the kept network, or None when it does not fit or the prices
    say the network lacks a pair the optimum needs."""
    if not _fits(block):
        return None
    old_n, old_m = len(state.mentees), len(state.mentors)
    node_mentee = _nodes(state.mentees, mentees)
    node_mentor = _nodes(state.mentors, mentors)
    if node_mentee is None or node_mentor is None:
        return None
    network = state.network
    n_arcs = len(state.arc_mentor)
    if network.no_edges() != n_arcs + old_m + old_n + 1:  # place arcs per mentor only
        return None
    top, bypass = _prices(block, state)
    costs = np.subtract(top, block.weight, out=_scratch(state.scratch.costs, len(block.weight)))
    arc, held = _arcs(block, node_mentee, node_mentor, state, row_start)
    everything = bool(held.all())
    on = arc if everything else arc[held]
    caps = state.scratch.wide
    caps.fill(0)
    caps[on] = 1
    caps[n_arcs + node_mentor] = block.free
    caps[n_arcs + old_m + node_mentee] = 1
    caps[-1] = old_n
    network.set_edge_capacities(caps)  # copied: the scratch is free again
    # Arcs closed (capacity 0) keep their cost: a changed cost moves the potentials of the
    # basis, and LEMON then pivots more; unchanged costs let it take its fast path.
    last = state.last
    if last.arcs is None:
        last.arcs = np.asarray(network.get_edge_costs())
    arc_costs = last.arcs
    held_costs = costs if everything else costs[held]
    if arc_costs[-1] != bypass or not _same(arc_costs, on, held_costs, caps):
        arc_costs[on] = held_costs
        arc_costs[-1] = bypass
        last.version += 1  # the costs of a ``Source`` no longer hold
        try:
            network.set_edge_costs(arc_costs)
        except BaseException:
            last.arcs = None  # not what the network holds
            raise
    del held_costs, caps
    network.solve()  # warm: from the last basis
    last.top, last.bypass = top, bypass
    if not everything:
        # The network is optimal over the pairs it holds; a pair it lacks could only improve
        # the answer with a negative reduced cost (linear programming duality).
        lacking = np.flatnonzero(~held)
        potential = np.asarray(network.raw_potentials())
        reduced = (
            costs[lacking]
            + potential[node_mentee[block.mentee[lacking]]]
            - potential[old_n + node_mentor[block.mentor[lacking]]]
        )
        if (reduced < 0).any():
            return None
    flow = np.asarray(network.result())
    # The arcs with flow (one per pair of the answer); nonzero of a boolean array is several
    # times faster than of 64-bit flows.
    hit = np.flatnonzero(np.not_equal(flow[:n_arcs], 0, out=state.scratch.flowing))
    del flow
    # Their pairs: ``arc`` is increasing where rows keep their order, so a search of the hit
    # arcs finds them; a pair found is the one of its arc (held pairs have distinct arcs, and
    # only held arcs are open), so when all are found the answer is exact. Otherwise a pass.
    found = np.searchsorted(arc, hit) if len(arc) else np.zeros(0, dtype=np.int64)
    inside = found < len(arc)
    if inside.all():
        found_arc = arc[found]
        if np.array_equal(found_arc, hit) and (everything or bool(held[found].all())):
            return np.sort(found)
    used = np.zeros(n_arcs, dtype=bool)
    used[hit] = True
    if everything:
        return np.flatnonzero(used.take(arc))
    return np.flatnonzero(held & used.take(arc, mode="clip"))
