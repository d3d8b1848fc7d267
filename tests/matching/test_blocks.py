"""Blocks: split into independent sub-problems, solved anywhere (``map``), and large blocks priced."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings

import matching.engines as engines
from matching import Problem, blocks, solve, violations
from tests.matching.reference import objective_of, optimum
from tests.matching.strategies import problems

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def schools(seed: int = 3, count: int = 5) -> Problem:
    """Schools of different sizes, two of them joined by one remote pair, with decisions."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.uniform(size=(int(rng.integers(100, 200)), int(rng.integers(40, 80))))
        for _ in range(count)
    ]
    scores = sp.lil_array(sp.block_diag(parts, format="csr"))
    scores[0, scores.shape[1] - 1] = 0.95  # a remote pair joins the first and the last school
    n, m = scores.shape
    capacity = rng.integers(0, 4, size=m)
    return Problem(
        sp.csr_array(scores),
        capacity,
        min_score=0.2,
        pinned=[(1, int(np.flatnonzero(capacity)[0]))],
        forbidden=[(2, 0), (3, 1)],
        priority=rng.integers(0, 2, size=n) * 0.5,
        load_penalty=0.1,
    )


@pytest.fixture
def pricing() -> Iterator[None]:
    """Every block goes through pricing, starting from about one pair per mentee and mentor."""
    names = ("PRICING_MIN_EDGES", "PRICING_DEGREE", "PRICING_MENTOR_DEGREE", "PRICING_MAX_SHARE")
    saved = [getattr(engines, name) for name in names]
    for name, value in zip(names, (0, 1, 1, 1.0), strict=True):
        setattr(engines, name, value)
    yield
    for name, value in zip(names, saved, strict=True):
        setattr(engines, name, value)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(problems(max_mentees=10, max_mentors=6))
def test_priced_network_simplex_is_exactly_optimal(pricing: None, problem: Problem) -> None:
    result = solve(problem, engine="network_simplex")
    assert violations(problem, result.pairs) == []
    got, best = objective_of(problem, result.pairs), optimum(problem)
    assert (got.count, got.value) == (best.count, pytest.approx(best.value, abs=1e-6))


def test_pricing_adds_the_pairs_the_first_subset_missed(pricing: None) -> None:
    # Each mentee's best pair is with mentor 0 (one place): the optimum needs second choices.
    scores = np.array([[0.9, 0.8, 0.1], [0.9, 0.1, 0.7], [0.9, 0.3, 0.2]])
    result = solve(Problem(scores, capacity=[1, 1, 1]), engine="network_simplex")
    assert result.pairs == [(0, 1), (1, 2), (2, 0)]


def test_pricing_that_builds_its_network_anew_stays_exact(
    pricing: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pairs priced in from outside the reserve: the network is let go and built again on the
    # larger subset (each round's network freed before the next, issue 14).
    built: list[bool] = []
    flow_network = engines._flow_network

    def counted(block: Any, edges: Any, *args: Any) -> Any:
        built.append(edges is not None)
        return flow_network(block, edges, *args)

    monkeypatch.setattr(engines, "_flow_network", counted)
    for seed in range(1, 5):
        rng = np.random.default_rng(seed)
        problem = Problem(rng.random((12, 6)).round(3), capacity=rng.integers(1, 3, 6))
        built.clear()
        result = solve(problem, engine="network_simplex")
        assert built == [True, True]  # a subset, then a larger one
        assert violations(problem, result.pairs) == []
        best = solve(problem, engine="cost_scaling")
        assert result.n_matched == best.n_matched
        assert result.total_score == pytest.approx(best.total_score, abs=1e-9)


@SETTINGS
@given(problems(max_mentees=12, max_mentors=8))
def test_map_gives_the_same_answer(problem: Problem) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert solve(problem, map=pool.map) == solve(problem)


def test_map_runs_every_block_once() -> None:
    problem = schools()
    calls: list[Any] = []

    def recording_map(function: Any, items: Any) -> list[Any]:
        items = list(items)
        calls.append(len(items))
        return [function(item) for item in items]

    result = solve(problem, map=recording_map)
    assert calls == [result.info["blocks"]] == [4]
    assert result == solve(problem)


def test_blocks_partition_the_people_and_solve_to_the_same_optimum() -> None:
    problem = schools()
    parts = blocks(problem)
    assert len(parts) == 4  # five schools, two joined by the remote pair
    mentees = np.concatenate([part.mentees for part in parts])
    mentors = np.concatenate([part.mentors for part in parts])
    assert len(set(mentees.tolist())) == len(mentees)
    assert len(set(mentors.tolist())) == len(mentors)
    pairs = sorted(
        (int(part.mentees[i]), int(part.mentors[j]))
        for part in parts
        for i, j in solve(part.problem).pairs
    )
    whole = solve(problem)
    assert violations(problem, pairs) == []
    assert objective_of(problem, pairs) == objective_of(problem, whole.pairs)
    assert set(problem.pinned) <= set(pairs)


@SETTINGS
@given(problems(max_mentees=10, max_mentors=6))
def test_blocks_lose_nothing(problem: Problem) -> None:
    pairs = sorted(
        (int(part.mentees[i]), int(part.mentors[j]))
        for part in blocks(problem)
        for i, j in solve(part.problem).pairs
    )
    assert violations(problem, pairs) == []
    got, best = objective_of(problem, pairs), objective_of(problem, solve(problem).pairs)
    assert (got.count, got.value) == (best.count, pytest.approx(best.value, abs=1e-9))


def test_restrict_counts_a_place_pinned_outside_as_load() -> None:
    problem = Problem(np.array([[0.9, 0.1], [0.8, 0.2]]), capacity=[2, 1], pinned=[(0, 0)])
    part = problem.restrict([1], [0])
    assert part.load.tolist() == [1]
    assert part.pinned == ()
    assert solve(part).pairs == [(0, 0)]


def test_map_in_a_process_pool() -> None:
    # Blocks and the function pickle: they can run in other processes.
    problem = schools(seed=5, count=8)
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert solve(problem, map=pool.map) == solve(problem)


def test_map_on_dask() -> None:
    # A Dask cluster of processes works the same way but takes ~10-30 s to start on a shared
    # machine; in-process workers check the client.map + gather wrapper.
    distributed = pytest.importorskip("dask.distributed")
    problem = schools(seed=5, count=8)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):

        def dask_map(function: Any, items: Any) -> Any:
            return client.gather(client.map(function, list(items), pure=False))

        assert solve(problem, map=dask_map) == solve(problem)


