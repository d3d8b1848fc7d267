"""Benchmark of the solver against bare baselines, each measured in a fresh process.

Run ``make bench`` or ``python -m experiments.bench_solver [--instances NAME,...] [--repeats N]``;
``--instances country-3k`` runs in seconds, ``--instances issue14`` is the table of issue 14
(30k x 12k and 200k x 80k country instances and the regional one; several minutes and a few
GB for the generator). ``--list`` shows the instances.

Two families of instances:

- ``city`` (``make_instance``): schools of 20-200 mentees (uniform) with about 0.4 mentors per
  mentee, capacities 1-3, 12 subjects; score = 0.75 x cosine of gamma profiles + 0.25 x same
  subject, minimum 0.35; about 5 % of mentees and mentors accept remote mentoring, which adds pairs
  across schools between people of the same subject.
- ``country`` (``make_country``, the model of issue 14): schools of 20-200 mentees, log-normal
  around a median of about 70; mentors spread over schools in proportion (m/n = 0.4), capacities
  1/2/3 with probabilities 0.3/0.4/0.3; mentees 87 % in person only, 10 % either, 3 % remote only;
  mentors 95 % in person only, 5 % also remote. A pair is allowed inside a school when the formats
  meet; across schools only remote-remote, anywhere in the country (``regions``: only inside a
  region of 25 schools). Score 0.7 x cosine of 8-dim Dirichlet(0.7) needs and competence profiles
  + 0.3 x same subject (6 subjects), rounded to 1e-6; minimum score 0.55. At 200,000 x 80,000 this
  gives about 23.7 M candidate pairs in one giant block.

Every measurement runs in a fresh Python process (``--child``) that loads the instance from an
``.npz`` file and reports its wall and CPU time from the loaded matrix to the answer, and its
own peak resident memory (``VmHWM`` of ``/proc/self/status``, which exec resets, unlike
``ru_maxrss``: interpreter, imports, input and solve).
Ours is ``matching.solve(Problem(scores, capacity, min_score))`` (validation included); bare
OR-Tools is one ``SimpleMinCostFlow`` over the whole candidate graph (``solve_max_flow_with_min_cost``,
as the coverage objective wants) with the same integer weights: the score resolution our solve
reports. Optionally dense ``linear_sum_assignment`` (where the slot-expanded matrix has at most
20 M cells) and the optimum of the two linear programs (HiGHS, up to 30,000 mentees).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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

COUNTRY_MIN_SCORE = 0.55
COUNTRY_SUBJECTS = 6
REGION_SCHOOLS = 25

# name: (family, mentees, mentors)
INSTANCES: dict[str, tuple[str, int, int]] = {
    **{name: ("city", n, m) for name, (n, m) in SIZES.items()},
    "country-3k": ("country", 3_000, 1_200),
    "country-30k": ("country", 30_000, 12_000),
    "regions-200k": ("regions", 200_000, 80_000),
    "country-200k": ("country", 200_000, 80_000),
}
PRESETS = {
    "all": list(INSTANCES),
    "issue14": ["country-30k", "regions-200k", "country-200k"],
    "small": ["school", "district", "country-3k"],
}


@dataclass
class Instance:
    scores: sp.csr_array
    capacity: np.ndarray
    n_schools: int
    min_score: float = MIN_SCORE
    demand: np.ndarray | None = None
    """Mentors each mentee needs (``--demand``); None: one each."""


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


def make_country(
    n_mentees: int, n_mentors: int, seed: int = 0, region_schools: int | None = None
) -> Instance:
    """The country-scale instance of issue 14 (see the module docstring).

    ``region_schools``: remote pairs only between schools of the same region of that many
    schools (None: anywhere in the country).
    """
    rng = np.random.default_rng(seed)
    sizes_list: list[int] = []
    total = 0
    while total < n_mentees:
        size = int(np.clip(np.rint(rng.lognormal(np.log(70), 0.5)), 20, 200))
        sizes_list.append(size)
        total += size
    sizes_list[-1] -= total - n_mentees
    if sizes_list[-1] < 1:
        sizes_list.pop()
    sizes = np.array(sizes_list)
    exact = sizes * (n_mentors / n_mentees)
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: n_mentors - int(counts.sum())]] += 1
    n_schools = len(sizes)
    mentee_school = np.repeat(np.arange(n_schools), sizes)
    mentor_school = np.repeat(np.arange(n_schools), counts)
    capacity = rng.choice([1, 2, 3], size=n_mentors, p=[0.3, 0.4, 0.3])
    # Formats: mentees 0 in person only, 1 either, 2 remote only; mentors in person, some remote.
    mentee_format = rng.choice(3, size=n_mentees, p=[0.87, 0.10, 0.03])
    mentor_remote = rng.uniform(size=n_mentors) < 0.05
    needs = rng.dirichlet(np.full(N_AREAS, 0.7), size=n_mentees)
    skills = rng.dirichlet(np.full(N_AREAS, 0.7), size=n_mentors)
    needs /= np.linalg.norm(needs, axis=1, keepdims=True)
    skills /= np.linalg.norm(skills, axis=1, keepdims=True)
    mentee_subject = rng.integers(0, COUNTRY_SUBJECTS, n_mentees)
    mentor_subject = rng.integers(0, COUNTRY_SUBJECTS, n_mentors)

    def scored(rows: np.ndarray, cols: np.ndarray, cosine: np.ndarray) -> tuple[np.ndarray, ...]:
        score = np.round(0.7 * cosine + 0.3 * (mentee_subject[rows] == mentor_subject[cols]), 6)
        keep = score >= COUNTRY_MIN_SCORE
        return rows[keep].astype(np.int32), cols[keep].astype(np.int32), score[keep]

    parts: list[tuple[np.ndarray, ...]] = []
    # Inside a school: every mentor meets in person, so only remote-only mentees need a remote mentor.
    mentee_start = np.concatenate(([0], np.cumsum(sizes)))
    mentor_start = np.concatenate(([0], np.cumsum(counts)))
    rows = np.concatenate(
        [
            np.repeat(np.arange(mentee_start[s], mentee_start[s + 1]), counts[s])
            for s in range(n_schools)
        ]
    )
    cols = np.concatenate(
        [
            np.tile(np.arange(mentor_start[s], mentor_start[s + 1]), sizes[s])
            for s in range(n_schools)
        ]
    )
    meet = (mentee_format[rows] != 2) | mentor_remote[cols]
    rows, cols = rows[meet], cols[meet]
    parts.append(scored(rows, cols, np.einsum("ij,ij->i", needs[rows], skills[cols])))
    # Across schools: a mentee who accepts remote mentoring with a remote mentor.
    remote_mentees = np.flatnonzero(mentee_format != 0)
    remote_mentors = np.flatnonzero(mentor_remote)
    region = np.arange(n_schools) // (region_schools or n_schools)
    for lo in range(0, len(remote_mentees), 2048):
        chunk = remote_mentees[lo : lo + 2048]
        cosine = needs[chunk] @ skills[remote_mentors].T
        school_i = mentee_school[chunk][:, None]
        school_j = mentor_school[remote_mentors][None, :]
        ok = (school_i != school_j) & (region[school_i] == region[school_j])
        i, j = np.nonzero(ok)
        parts.append(scored(chunk[i], remote_mentors[j], cosine[i, j]))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    data = np.concatenate([p[2] for p in parts])
    del parts
    matrix = sp.csr_array((data, (rows, cols)), shape=(n_mentees, n_mentors))
    matrix.sort_indices()
    return Instance(matrix, capacity, n_schools, COUNTRY_MIN_SCORE)


def build(name: str, seed: int = 0) -> Instance:
    family, n, m = INSTANCES[name]
    if family == "city":
        return make_instance(n, m, seed=seed)
    return make_country(
        n, m, seed=seed, region_schools=REGION_SCHOOLS if family == "regions" else None
    )


def save(instance: Instance, path: Path) -> None:
    s = instance.scores
    np.savez(
        path,
        data=s.data,
        indices=s.indices,
        indptr=s.indptr,
        shape=np.array(s.shape),
        capacity=instance.capacity,
        min_score=np.array(instance.min_score),
        demand=np.ones(0, dtype=np.int64) if instance.demand is None else instance.demand,
    )


def load(path: str) -> Instance:
    data = np.load(path)
    scores = sp.csr_array(
        (data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"])
    )
    demand = data["demand"] if len(data["demand"]) else None
    return Instance(scores, data["capacity"], 0, float(data["min_score"]), demand)


# -- what the fresh processes run -------------------------------------------------------------


def solve_ours(instance: Instance, engine: str = "auto") -> dict[str, Any]:
    """Our solve, validation of the problem included."""
    from matching import Problem, solve

    problem = Problem(
        instance.scores, instance.capacity, min_score=instance.min_score, demand=instance.demand
    )
    result = solve(problem, engine=engine)  # type: ignore[arg-type]
    return {
        "matched": result.n_matched,
        "total": result.total_score,
        "blocks": result.info["blocks"],
        "engines": result.info["engines"],
        "resolution": result.info["resolution"],
    }


def ortools_baseline(instance: Instance, resolution: float = 2.0**-30) -> dict[str, Any]:
    """Bare OR-Tools: the whole candidate graph in one min-cost flow, max flow of min cost.

    Costs are ``-rint(score / resolution)``, the integer weights our solve used.
    """
    from ortools.graph.python import min_cost_flow as mcf

    scores = instance.scores
    n, m = scores.shape
    e = scores.nnz
    source, sink = n + m, n + m + 1
    rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(scores.indptr))
    tails = np.concatenate(
        [rows, np.full(n, source, dtype=np.int32), n + np.arange(m, dtype=np.int32)]
    )
    del rows
    heads = np.concatenate(
        [
            n + scores.indices.astype(np.int32),
            np.arange(n, dtype=np.int32),
            np.full(m, sink, dtype=np.int32),
        ]
    )
    need = np.ones(n, dtype=np.int64) if instance.demand is None else instance.demand
    caps = np.concatenate(
        [np.ones(e, dtype=np.int64), need.astype(np.int64), instance.capacity.astype(np.int64)]
    )
    units = int(need.sum())
    costs = np.zeros(e + n + m, dtype=np.int64)
    costs[:e] = -np.rint(scores.data / resolution)
    flow = mcf.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    del tails, heads, caps, costs
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([units, -units]))
    status = flow.solve_max_flow_with_min_cost()
    assert status == flow.OPTIMAL, status
    chosen = flow.flows(np.arange(e, dtype=np.int32)) > 0
    return {"matched": int(chosen.sum()), "total": float(scores.data[chosen].sum())}


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
    need = np.ones(n) if instance.demand is None else instance.demand
    b = np.concatenate([need, instance.capacity])
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


def _child(mode: str, path: str, resolution: float) -> None:
    """Runs in the fresh process: load, time one method, print its answer as JSON."""
    # Imports and first calls are not timed: a tiny instance warms every method first.
    tiny = make_instance(50, 20)
    solve_ours(tiny)
    ortools_baseline(tiny)
    dense_lsa_baseline(tiny)
    instance = load(path)
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "ours":
        answer: dict[str, Any] | None = solve_ours(instance)
    elif mode == "ortools":
        answer = ortools_baseline(instance, resolution)
    else:
        answer = dense_lsa_baseline(instance)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # This process's own peak: VmHWM is reset by exec (ru_maxrss keeps the forking parent's).
    status = Path("/proc/self/status").read_text()
    peak_kb = int(status.split("VmHWM:")[1].split()[0])
    if answer is not None:
        answer.update(seconds=seconds, cpu=cpu, peak_mb=peak_kb / 1024)
    print(json.dumps(answer))


def measure(mode: str, path: Path, resolution: float = 2.0**-30) -> dict[str, Any] | None:
    """Run ``mode`` on the saved instance in a fresh process: its answer, seconds and peak MB."""
    command = [sys.executable, "-m", "experiments.bench_solver", "--child", mode, str(path)]
    command += ["--resolution", repr(resolution)]
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True)
    answer: dict[str, Any] | None = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return answer


def _best(
    mode: str, path: Path, repeats: int, resolution: float = 2.0**-30
) -> dict[str, Any] | None:
    """The fastest of ``repeats`` fresh runs, with the largest peak seen."""
    runs = [measure(mode, path, resolution) for _ in range(repeats)]
    done = [run for run in runs if run is not None]
    if not done:
        return None
    best = min(done, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r["peak_mb"] for r in done)}


def warm_ratio(
    n_mentees: int = 20_000, region_schools: int | None = REGION_SCHOOLS, seed: int = 0
) -> dict[str, Any]:
    """Cold solve of a municipality against warm re-solves after one decision each.

    The decisions: the curator rejects a proposed pair, confirms one, and a mentor leaves (no
    free place any more). Each re-solve builds the new problem and solves it with
    ``warm=`` the previous answer; CPU times (the machine may be shared), the best of three,
    problem building included.
    """
    from matching import Problem, solve

    instance = make_country(
        n_mentees, int(n_mentees * 0.4), seed=seed, region_schools=region_schools
    )
    base = {
        "scores": instance.scores,
        "capacity": instance.capacity,
        "min_score": instance.min_score,
    }

    def timed(arguments: dict[str, Any], warm: Any = None) -> tuple[float, Any]:
        best, result = float("inf"), None
        for _ in range(3):
            start = time.process_time()
            result = solve(Problem(**arguments), warm=warm)
            best = min(best, time.process_time() - start)
        return best, result

    cold, previous = timed(base)
    rng = np.random.default_rng(seed)
    pair = previous.pairs[int(rng.integers(len(previous.pairs)))]
    other = previous.pairs[int(rng.integers(len(previous.pairs)))]
    capacity = instance.capacity.copy()
    capacity[other[1]] = 0
    decisions = {
        "reject": {**base, "forbidden": [pair]},
        "confirm": {**base, "pinned": [pair]},
        "mentor leaves": {**base, "capacity": capacity},
    }
    rows: dict[str, Any] = {"cold": cold, "blocks": previous.info["blocks"]}
    for name, arguments in decisions.items():
        seconds, result = timed(arguments, warm=previous)
        assert result == solve(Problem(**arguments))
        rows[name] = (seconds, seconds / cold, result.info["reused"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--instances",
        default="all",
        help=f"comma list of {', '.join(INSTANCES)}, or a preset: {', '.join(PRESETS)}",
    )
    parser.add_argument("--sizes", help="old name of --instances (city family)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs up to 30,000 mentees")
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS optimum")
    parser.add_argument("--no-lsa", action="store_true", help="skip dense linear_sum_assignment")
    parser.add_argument("--list", action="store_true", help="list the instances and exit")
    parser.add_argument(
        "--warm",
        type=int,
        metavar="MENTEES",
        help="time warm re-solves of a municipality of this many mentees (regions of 25 "
        "schools, and remote pairs anywhere) against a cold solve, and exit",
    )
    parser.add_argument(
        "--demand",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="this share of mentees (seeded) needs two distinct mentors (issue 11); "
        "implies --no-lsa",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--resolution", type=float, default=2.0**-30, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.resolution)
        return
    if args.warm:
        for region in (REGION_SCHOOLS, None):
            rows = warm_ratio(args.warm, region, args.seed)
            where = f"regions of {region} schools" if region else "remote pairs anywhere"
            print(
                f"{args.warm} mentees, {where}: {rows['blocks']} blocks, cold {rows['cold']:.3f} s"
            )
            for name in ("reject", "confirm", "mentor leaves"):
                seconds, ratio, reused = rows[name]
                print(
                    f"  {name:>14}: {seconds:.3f} s = {ratio:.2f} of cold, {reused} blocks reused"
                )
        return
    if args.list:
        for name, (family, n, m) in INSTANCES.items():
            print(f"{name:>14}  {family:<8} {n} x {m}")
        return
    chosen = args.sizes or args.instances
    names = [x for part in chosen.split(",") for x in PRESETS.get(part, [part])]
    unknown = [x for x in names if x not in INSTANCES]
    if unknown:
        parser.error(f"unknown instances {unknown}; known: {', '.join(INSTANCES)}")

    print(
        f"{'instance':>13} {'mentees x mentors':>17} {'pairs':>10} {'blocks':>6} "
        f"{'ours s':>7} {'cpu':>6} {'ours MB':>7} {'ORT s':>7} {'cpu':>6} {'ORT MB':>7} "
        f"{'time':>5} {'cpu':>5} {'mem':>5} "
        f"{'LSA s':>7} {'gap ORT':>8} {'gap LP':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            _, n, m = INSTANCES[name]
            instance = build(name, seed=args.seed)
            if args.demand:
                args.no_lsa = True
                rng = np.random.default_rng(args.seed + 11)
                instance.demand = np.where(rng.uniform(size=n) < args.demand, 2, 1)
            path = Path(tmp) / f"{name}.npz"
            save(instance, path)
            pairs = instance.scores.nnz
            lp = None if args.no_lp or n > 30_000 else lp_optimum(instance)
            del instance
            repeats = args.repeats if n <= 30_000 else 1
            ours = _best("ours", path, repeats)
            assert ours is not None
            ort = _best("ortools", path, repeats, ours["resolution"])
            assert ort is not None
            lsa = None if args.no_lsa else _best("lsa", path, repeats)
            path.unlink()
            assert ours["matched"] == ort["matched"], (ours["matched"], ort["matched"])
            lsa_s = "-" if lsa is None else f"{lsa['seconds']:.3f}"
            gap_lp = "-" if lp is None else f"{lp['total'] - ours['total']:+.1e}"
            print(
                f"{name:>13} {f'{n} x {m}':>17} {pairs:>10} {ours['blocks']:>6} "
                f"{ours['seconds']:>7.3f} {ours['cpu']:>6.2f} {ours['peak_mb']:>7.0f} "
                f"{ort['seconds']:>7.3f} {ort['cpu']:>6.2f} {ort['peak_mb']:>7.0f} "
                f"{ours['seconds'] / ort['seconds']:>5.2f} {ours['cpu'] / ort['cpu']:>5.2f} "
                f"{ours['peak_mb'] / ort['peak_mb']:>5.2f} "
                f"{lsa_s:>7} "
                f"{ort['total'] - ours['total']:>+8.1e} {gap_lp:>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
