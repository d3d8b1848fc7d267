"""Benchmark of the solver against bare baselines on realistic city-shaped instances.

Run ``make bench`` or ``python -m experiments.bench_solver [--sizes small|all] [--engines]``.

Instances: schools of 20-200 mentees with about 0.4 mentors per mentee, capacities 1-3,
competence profiles over the eight areas of professional difficulty and a subject; the score of
an allowed pair is the cosine similarity of the mentee's needs and the mentor's competences plus
a same-subject bonus; pairs below a minimum score are not allowed. Most allowed pairs are inside
a school; about 5 % of mentors and 5 % of mentees accept remote mentoring, which adds pairs across
schools between people of the same subject.

For each size the script prints our time and peak memory (each solve runs in a fresh process, so
the peak resident memory is that solve's own, input included), and in the same run the time of
(a) ``scipy.optimize.linear_sum_assignment`` on the dense slot-expanded matrix where it fits and
(b) OR-Tools ``SimpleMinCostFlow`` on the same candidate graph, the ratios ours/baseline, and
the objective gap to the LP optimum (HiGHS) where HiGHS finishes within its time limit.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

N_AREAS = 8
N_SUBJECTS = 12
MIN_SCORE = 0.35
SIZES = {
    "school": (300, 120),
    "district": (3_000, 1_200),
    "city": (30_000, 12_000),
    "region": (200_000, 80_000),
}


@dataclass
class Instance:
    scores: sp.csr_array
    capacity: np.ndarray
    n_schools: int


def make_instance(n_mentees: int, n_mentors: int, seed: int = 0) -> Instance:
    """A city-shaped instance: scores of allowed pairs only, as a sparse matrix.

    Up to 300 mentees make one school; more are split into schools of 20-200 mentees.
    """
    rng = np.random.default_rng(seed)
    # School sizes 20..200 mentees; mentors spread in proportion.
    sizes: list[int] = [n_mentees] if n_mentees <= 300 else []
    while sum(sizes) < n_mentees:
        sizes.append(int(rng.integers(20, 201)))
    sizes[-1] -= sum(sizes) - n_mentees
    if sizes[-1] < 1:
        sizes.pop()
        sizes[-1] += n_mentees - sum(sizes)
    mentee_school = np.repeat(np.arange(len(sizes)), sizes)
    share = np.array(sizes) / n_mentees
    mentor_counts = np.maximum(1, np.round(share * n_mentors).astype(int))
    mentor_counts[-1] += n_mentors - mentor_counts.sum()
    while mentor_counts[-1] < 0:  # rounding took too many: give back from the largest
        big = int(np.argmax(mentor_counts[:-1]))
        mentor_counts[big] -= 1
        mentor_counts[-1] += 1
    mentor_school = np.repeat(np.arange(len(sizes)), mentor_counts)

    needs = rng.gamma(0.6, size=(n_mentees, N_AREAS)) * (
        rng.uniform(size=(n_mentees, N_AREAS)) < 0.5
    )
    needs[needs.sum(axis=1) == 0, 0] = 1.0
    skills = rng.gamma(1.2, size=(n_mentors, N_AREAS))
    needs /= np.linalg.norm(needs, axis=1, keepdims=True)
    skills /= np.linalg.norm(skills, axis=1, keepdims=True)
    mentee_subject = rng.integers(0, N_SUBJECTS, n_mentees)
    mentor_subject = rng.integers(0, N_SUBJECTS, n_mentors)
    capacity = rng.choice([1, 2, 3], size=n_mentors, p=[0.3, 0.4, 0.3])

    # Pairs inside each school.
    mentee_start = np.concatenate(([0], np.cumsum(sizes)))
    mentor_start = np.concatenate(([0], np.cumsum(mentor_counts)))
    rows_list, cols_list = [], []
    for s in range(len(sizes)):
        r = np.arange(mentee_start[s], mentee_start[s + 1])
        c = np.arange(mentor_start[s], mentor_start[s + 1])
        rows_list.append(np.repeat(r, len(c)))
        cols_list.append(np.tile(c, len(r)))
    # Remote pairs across schools: remote mentees with remote mentors of the same subject.
    remote_mentee = np.flatnonzero(rng.uniform(size=n_mentees) < 0.05)
    remote_mentor = np.flatnonzero(rng.uniform(size=n_mentors) < 0.05)
    by_subject = {k: remote_mentor[mentor_subject[remote_mentor] == k] for k in range(N_SUBJECTS)}
    for i in remote_mentee:
        c = by_subject[int(mentee_subject[i])]
        c = c[mentor_school[c] != mentee_school[i]]
        rows_list.append(np.full(len(c), i))
        cols_list.append(c)
    rows = np.concatenate(rows_list)
    cols = np.concatenate(cols_list)
    score = 0.75 * np.einsum("ij,ij->i", needs[rows], skills[cols])
    score += 0.25 * (mentee_subject[rows] == mentor_subject[cols])
    keep = score >= MIN_SCORE
    matrix = sp.csr_array(
        (np.round(score[keep], 6), (rows[keep], cols[keep])), shape=(n_mentees, n_mentors)
    )
    return Instance(matrix, capacity, len(sizes))


# -- measured runs ----------------------------------------------------------------------------


def _best_of(repeats: int, run: Any) -> tuple[float, float, Any]:
    """Best wall and CPU seconds over ``repeats`` runs (the machine may be shared), and the result."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = run()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, result


