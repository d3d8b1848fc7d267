"""Where the solver runs: a thread pool of this process, or Dask for many schools at once.

The service builds :class:`matching.Problem` objects and hands them here; this module only
decides where ``matching.solve`` runs. A municipality batch is split into its independent
blocks (connected components of the allowed pairs: schools, or groups of schools joined by
virtual pairs), and the blocks run in parallel on a local Dask cluster or a remote scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from matching import Matching, Problem, solve

__all__ = ["Block", "Solver", "split_blocks"]

log = logging.getLogger("nastavnik.service.runs.executor")


@dataclass(frozen=True)
class Block:
    """A sub-problem over some mentees (``rows``) and mentors (``columns``) of a larger one."""

    rows: np.ndarray
    columns: np.ndarray
    problem: Problem


def _edges(problem: Problem) -> sp.csr_array:
    candidates = problem.candidates
    mentee = np.concatenate([candidates.mentee, [i for i, _ in problem.pinned]]).astype(np.int64)
    mentor = np.concatenate([candidates.mentor, [j for _, j in problem.pinned]]).astype(np.int64)
    return sp.csr_array(
        (np.ones(len(mentee)), (mentee, mentor)), shape=(problem.n_mentees, problem.n_mentors)
    )


def split_blocks(problem: Problem) -> list[Block]:
    """Split ``problem`` into independent sub-problems (no candidate pair joins two of them).

    Mentees and mentors with no candidate pair at all are left out: they cannot be matched.
    """
    edges = _edges(problem)
    n, m = edges.shape
    graph = sp.block_array([[None, edges], [edges.T, None]], format="csr")
    count, labels = connected_components(graph, directed=False)
    blocks = []
    degree = np.concatenate([np.diff(edges.indptr), np.bincount(edges.indices, minlength=m)])
    for label in range(count):
        members = np.flatnonzero((labels == label) & (degree > 0))
        rows, columns = members[members < n], members[members >= n] - n
        if not len(rows) or not len(columns):
            continue
        blocks.append(Block(rows, columns, _restrict(problem, rows, columns)))
    return blocks


def _restrict(problem: Problem, rows: np.ndarray, columns: np.ndarray) -> Problem:
    row_of = {int(i): k for k, i in enumerate(rows)}
    column_of = {int(j): k for k, j in enumerate(columns)}

    def inside(pairs: Any) -> list[tuple[int, int]]:
        return [(row_of[i], column_of[j]) for i, j in pairs if i in row_of and j in column_of]

    scores = sp.csr_array(problem.scores) if sp.issparse(problem.scores) else problem.scores
    allowed = problem.allowed
    return Problem(
        scores[rows][:, columns],
        problem.capacity[columns],
        allowed=None if allowed is None else allowed[rows][:, columns],
        min_score=problem.min_score,
        load=problem.load[columns],
        pinned=inside(problem.pinned),
        forbidden=inside(problem.forbidden),
        objective=problem.objective,
        load_penalty=problem.load_penalty,
        priority=problem.priority[rows],
    )


class Solver:
    """Solves problems off the event loop.

    Parameters
    ----------
    workers : int
        Threads of the local pool (one school's problem is small: threads are enough).
    dask_scheduler : str or None
        None: batches use the local pool too. ``"local"``: a Dask ``LocalCluster`` started on
        first use. ``"tcp://host:port"``: an existing Dask scheduler.
    """

    def __init__(self, workers: int = 2, dask_scheduler: str | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="solver")
        self._dask_scheduler = dask_scheduler
        self._client: Any = None

    def solve(self, problem: Problem) -> Matching:
        """Solve one problem in the pool and wait for the answer."""
        return self._pool.submit(solve, problem).result()

    def solve_batch(self, problem: Problem) -> list[tuple[int, int]]:
        """Solve a large problem block by block; return its pairs in its own indices."""
        blocks = split_blocks(problem)
        if self._dask_scheduler:
            results = self._dask().gather(self._dask().map(solve, [b.problem for b in blocks]))
        else:
            results = list(self._pool.map(solve, [b.problem for b in blocks]))
        log.info("batch solved: %d blocks", len(blocks))
        pairs = [
            (int(block.rows[i]), int(block.columns[j]))
            for block, result in zip(blocks, results, strict=True)
            for i, j in result.pairs
        ]
        return sorted(pairs)

    def map_blocks(self, function: Callable[[Any], Any], blocks: Sequence[Any]) -> list[Any]:
        """Run ``function`` on each block where batches run (Dask workers, or the local pool),
        and return the results in order. Each block is scored and solved inside the worker, so
        only the block's inputs and its (small) result travel."""
        if not blocks:
            return []
        if self._dask_scheduler:
            client = self._dask()
            return list(client.gather(client.map(function, list(blocks), pure=False)))
        return list(self._pool.map(function, blocks))

    def _dask(self) -> Any:
        if self._client is None:
            from dask.distributed import Client, LocalCluster

            if self._dask_scheduler == "local":
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
                self._client = Client(cluster)
            else:
                self._client = Client(self._dask_scheduler)
        return self._client

    def close(self) -> None:
        """Stop the pool and any Dask client this solver started."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            cluster = self._client.cluster
            self._client.close()
            if cluster is not None:
                cluster.close()
            self._client = None
