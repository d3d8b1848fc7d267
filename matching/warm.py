"""Warm re-solves of a large block: LEMON's network kept from the last solve, changed in place.

After a curator confirms or rejects a pair, or a person leaves, the block of the next run is the
old one with pairs, mentees or places taken away. Its network is the old network with those arcs
closed (capacity 0) and every cost set anew; LEMON re-solves it from the last optimal basis
(``pylmcf`` repairs the basis after cost and capacity changes), which costs a fraction of a cold
solve. The potentials of the answer then price every pair of the new block that the network
does not hold (the old network may hold a subset, ``engines.network_simplex``): none negative
proves the answer optimal (linear programming duality); otherwise the block is solved cold.
Either way the answer is exact.

Only blocks without place penalties and demands are kept (one arc per mentor to the sink, one
unit per mentee) and only in the
process that solved them; the new block must have no mentee or mentor the old network lacks
(pairs it lacks are priced). Nodes and arcs stand for problem indices: a caller that renumbers
people only makes the start worse, never the answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.engines import Block, _negative_reduced_costs, network_simplex

__all__ = ["NetworkState", "solve_network"]

IntArray = npt.NDArray[np.int64]

KEEP_MIN_EDGES = 50_000
"""Blocks with fewer pairs are not kept: a cold solve costs little there."""


@dataclass
class NetworkState:
    """A solved block's network and what its nodes and pair arcs stand for (problem indices)."""

    network: Any  # pylmcf.Graph
    mentees: IntArray  # node k < n stands for this mentee of the problem (-1: gone)
    mentors: IntArray  # node n + k stands for this mentor (-1: gone)
    arc_key: IntArray  # pair arc a joins mentee node << 32 | mentor node k (sorted)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
            self.arc_key,
            self.lock,
        )

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        # A kept network lives in the process that solved it: sent elsewhere (a Dask worker),
        # it arrives as None and the block there is solved cold.
        return (_lost, ())


def _lost() -> None:
    return None


def _key(mentee: Any, mentor: Any) -> IntArray:
    return (mentee.astype(np.int64) << 32) | mentor.astype(np.int64)


def solve_network(
    block: Block, mentees: IntArray, mentors: IntArray, states: list[NetworkState | None]
) -> tuple[IntArray, NetworkState | None, bool]:
    """Solve ``block`` (its people are ``mentees`` and ``mentors`` of the problem) with the
    network simplex, from one of ``states`` when one fits; return the chosen edges, the state to
    keep for the next time (None for a small block) and whether it was re-solved warm."""
    for state in states:
        if state is None or not state.lock.acquire(blocking=False):
            continue
        try:
            picked = _resolve(block, mentees, mentors, state)
        finally:
            state.lock.release()
        if picked is not None:
            return picked, state, True
    if len(block.mentee) < KEEP_MIN_EDGES or not _fits(block):
        return network_simplex(block), None, False
    kept: list[tuple[Any, IntArray]] = []
    picked = network_simplex(block, keep=kept)
    network, edges = kept[0]
    arc_key = _key(block.mentee[edges], block.mentor[edges])
    return picked, NetworkState(network, mentees.copy(), mentors.copy(), arc_key), False


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


def _resolve(
    block: Block, mentees: IntArray, mentors: IntArray, state: NetworkState
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
    n_arcs = len(state.arc_key)
    if network.no_edges() != n_arcs + old_m + old_n + 1:  # place arcs per mentor only
        return None
    n = block.n_mentees
    top = int(block.weight.max(initial=0))
    bypass = top
    if block.maximize_count:
        spread = top - int(block.weight.min(initial=0))
        bypass = (min(n, block.n_slots) + 1) * spread + 1
    costs = top - block.weight
    edge_key = _key(node_mentee[block.mentee], node_mentor[block.mentor])
    arc = np.searchsorted(state.arc_key, edge_key)
    held = arc < n_arcs
    held[held] = state.arc_key[arc[held]] == edge_key[held]
    caps = np.zeros(n_arcs + old_m + old_n + 1, dtype=np.int64)
    arc_costs = np.full(len(caps), bypass + 1, dtype=np.int64)
    caps[arc[held]] = 1
    arc_costs[arc[held]] = costs[held]
    caps[n_arcs + node_mentor] = block.free
    arc_costs[n_arcs : n_arcs + old_m] = 0
    caps[n_arcs + old_m + node_mentee] = 1
    arc_costs[n_arcs + old_m : n_arcs + old_m + old_n] = 0
    caps[-1], arc_costs[-1] = old_n, bypass
    network.set_edge_capacities(caps)
    network.set_edge_costs(arc_costs)
    network.solve()  # warm: from the last basis
    potential = np.asarray(network.raw_potentials())
    local = np.concatenate([potential[node_mentee], potential[old_n + node_mentor]])
    if len(_negative_reduced_costs(block, costs, local, held)):
        return None
    flow = np.asarray(network.result())[:n_arcs]
    return np.flatnonzero(held & (flow[np.minimum(arc, n_arcs - 1)] > 0))