def solve_ours(instance: Instance, engine: str = "auto") -> dict[str, Any]:
    """Our solve, validation of the problem included."""
    from matching import Problem, solve

    result = solve(Problem(instance.scores, instance.capacity, min_score=MIN_SCORE), engine=engine)  # type: ignore[arg-type]
    return {
        "matched": result.n_matched,
        "total": result.total_score,
        "blocks": result.info["blocks"],
        "engines": result.info["engines"],
    }


def _peak_child(path: str, queue: Any) -> None:
    data = np.load(path)
    scores = sp.csr_array(
        (data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"])
    )
    instance = Instance(scores, data["capacity"], 0)
    del data
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    solve_ours(instance)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((before, after))


def peak_memory_mb(instance: Instance) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process that loads the instance and solves it:
    (peak before solving, peak after solving)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "instance.npz")
        s = instance.scores
        np.savez(
            path,
            data=s.data,
            indices=s.indices,
            indptr=s.indptr,
            shape=np.array(s.shape),
            capacity=instance.capacity,
        )
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_peak_child, args=(path, queue))
        proc.start()
        before, after = queue.get()
        proc.join()
        return before, after


def ortools_baseline(instance: Instance, scale: float = 2**30) -> dict[str, Any]:
    """Bare OR-Tools: the whole candidate graph in one min-cost flow, max flow of min cost."""
    from ortools.graph.python import min_cost_flow as mcf

    coo = instance.scores.tocoo()
    n, m = instance.scores.shape
    source, sink = n + m, n + m + 1
    tails = np.concatenate([np.full(n, source), coo.row, n + np.arange(m)])
    heads = np.concatenate([np.arange(n), n + coo.col, np.full(m, sink)])
    caps = np.concatenate([np.ones(n), np.ones(len(coo.row)), instance.capacity]).astype(np.int64)
    costs = np.concatenate([np.zeros(n), -np.rint(coo.data * scale), np.zeros(m)]).astype(np.int64)
    flow = mcf.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([n, -n]))
    status = flow.solve_max_flow_with_min_cost()
    assert status == flow.OPTIMAL
    chosen = flow.flows(np.arange(n, n + len(coo.row), dtype=np.int32)) > 0
    return {"matched": int(chosen.sum()), "total": float(coo.data[chosen].sum())}


