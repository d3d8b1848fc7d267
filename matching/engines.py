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
    tails, heads, caps, costs = _network(block, block.mentee, block.mentor, -block.weight, bypass)
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
_PRICING_CHUNK = 1 << 22
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

    ``keep``, a list, receives the solved network and the edges its pair arcs stand for, so that
    ``matching.warm`` can re-solve a changed block from this basis; the network then holds every
    pair of a block of up to ``KEEP_ALL_MAX_EDGES`` (no pricing).
    """
    top = int(block.weight.max(initial=0))
    bypass = top
    if block.maximize_count:
        spread = top - int(block.weight.min(initial=0)) + 2 * block.place_penalty
        bypass = (min(block.n_units, block.n_slots) + 1) * spread + 1
    costs = top - block.weight
    # A network kept for warm re-solves holds every pair (up to KEEP_ALL_MAX_EDGES): the next
    # re-solve then finds each pair's arc by its offset and LEMON prices them all in one scan.
    whole = len(costs) <= PRICING_MIN_EDGES or (
        keep is not None and len(costs) <= KEEP_ALL_MAX_EDGES
    )
    active, reserve = (None, None) if whole else _first_subset(block, costs)
    if (
        active is None
        or reserve is None
        or (active | reserve).sum() > PRICING_MAX_SHARE * len(costs)
    ):
        network = _flow_network(block, block.mentee, block.mentor, costs, bypass)
        network.solve()
        if keep is not None:
            keep.append((network, np.arange(len(costs), dtype=np.int64)))
        return np.flatnonzero(np.asarray(network.result())[: len(costs)] > 0)
    switched_off = bypass + 1  # never on an optimal flow: the bypass is always cheaper
    while True:
        edges = np.flatnonzero(active | reserve)
        edge_costs = np.where(active[edges], costs[edges], switched_off)
        network = _flow_network(block, block.mentee[edges], block.mentor[edges], edge_costs, bypass)
        arc_costs = network.get_edge_costs()
        network.solve()
        while True:
            potential = np.asarray(network.raw_potentials())
            priced_in = _negative_reduced_costs(block, costs, potential, active)
            active[priced_in] = True
            if not len(priced_in) or not reserve[priced_in].all():
                break
            arcs = np.searchsorted(edges, priced_in)
            arc_costs[arcs] = costs[priced_in]
            network.set_edge_costs(arc_costs)
            network.solve()  # warm: from the last optimal basis
        if not len(priced_in):
            if keep is not None:
                keep.append((network, edges))
            return edges[np.asarray(network.result())[: len(edges)] > 0]
        reserve &= ~active


def _first_subset(
    block: Block, costs: IntArray
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The pairs to start from (``PRICING_DEGREE`` cheapest of each mentee and
    ``PRICING_MENTOR_DEGREE`` of each mentor, all of them when fewer) and those held in reserve
    (up to ``PRICING_RESERVE`` times as many), as masks.

    Costs go to 64 buckets (their top bits); a person keeps their pairs up to the first bucket
    that brings them to the wanted number. No sort of all pairs is needed.
    """
    shift = max(0, int(costs.max(initial=0)).bit_length() - 6)
    bucket = (costs >> shift).astype(np.int8)  # 0..63
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
    key = person.astype(np.int64) << 6
    key |= bucket
    counts = np.bincount(key, minlength=size << 6).reshape(size, 64)
    del key
    total = np.cumsum(counts, axis=1, out=counts)
    limits = []
    for enough in (wanted, wanted * PRICING_RESERVE):
        reached = total >= enough
        limits.append(np.where(reached.any(axis=1), reached.argmax(axis=1), 63).astype(np.int8))
    return limits[0], limits[1]


def _negative_reduced_costs(
    block: Block, costs: IntArray, potential: IntArray, subset: npt.NDArray[np.bool_]
) -> IntArray:
    """Pairs outside ``subset`` whose reduced cost is negative, in chunks of bounded memory."""
    n = block.n_mentees
    found = []
    for lo in range(0, len(costs), _PRICING_CHUNK):
        hi = lo + _PRICING_CHUNK
        reduced = costs[lo:hi] + potential[block.mentee[lo:hi]] - potential[n + block.mentor[lo:hi]]
        found.append(lo + np.flatnonzero((reduced < 0) & ~subset[lo:hi]))
    return np.concatenate(found)


def _flow_network(
    block: Block, mentee: Int32Array, mentor: Int32Array, edge_costs: IntArray, bypass: int
) -> pylmcf.Graph:
    """LEMON's network simplex, ready to solve, on the network of the given pairs."""
    n, m = block.n_mentees, block.n_mentors
    tails, heads, caps, costs = _network(block, mentee, mentor, edge_costs, bypass)
    network = pylmcf.Graph(n + m + 2, tails, heads)  # _network lists arcs sorted, as LEMON wants
    del tails, heads
    network.set_edge_capacities(caps)
    network.set_edge_costs(costs)
    del caps, costs
    supply = np.zeros(n + m + 2, dtype=np.int64)
    units = block.n_units
    supply[n + m], supply[n + m + 1] = units, -units
    network.set_node_supply(supply)
    network.set_pivot_rule("first_eligible")  # the fastest on these networks, by measurement
    return network


def _network(
    block: Block,
    mentee: Int32Array,
    mentor: Int32Array,
    edge_costs: IntArray,
    bypass_cost: int | None,
) -> tuple[Int32Array, Int32Array, IntArray, IntArray]:
    """The flow network mentee -> mentor -> sink, source -> mentee (and source -> sink).

    Every pair arc has capacity 1, so a mentee's units of ``demand`` (the capacity of its arc from
    the source) go to distinct mentors.

    Nodes: mentees ``0..n-1``, mentors ``n..n+m-1``, source ``n+m``, sink ``n+m+1``. Arc ``e``
    is pair ``e`` of ``mentee``, ``mentor`` (sorted by (mentee, mentor), so arcs come sorted by
    (tail, head)). A mentor has one arc to the sink, or one per place when places cost
    differently. The bypass arc source -> sink is added when ``bypass_cost`` is given. Returns
    tails and heads (int32, as LEMON and OR-Tools take them), capacities and costs.
    """
    n, m = block.n_mentees, block.n_mentors
    source, sink = n + m, n + m + 1
    if block.place_penalty:
        slot_mentor, place, _ = _places(block.free, block.used)
        slot_tails, slot_caps = slot_mentor + n, np.ones_like(slot_mentor)
        slot_costs = place * block.place_penalty
    else:
        slot_tails, slot_caps = np.arange(n, n + m, dtype=np.int64), block.free
        slot_costs = np.zeros(m, dtype=np.int64)
    extra = 0 if bypass_cost is None else 1
    e, s = len(mentee), len(slot_tails)
    total = e + s + n + extra
    tails = np.empty(total, dtype=np.int32)
    heads = np.empty(total, dtype=np.int32)
    caps = np.ones(total, dtype=np.int64)
    costs = np.zeros(total, dtype=np.int64)
    tails[:e], heads[:e], costs[:e] = mentee, mentor, edge_costs
    heads[:e] += n
    tails[e : e + s], heads[e : e + s] = slot_tails, sink
    caps[e : e + s], costs[e : e + s] = slot_caps, slot_costs
    tails[e + s :], heads[e + s : e + s + n] = source, np.arange(n)
    if block.demand is not None:  # a mentee takes up to its demand, one unit per mentor
        caps[e + s : e + s + n] = block.demand
    if bypass_cost is not None:
        heads[-1], caps[-1], costs[-1] = sink, block.n_units, bypass_cost
    return tails, heads, caps, costs


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
