"""Exact engines for one block: the Hungarian algorithm on a slot-expanded matrix, and min-cost flow.

Both take a :class:`Block` with integer weights and return the chosen edges. Integer weights make
the two engines agree exactly: the Hungarian engine works on integer-valued doubles kept below
2**53, the flow engine on int64 costs kept within OR-Tools' range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

__all__ = ["Block", "EngineError", "hungarian", "min_cost_flow"]

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
    # Map (row, slot column) back to the edge that produced it.
    lookup = np.full((block.n_mentees, block.n_slots), -1, dtype=np.int64)
    lookup[block.mentee[edge[useful]], column[useful]] = edge[useful]
    return np.sort(lookup[rows, cols])


def min_cost_flow(block: Block) -> IntArray:
    """Solve a block exactly as a min-cost flow with OR-Tools' ``SimpleMinCostFlow``.

    source -> mentee (capacity 1) -> mentor (capacity 1, cost -weight) -> sink (free places).
    With ``maximize_count`` the maximum flow of minimum cost is taken; otherwise a bypass arc
    source -> sink lets mentees stay unmatched when no pair pays.
    """
    from ortools.graph.python import min_cost_flow as mcf

    n, m = block.n_mentees, block.n_mentors
    source, sink = n + m, n + m + 1
    n_edges = len(block.mentee)
    mentee_nodes = np.arange(n, dtype=np.int64)
    mentor_nodes = np.arange(n, n + m, dtype=np.int64)
    if block.place_penalty:
        # One arc per place, each dearer than the last: the flow fills cheaper places first.
        slot_mentor, place, _ = _places(block.free, block.used)
        slot_tails = mentor_nodes[slot_mentor]
        slot_caps, slot_costs = np.ones_like(slot_mentor), place * block.place_penalty
    else:
        slot_tails, slot_caps, slot_costs = mentor_nodes, block.free, np.zeros(m, dtype=np.int64)
    tails = [np.full(n, source), block.mentee, slot_tails]
    heads = [mentee_nodes, block.mentor + n, np.full(len(slot_tails), sink)]
    caps = [np.ones(n, dtype=np.int64), np.ones(n_edges, dtype=np.int64), slot_caps]
    costs = [np.zeros(n, dtype=np.int64), -block.weight, slot_costs]
    if not block.maximize_count:
        tails.append(np.array([source]))
        heads.append(np.array([sink]))
        caps.append(np.array([n]))
        costs.append(np.array([0]))
    flow = mcf.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([n, -n]))
    status = flow.solve_max_flow_with_min_cost() if block.maximize_count else flow.solve()
    if status != flow.OPTIMAL:
        raise EngineError(f"OR-Tools min-cost flow ended with status {status}")
    edge_arcs = np.arange(n, n + n_edges, dtype=np.int32)
    return np.flatnonzero(flow.flows(edge_arcs) > 0).astype(np.int64)
