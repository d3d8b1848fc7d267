"""Exact engines for one block.

- ``hungarian``: ``scipy.optimize.linear_sum_assignment`` on a slot-expanded dense matrix;
- ``network_simplex``: LEMON's network simplex (through ``pylmcf``) on the sparse flow network;
- ``cost_scaling``: OR-Tools' ``SimpleMinCostFlow`` on the same network.

Each takes a :class:`Block` with integer weights and returns the chosen edges. Integer weights
make the engines agree exactly: the Hungarian engine works on integer-valued doubles kept below
2**53, the flow engines on int64 costs kept within their range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pylmcf
from ortools.graph.python import min_cost_flow as ortools_flow
from scipy.optimize import linear_sum_assignment

__all__ = [
    "ENGINES",
    "Block",
    "EngineError",
    "cost_scaling",
    "hungarian",
    "network_simplex",
    "weight_bits",
]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


class EngineError(RuntimeError):
    """An engine failed on a problem it should solve (a bug, never the caller's input)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One independent block of the problem, in local indices.

    With ``maximize_count`` the engine first matches the most mentees, then maximises
    ``sum(weight) - sum(penalties)``; without it, it only maximises that sum, and every
    ``weight`` must be positive. Taking place ``p`` of a mentor (0-based, counting ``used`` places)
    costs ``p * place_penalty``. ``demand`` (None: 1 each) is how many distinct mentors each mentee
    may take: a b-matching, which only the flow engines solve (each pair arc carries one unit).
    """

    n_mentees: int
    n_mentors: int
    mentee: Int32Array
    mentor: Int32Array
    weight: IntArray
    free: IntArray
    used: IntArray
    place_penalty: int
    maximize_count: bool
    demand: IntArray | None = None

    @property
    def n_slots(self) -> int:
        return int(self.free.sum())

    @property
    def n_units(self) -> int:
        """Units of demand: mentees, or the mentors they need in all when ``demand`` is set."""
        return self.n_mentees if self.demand is None else int(self.demand.sum())


def _places(free: IntArray, used: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """One slot per free place: (mentor of each slot, its 0-based place, first slot of each mentor)."""
    first = (np.cumsum(free) - free).astype(np.int64)
    mentor = np.repeat(np.arange(len(free), dtype=np.int64), free)
    place = used[mentor] + np.arange(len(mentor), dtype=np.int64) - first[mentor]
    return mentor, place, first


def _expand_edges(block: Block) -> tuple[IntArray, IntArray, IntArray]:
    """Each edge once per free place of its mentor: (edge index, slot column, place penalty)."""
    _, place, first = _places(block.free, block.used)
    per_edge = block.free[block.mentor]
    edge = np.repeat(np.arange(len(block.mentee), dtype=np.int64), per_edge)
    offset = np.arange(len(edge), dtype=np.int64) - np.repeat(
        np.cumsum(per_edge) - per_edge, per_edge
    )
    column = first[block.mentor[edge]] + offset
    return edge, column, place[column] * block.place_penalty


def hungarian(block: Block) -> IntArray:
    """Solve a small block exactly with ``scipy.optimize.linear_sum_assignment``.

    Each mentor becomes one column per free place; a mentee not paired with a column is
    given cost 0 there, so the assignment of ``min(rows, columns)`` rows never forces a bad pair.
    """
    if block.demand is not None:
        raise EngineError("the Hungarian engine takes one mentor per mentee; use a flow engine")
    edge, column, penalty = _expand_edges(block)
    gain = block.weight[edge] - penalty
    if block.maximize_count:
        # Any answer with one more pair beats any difference in the secondary sum.
        spread = int(np.abs(block.weight).max(initial=0)) + 2 * block.place_penalty
        gain = gain + 2 * block.n_mentees * spread + 1
    useful = gain > 0
    cost = np.zeros((block.n_mentees, block.n_slots))
    cost[block.mentee[edge[useful]], column[useful]] = -gain[useful].astype(np.float64)
    rows, cols = linear_sum_assignment(cost)
    chosen = cost[rows, cols] < 0
    rows, cols = rows[chosen], cols[chosen]
    # Back from (mentee, place) to the edge: edges are sorted by (mentee, mentor).
    slot_mentor, _, _ = _places(block.free, block.used)
    keys = block.mentee.astype(np.int64) * block.n_mentors + block.mentor
    return np.searchsorted(keys, rows * block.n_mentors + slot_mentor[cols]).astype(np.int64)


def cost_scaling(block: Block) -> IntArray:
    """Solve a block exactly as a min-cost flow with OR-Tools' ``SimpleMinCostFlow``.

    With ``maximize_count`` the maximum flow of minimum cost is taken; otherwise a bypass arc
    source -> sink lets mentees stay unmatched when no pair pays.
    """
    n, m = block.n_mentees, block.n_mentors
    bypass = None if block.maximize_count else 0
    tails, heads = _arc_ends(block, None, bypass is not None)
    caps = _arc_capacities(block, None, bypass is not None)
    costs = _arc_costs(block, None, 0, bypass)
    flow = ortools_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    source, sink = n + m, n + m + 1
    units = block.n_units
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([units, -units]))
    status = flow.solve_max_flow_with_min_cost() if block.maximize_count else flow.solve()
    if status != flow.OPTIMAL:
        raise EngineError(f"OR-Tools min-cost flow ended with status {status}")
    return np.flatnonzero(flow.flows(np.arange(len(block.mentee), dtype=np.int32)) > 0)


PRICING_MIN_EDGES = 400_000
"""Blocks with more candidate pairs are solved on a subset of the pairs first and priced out
(``network_simplex``); chosen by measurement (``python -m experiments.bench_solver``)."""
PRICING_DEGREE = 12
"""The first subset holds about the best ``PRICING_DEGREE`` pairs of each mentee ..."""
PRICING_MENTOR_DEGREE = 40
"""... and about the best ``PRICING_MENTOR_DEGREE`` of each mentor (so that a mentee with many
remote pairs keeps the pairs of its own school that its mentors need)."""
PRICING_MAX_SHARE = 0.4
"""Pricing pays when the first subset and its reserve hold at most this share of the pairs
(a tenth on the country instance); otherwise the network holds every pair from the start."""
PRICING_RESERVE = 2
"""The network also holds, switched off, the pairs up to ``PRICING_RESERVE`` times those numbers:
a pair priced in from there is switched on and the network re-solved warm."""
_CHUNK = 1 << 22
"""Pairs at a time in the passes over all pairs made before a network exists ..."""
_PRICING_CHUNK = 1 << 20
"""... and in pricing, while a network is held (the process's peak: about 28 bytes a pair of
the chunk on top of it)."""
KEEP_ALL_MAX_EDGES = 5_000_000
"""A block solved for a kept network (``keep``) holds every pair when it has at most this many
(a cold solve of every pair costs about as much as pricing there, and a warm re-solve far less);
a larger one keeps the priced subset, to bound memory (issue 14: a region in under 3 GB)."""


def network_simplex(block: Block, keep: list[tuple[Any, IntArray]] | None = None) -> IntArray:
    """Solve a block exactly with LEMON's network simplex (``pylmcf``).

    LEMON wants non-negative costs, so a pair costs ``top - weight`` where ``top`` is the
    largest weight: every unit of flow crosses exactly one pair, so the shift changes all
    answers of the same size alike. A bypass arc source -> sink lets a mentee stay unmatched:
    it costs ``top`` (a pair is taken when its weight pays) or, with ``maximize_count``, more
    than any exchange of pairs can gain, so that the most mentees are matched first.

    A block with many pairs (over ``PRICING_MIN_EDGES``) is solved on a subset first when that
    is a small part of them (``PRICING_MAX_SHARE``): about the best ``PRICING_DEGREE`` pairs of
    each mentee and ``PRICING_MENTOR_DEGREE`` of each mentor.
    The optimal potentials of that network price every pair left out (reduced cost
    ``cost + pi[mentee] - pi[mentor]``); the answer is optimal for the whole block when none is
    negative (linear programming duality). Otherwise the negative ones join the subset: switched
    on in place when the network holds them in reserve (arcs priced above the bypass, which no
    optimal flow uses) and re-solved warm from the last basis, or in a network built anew. The
    answer is exact either way; only the work differs.

    Memory (issue 14: a region's 23.7M pairs in under 3 GB): the pairs' costs are never held
    whole (they are ``top - weight``, computed chunk by chunk or straight into the network's
    arrays), and a network is let go before the next one is built.

    ``keep``, a list, receives the solved network and the edges its pair arcs stand for, so that
    ``matching.warm`` can re-solve a changed block from this basis; the network then holds every
    pair of a block of up to ``KEEP_ALL_MAX_EDGES`` (no pricing).
    """
    top = int(block.weight.max(initial=0))
    bypass = top
    if block.maximize_count:
        spread = top - int(block.weight.min(initial=0)) + 2 * block.place_penalty
        bypass = (min(block.n_units, block.n_slots) + 1) * spread + 1
    n_edges = len(block.weight)
    # A network kept for warm re-solves holds every pair (up to KEEP_ALL_MAX_EDGES): the next
    # re-solve then finds each pair's arc by its offset and LEMON prices them all in one scan.
    whole = n_edges <= PRICING_MIN_EDGES or (keep is not None and n_edges <= KEEP_ALL_MAX_EDGES)
    active, reserve = (None, None) if whole else _first_subset(block, top)
    if active is None or reserve is None or (active | reserve).sum() > PRICING_MAX_SHARE * n_edges:
        del active, reserve
        network = _flow_network(block, None, top, bypass)
        network.solve()
        if keep is not None:
            keep.append((network, np.arange(n_edges, dtype=np.int64)))
        return np.flatnonzero(np.asarray(network.result())[:n_edges] > 0)
    switched_off = bypass + 1  # never on an optimal flow: the bypass is always cheaper
    while True:
        edges = np.flatnonzero(active | reserve)
        network = _flow_network(block, edges, top, bypass, (active, switched_off))
        arc_costs = network.get_edge_costs()
        network.solve()
        while True:
            potential = np.asarray(network.raw_potentials())
            priced_in = _negative_reduced_costs(block, top, potential, active)
            active[priced_in] = True
            if not len(priced_in) or not reserve[priced_in].all():
                break
            arcs = np.searchsorted(edges, priced_in)
            arc_costs[arcs] = top - block.weight[priced_in]
            network.set_edge_costs(arc_costs)
            network.solve()  # warm: from the last optimal basis
        if not len(priced_in):
            if keep is not None:
                keep.append((network, edges))
            return edges[np.asarray(network.result())[: len(edges)] > 0]
        reserve &= ~active
        # The next network is built from scratch: this one goes first (at the size of a
        # region, two networks at once were the process's peak, ~0.8 GB more).
        del network, arc_costs, potential, edges


def _cost_buckets(block: Block, top: int) -> npt.NDArray[np.int8]:
    """Each pair's cost ``top - weight`` in 64 buckets (its top bits), chunk by chunk."""
    weight = block.weight
    shift = max(0, (top - int(weight.min(initial=top))).bit_length() - 6)
    bucket = np.empty(len(weight), dtype=np.int8)
    for lo in range(0, len(weight), _CHUNK):
        part = top - weight[lo : lo + _CHUNK]
        part >>= shift
        bucket[lo : lo + _CHUNK] = part  # 0..63
    return bucket


def _first_subset(block: Block, top: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The pairs to start from (``PRICING_DEGREE`` cheapest of each mentee and
    ``PRICING_MENTOR_DEGREE`` of each mentor, all of them when fewer) and those held in reserve
    (up to ``PRICING_RESERVE`` times as many), as masks.

    Costs (``top - weight``) go to 64 buckets (their top bits); a person keeps their pairs up to
    the first bucket that brings them to the wanted number. No sort of all pairs is needed.
    """
    bucket = _cost_buckets(block, top)
    first, more = _bucket_limits(block.mentee, bucket, block.n_mentees, PRICING_DEGREE)
    active = bucket <= first[block.mentee]
    reserve = bucket <= more[block.mentee]
    first, more = _bucket_limits(block.mentor, bucket, block.n_mentors, PRICING_MENTOR_DEGREE)
    active |= bucket <= first[block.mentor]
    reserve |= bucket <= more[block.mentor]
    reserve &= ~active
    return active, reserve


def _bucket_limits(
    person: Int32Array, bucket: npt.NDArray[np.int8], size: int, wanted: int
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """The last bucket each person keeps to have ``wanted`` pairs, and ``PRICING_RESERVE``
    times as many (63, the last of all, when they have fewer)."""
    counts = np.zeros(size << 6, dtype=np.int64)
    for lo in range(0, len(person), _CHUNK):  # the keys of a chunk at a time
        key = person[lo : lo + _CHUNK].astype(np.int64)
        key <<= 6
        key |= bucket[lo : lo + _CHUNK]
        counts += np.bincount(key, minlength=size << 6)
    total = counts.reshape(size, 64)
    np.cumsum(total, axis=1, out=total)
    limits = []
    for enough in (wanted, wanted * PRICING_RESERVE):
        reached = total >= enough
        limits.append(np.where(reached.any(axis=1), reached.argmax(axis=1), 63).astype(np.int8))
    return limits[0], limits[1]


def _negative_reduced_costs(
    block: Block, top: int, potential: IntArray, subset: npt.NDArray[np.bool_]
) -> IntArray:
    """Pairs outside ``subset`` whose reduced cost (``top - weight + pi[mentee] - pi[mentor]``)
    is negative, in chunks of bounded memory."""
    n = block.n_mentees
    found = []
    for lo in range(0, len(block.weight), _PRICING_CHUNK):
        hi = lo + _PRICING_CHUNK
        reduced = potential[block.mentee[lo:hi]] - potential[n + block.mentor[lo:hi]]
        reduced -= block.weight[lo:hi]
        reduced += top
        found.append(lo + np.flatnonzero((reduced < 0) & ~subset[lo:hi]))
    return np.concatenate(found)


def _flow_network(
    block: Block,
    edges: IntArray | None,
    top: int,
    bypass: int,
    switched_off: tuple[npt.NDArray[np.bool_], int] | None = None,
) -> pylmcf.Graph:
    """LEMON's network simplex, ready to solve, on the network of the pairs ``edges`` (None:
    all) at cost ``top - weight``; ``switched_off``: (a mask over all pairs of those that are
    on, the cost of the others). The arrays LEMON copies are made one at a time and let go
    as soon as it has them (LEMON keeps about 100 bytes an arc of its own)."""
    n, m = block.n_mentees, block.n_mentors
    tails, heads = _arc_ends(block, edges)
    network = pylmcf.Graph(n + m + 2, tails, heads)  # arcs come sorted, as LEMON wants
    del tails, heads
    network.set_edge_capacities(_arc_capacities(block, edges))
    costs = _arc_costs(block, edges, top, bypass)
    if switched_off is not None:
        on, cost = switched_off
        assert edges is not None
        e = len(edges)
        costs[:e][~on[edges]] = cost
    network.set_edge_costs(costs)
    del costs
    supply = np.zeros(n + m + 2, dtype=np.int64)
    units = block.n_units
    supply[n + m], supply[n + m + 1] = units, -units
    network.set_node_supply(supply)
    network.set_pivot_rule("first_eligible")  # the fastest on these networks, by measurement
    return network


# The flow network mentee -> mentor -> sink, source -> mentee (and source -> sink), made by the
# three functions below for the pairs ``edges`` of a block (None: all of them), one array at a
# time (LEMON copies each: the next is made once the last is let go).
#
# Every pair arc has capacity 1, so a mentee's units of ``demand`` (the capacity of its arc from
# the source) go to distinct mentors. Nodes: mentees ``0..n-1``, mentors ``n..n+m-1``, source
# ``n+m``, sink ``n+m+1``. Arc ``k`` is pair ``edges[k]`` (pairs are sorted by (mentee, mentor),
# so arcs come sorted by (tail, head)). A mentor has one arc to the sink, or one per place when
# places cost differently. The last arc is the bypass source -> sink when it has a cost.


def _slots(block: Block) -> tuple[IntArray, IntArray, IntArray]:
    """The arcs mentor -> sink: (mentor node, capacity, cost) of each."""
    n, m = block.n_mentees, block.n_mentors
    if block.place_penalty:
        slot_mentor, place, _ = _places(block.free, block.used)
        return slot_mentor + n, np.ones_like(slot_mentor), place * block.place_penalty
    return np.arange(n, n + m, dtype=np.int64), block.free, np.zeros(m, dtype=np.int64)


def _arc_count(block: Block, edges: IntArray | None, bypass: bool) -> tuple[int, int, int]:
    """(pair arcs, mentor -> sink arcs, all arcs)."""
    e = len(block.mentee) if edges is None else len(edges)
    s = int(block.free.sum()) if block.place_penalty else block.n_mentors
    return e, s, e + s + block.n_mentees + int(bypass)


def _arc_ends(
    block: Block, edges: IntArray | None, bypass: bool = True
) -> tuple[Int32Array, Int32Array]:
    """Tails and heads of the arcs (int32, as LEMON and OR-Tools take them)."""
    n, m = block.n_mentees, block.n_mentors
    source, sink = n + m, n + m + 1
    e, s, total = _arc_count(block, edges, bypass)
    tails = np.empty(total, dtype=np.int32)
    heads = np.empty(total, dtype=np.int32)
    if edges is None:
        tails[:e], heads[:e] = block.mentee, block.mentor
    else:  # straight into the network's arrays: no copy of the pairs' indices
        np.take(block.mentee, edges, out=tails[:e])
        np.take(block.mentor, edges, out=heads[:e])
    heads[:e] += n
    tails[e : e + s], heads[e : e + s] = _slots(block)[0], sink
    tails[e + s :], heads[e + s : e + s + n] = source, np.arange(n)
    if bypass:
        heads[-1] = sink
    return tails, heads


def _arc_capacities(block: Block, edges: IntArray | None, bypass: bool = True) -> IntArray:
    """Capacities of the arcs (int64)."""
    e, s, total = _arc_count(block, edges, bypass)
    caps = np.ones(total, dtype=np.int64)
    caps[e : e + s] = _slots(block)[1]
    if block.demand is not None:  # a mentee takes up to its demand, one unit per mentor
        caps[e + s : e + s + block.n_mentees] = block.demand
    if bypass:
        caps[-1] = block.n_units
    return caps


def _arc_costs(block: Block, edges: IntArray | None, top: int, bypass: int | None) -> IntArray:
    """Costs of the arcs (int64): ``top - weight`` for a pair, the bypass cost (None: no
    bypass arc)."""
    e, s, total = _arc_count(block, edges, bypass is not None)
    costs = np.zeros(total, dtype=np.int64)
    pair_costs = costs[:e]
    if edges is None:
        pair_costs[:] = block.weight
    else:
        np.take(block.weight, edges, out=pair_costs)
    np.subtract(top, pair_costs, out=pair_costs)
    costs[e : e + s] = _slots(block)[2]
    if bypass is not None:
        costs[-1] = bypass
    return costs


def weight_bits(
    engine: str,
    n_mentees: int,
    n_mentors: int,
    multiplier: int,
    max_pairs: int | None = None,
) -> int:
    """How many bits integer weights may use so that ``engine`` never overflows on a block.

    The Hungarian engine sums doubles (exact below 2**53); LEMON and OR-Tools sum int64 costs,
    LEMON with a bypass cost of about ``n_mentees * spread`` for the coverage objective (then
    ``multiplier`` is 1), OR-Tools scaling costs by the number of nodes. ``n_mentees`` counts
    units of demand; ``max_pairs`` bounds the pairs of an answer (``min(n_mentees, 3 * n_mentors)``
    by default, the places of mentors of capacity at most 3).
    """
    if max_pairs is None:
        max_pairs = min(n_mentees, 3 * n_mentors)
    pairs = math.ceil(math.log2(max_pairs + 2))
    mentees = math.ceil(math.log2(n_mentees + 1))
    factor = math.ceil(math.log2(multiplier + 1)) if multiplier > 1 else pairs
    if engine == "hungarian":
        return 50 - mentees - pairs - math.ceil(math.log2(multiplier + 1))
    if engine == "network_simplex":
        return 60 - mentees - factor
    return (
        60 - math.ceil(math.log2(n_mentees + n_mentors + 3)) - math.ceil(math.log2(multiplier + 1))
    )


ENGINES = {"hungarian": hungarian, "network_simplex": network_simplex, "cost_scaling": cost_scaling}