def dense_lsa_baseline(instance: Instance, max_cells: int = 20_000_000) -> dict[str, Any] | None:
    """linear_sum_assignment on the dense slot-expanded matrix (coverage via a large constant)."""
    from scipy.optimize import linear_sum_assignment

    n, _ = instance.scores.shape
    slots = int(instance.capacity.sum())
    if n * slots > max_cells:
        return None
    slot_mentor = np.repeat(np.arange(len(instance.capacity)), instance.capacity)
    dense = instance.scores.toarray()[:, slot_mentor]
    allowed = instance.scores.astype(bool).toarray()[:, slot_mentor]
    big = 2.0 * n + 1.0
    cost = np.where(allowed, -(dense + big), 0.0)
    rows, cols = linear_sum_assignment(cost)
    chosen = allowed[rows, cols]
    return {"matched": int(chosen.sum()), "total": float(dense[rows[chosen], cols[chosen]].sum())}


def lp_optimum(instance: Instance, time_limit: float = 300.0) -> dict[str, Any] | None:
    """The coverage optimum as two linear programs (the b-matching polytope is integral)."""
    from scipy.optimize import linprog

    coo = instance.scores.tocoo()
    n, m = instance.scores.shape
    e = len(coo.row)
    a = sp.vstack(
        [
            sp.csr_array((np.ones(e), (coo.row, np.arange(e))), shape=(n, e)),
            sp.csr_array((np.ones(e), (coo.col, np.arange(e))), shape=(m, e)),
        ]
    ).tocsr()
    b = np.concatenate([np.ones(n), instance.capacity])
    options = {"time_limit": time_limit, "presolve": True}
    first = linprog(-np.ones(e), A_ub=a, b_ub=b, bounds=(0, 1), method="highs", options=options)
    if first.status != 0:
        return None
    count = -first.fun
    a2 = sp.vstack([a, sp.csr_array(-np.ones((1, e)))]).tocsr()
    b2 = np.concatenate([b, [-(count - 1e-6)]])
    second = linprog(-coo.data, A_ub=a2, b_ub=b2, bounds=(0, 1), method="highs", options=options)
    if second.status != 0:
        return None
    return {"matched": count, "total": -second.fun}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="all", help="comma list of " + ", ".join(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS optimum")
    args = parser.parse_args(argv)
    names = list(SIZES) if args.sizes == "all" else args.sizes.split(",")
    solve_ours(make_instance(50, 20))  # warm the imports

    print(
        f"{'mentees x mentors':>18} {'pairs':>9} {'blocks':>6} {'ours s':>8} {'cpu s':>7} "
        f"{'peak MB':>8} {'LSA s':>7} {'ours/LSA':>8} {'OR-Tools s':>10} {'ours/ORT':>8} "
        f"{'gap to LP':>9}"
    )
    for name in names:
        n, m = SIZES[name]
        instance = make_instance(n, m, seed=args.seed)
        repeats = args.repeats if n <= 30_000 else 1
        wall, cpu, ours = _best_of(repeats, partial(solve_ours, instance))
        ort_wall, _, ort = _best_of(repeats, partial(ortools_baseline, instance))
        lsa_wall, _, lsa = _best_of(repeats, partial(dense_lsa_baseline, instance))
        _, peak = peak_memory_mb(instance)
        lp = None if args.no_lp or n > 30_000 else lp_optimum(instance)
        assert ours["matched"] == ort["matched"], (ours["matched"], ort["matched"])
        gap = "-" if lp is None else f"{lp['total'] - ours['total']:+.1e}"
        print(
            f"{f'{n} x {m}':>18} {instance.scores.nnz:>9} {ours['blocks']:>6} {wall:>8.4f} "
            f"{cpu:>7.4f} {peak:>8.0f} "
            f"{'-' if lsa is None else f'{lsa_wall:.4f}':>7} "
            f"{'-' if lsa is None else f'{wall / lsa_wall:.2f}':>8} "
            f"{ort_wall:>10.4f} {wall / ort_wall:>8.2f} {gap:>9}",
            flush=True,
        )


if __name__ == "__main__":
    main()
