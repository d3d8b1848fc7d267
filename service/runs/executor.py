"""Where the solver runs: a thread pool of this process, or Dask for many schools at once.

The service builds :class:`matching.Problem` objects and hands them here; this module only
decides where ``matching.solve`` runs. Splitting a municipality batch into its independent blocks
(schools, or groups of schools joined by virtual pairs) is the solver's own work:
``matching.solve(problem, map=...)`` runs the blocks with the ``map`` it is given — this pool's,
or a Dask cluster's (a local one, or a remote scheduler).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from matching import Matching, Problem, solve
from service.runs.cache import RunCache

__all__ = ["Solver"]

log = logging.getLogger("nastavnik.service.solving")


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
        self.cache = RunCache()  # scores and last answers of recent runs (warm runs)

    def solve(
        self, problem: Problem, warm: Matching | None = None, keep_networks: bool = False
    ) -> Matching:
        """Solve one problem in the pool and wait for the answer (``warm``, ``keep_networks``: see
        ``matching.solve``)."""
        return self._pool.submit(
            lambda: solve(problem, warm=warm, keep_networks=keep_networks)
        ).result()

    def solve_batch(self, problem: Problem) -> list[tuple[int, int]]:
        """Solve a large problem block by block, the blocks in parallel; return its pairs."""
        return self.batch(problem).pairs

    def batch(
        self, problem: Problem, warm: Matching | None = None, keep_networks: bool = False
    ) -> Matching:
        """Solve a large problem block by block, the blocks in parallel (``warm``, ``keep_networks``: see
        ``matching.solve``).

        The caller's thread splits and gathers (a request already runs off the event loop); only
        the blocks go to the pool, so two batches at once cannot wait for each other's threads.
        """
        result = solve(problem, map=self._map(), warm=warm, keep_networks=keep_networks)
        log.info(
            "batch solved: %d blocks, %d reused, %d warm (%d in place)",
            result.info.get("blocks", 0),
            result.info.get("reused", 0),
            result.info.get("warm", 0),
            result.info.get("in_place", 0),
        )
        return result

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

    def _map(self) -> Callable[[Callable[..., Any], Iterable[Any]], Iterable[Any]]:
        if not self._dask_scheduler:
            return self._pool.map
        client = self._dask()
        return lambda function, blocks: client.gather(client.map(function, list(blocks)))

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
