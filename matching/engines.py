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


class EngineError(RuntimeError):
    """An engine failed on a problem it should solve (a bug, never the caller's input)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One independent block of the problem, in local indices.

    With ``maximize_count`` the engine first matches the most mentees, then maximises
    ``sum(weight) - sum(penalties)``; without it, it only maximises that sum, and every
    ``weight`` must be positive. Taking place ``p`` of a mentor (0-based, counting ``used`` places)
    costs ``p * place_penalty``.
    """

    n_mentees: int
    n_mentors: int
    mentee: IntArray
    mentor: IntArray
    weight: IntArray
    free: IntArray
    used: IntArray
    place_penalty: int
    maximize_count: bool

    @property
    def n_slots(self) -> int:
        return int(self.free.sum())


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
    keys = block.mentee * block.n_mentors + block.mentor
    return np.searchsorted(keys, rows * block.n_mentors + slot_mentor[cols]).astype(np.int64)


def cost_scaling(block: Block) -> IntArray:
    """Solve a block exactly as a min-cost flow with OR-Tools' ``SimpleMinCostFlow``.

    With ``maximize_count`` the maximum flow of minimum cost is taken; otherwise a bypass arc
    source -> sink lets mentees stay unmatched when no pair pays.
    """
    n, m = block.n_mentees, block.n_mentors
    bypass = None if block.maximize_count else 0
    tails, heads, caps, costs = _network(block, -block.weight, bypass)
    flow = ortools_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    source, sink = n + m, n + m + 1
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([n, -n]))
    status = flow.solve_max_flow_with_min_cost() if block.maximize_count else flow.solve()
    if status != flow.OPTIMAL:
        raise EngineError(f"OR-Tools min-cost flow ended with status {status}")
    return np.flatnonzero(flow.flows(np.arange(len(block.mentee), dtype=np.int32)) > 0)


def network_simplex(block: Block) -> IntArray:
    """Solve a block exactly with LEMON's network simplex (``pylmcf``).

    LEMON wants non-negative costs, so a pair costs ``top - weight`` where ``top`` is the
    largest weight: every unit of flow crosses exactly one pair, so the shift changes all
    answers of the same size alike. A bypass arc source -> sink lets a mentee stay unmatched:
    it costs ``top`` (a pair is taken when its weight pays) or, with ``maximize_count``, more
    than any exchange of pairs can gain, so that the most mentees are matched first.
    """
    n, m = block.n_mentees, block.n_mentors
    top = int(block.weight.max(initial=0))
    bypass = top
    if block.maximize_count:
        spread = top - int(block.weight.min(initial=0)) + 2 * block.place_penalty
        bypass = (min(n, block.n_slots) + 1) * spread + 1
    tails, heads, caps, costs = _network(block, top - block.weight, bypass)
    network = pylmcf.Graph(n + m + 2, tails, heads)  # _network lists arcs sorted, as LEMON wants
    network.set_edge_capacities(caps)
    network.set_edge_costs(costs)
    supply = np.zeros(n + m + 2, dtype=np.int64)
    supply[n + m], supply[n + m + 1] = n, -n
    network.set_node_supply(supply)
    network.set_pivot_rule("first_eligible")  # the fastest on these networks, by measurement
    network.solve()
    return np.flatnonzero(np.asarray(network.result())[: len(block.mentee)] > 0)


def _network(
    block: Block, edge_costs: IntArray, bypass_cost: int | None
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The flow network mentee -> mentor -> sink, source -> mentee (and source -> sink).

    Nodes: mentees ``0..n-1``, mentors ``n..n+m-1``, source ``n+m``, sink ``n+m+1``. Arc ``e``
    is edge ``e``; arcs come sorted by (tail, head) because edges are sorted by (mentee, mentor).
    A mentor has one arc to the sink, or one per place when places cost differently. The bypass
    arc source -> sink is added when ``bypass_cost`` is given. Returns tails, heads, capacities
    and costs.
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
    extra = [] if bypass_cost is None else [1]
    tails = np.concatenate([block.mentee, slot_tails, np.full(n + len(extra), source)])
    heads = np.concatenate(
        [block.mentor + n, np.full(len(slot_tails), sink), np.arange(n), np.full(len(extra), sink)]
    )
    caps = np.concatenate(
        [np.ones(len(block.mentee)), slot_caps, np.ones(n), np.full(len(extra), n)]
    )
    costs = np.concatenate(
        [edge_costs, slot_costs, np.zeros(n), np.full(len(extra), bypass_cost or 0)]
    )
    return (
        tails.astype(np.int64),
        heads.astype(np.int64),
        caps.astype(np.int64),
        costs.astype(np.int64),
    )


def weight_bits(engine: str, n_mentees: int, n_mentors: int, multiplier: int) -> int:
    """How many bits integer weights may use so that ``engine`` never overflows on a block.

    The Hungarian engine sums doubles (exact below 2**53); LEMON and OR-Tools sum int64 costs,
    LEMON with a bypass cost of about ``n_mentees * spread`` for the coverage objective (then
    ``multiplier`` is 1), OR-Tools scaling costs by the number of nodes.
    """
    pairs = math.ceil(math.log2(min(n_mentees, 3 * n_mentors) + 2))
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