def _with(problem: Problem, **changes: Any) -> Problem:
    """The same problem with some arguments changed (a curator's decision, a person leaving)."""
    arguments = {
        "scores": problem.scores,
        "capacity": problem.capacity,
        "allowed": problem.allowed,
        "min_score": problem.min_score,
        "load": problem.load,
        "pinned": problem.pinned,
        "forbidden": problem.forbidden,
        "objective": problem.objective,
        "load_penalty": problem.load_penalty,
        "priority": problem.priority,
        "demand": problem.demand,
        "max_capacity": problem.max_capacity,
    }
    return Problem(**{**arguments, **changes})


def test_warm_solve_re_solves_only_the_touched_block() -> None:
    before = schools()
    previous = solve(before)
    # The curator rejects one proposed pair in the last school.
    rejected = previous.pairs[-1]
    after = _with(before, forbidden=[*before.forbidden, rejected])
    warm = solve(after, warm=previous)
    assert warm == solve(after)
    assert rejected not in warm.pairs
    assert warm.info["reused"] == warm.info["blocks"] - 1
    # Nothing changed: every block is reused.
    assert solve(after, warm=warm).info["reused"] == warm.info["blocks"]


@SETTINGS
@given(problems(max_mentees=10, max_mentors=6), problems(max_mentees=10, max_mentors=6))
def test_warm_solve_gives_the_cold_answer(first: Problem, second: Problem) -> None:
    # Any earlier answer, even to another problem, only saves work.
    assert solve(second, warm=solve(first)) == solve(second)
    previous = solve(second)
    if previous.pairs:
        mentee, mentor = previous.pairs[0]
        if (mentee, mentor) not in second.pinned:
            after = _with(second, forbidden=[*second.forbidden, (mentee, mentor)])
            assert solve(after, warm=previous) == solve(after)


@pytest.mark.parametrize("n_rejected", [1, 30, 9_000])
def test_rejected_pairs_leave_the_candidates_whether_few_or_many(n_rejected: int) -> None:
    # A few rejected pairs are cut out by copying the runs between them, many with a mask: the
    # candidates are the same either way (the sparse input's other pairs, in order).
    rng = np.random.default_rng(n_rejected)
    scores = sp.random_array((300, 120), density=0.6, format="csr", rng=rng)
    rows, cols = scores.nonzero()
    rejected = rng.choice(len(rows), n_rejected, replace=False)
    forbidden = list(zip(rows[rejected].tolist(), cols[rejected].tolist(), strict=True))
    problem = Problem(scores, capacity=np.full(120, 2), forbidden=forbidden)
    kept = np.ones(len(rows), dtype=bool)
    kept[rejected] = False
    candidates = problem.candidates
    assert candidates.mentee.tolist() == rows[kept].tolist()
    assert candidates.mentor.tolist() == cols[kept].tolist()
    assert np.array_equal(candidates.score, scores.toarray()[rows[kept], cols[kept]])
    pairs = problem.proposable
    assert np.array_equal(pairs.start, np.searchsorted(rows[kept], np.arange(301)))
