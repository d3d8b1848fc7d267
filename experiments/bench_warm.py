"""Benchmark of warm re-solves: the next run of a municipality after a curator's decisions.

A municipality of pupils (``experiments.cohorts.make_city``: 20,000 mentees, 8,000 mentors in 150
schools, remote pairs across schools, so the whole municipality is one block of about 2.5 M
candidate pairs) is scored and solved cold, as its first run is: ``features.score_pairs`` then
``matching.solve(..., keep_networks=True)``. Then, one change at a time, the next run is timed warm, as the
service runs it (``service.runs.cache``): the scores of unchanged people come from the last run
(no scoring), the problem is built again and ``solve(..., warm=last)`` starts from the kept
network. The cold figure of each change is a cold run of the changed municipality (scoring and
solving from scratch); the warm answer is checked to have the cold one's optimum (same number of
pairs, same total score).

Changes: a curator rejects 10 proposals; confirms 10; a mentor with pairs leaves (their column goes,
the others are renumbered: ``Matching.renumbered``); all three at once; and the sum of the four.
As in the service, the cached score matrix is taken as it is when nobody left, and without the
leaving mentor's column otherwise. Each change is run ``--repeats`` times: a cold run, the kept
network brought back to the first answer (a warm solve of the first problem, not timed: a warm
run changes the network in place), then the warm run; the median CPU time of each is reported
(the machine is shared: a single run varies by a fifth), with wall times::

    .venv/bin/python -m experiments.bench_warm --mentees 20000 --mentors 8000 --schools 150
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from experiments.cohorts import make_city
from features import read_answers, score_pairs
from matching import Matching, Problem, solve


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--mentees", type=int, default=20_000)
    parser.add_argument("--mentors", type=int, default=8_000)
    parser.add_argument("--schools", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each change (median)")
    args = parser.parse_args(argv)
    city = make_city(seed=args.seed, spec="pupil", mentees=args.mentees, mentors=args.mentors,
                     schools=args.schools)  # fmt: skip
    mentees = read_answers(city.mentees_table, city.spec, "mentees")
    mentors = read_answers(city.mentors_table, city.spec, "mentors")

    def score() -> Any:
        return score_pairs(city.spec, mentors, mentees, city.mentee_orgs, city.mentor_orgs)

    def problem(scores: Any, capacity: Any, **changes: Any) -> Problem:
        return Problem(sp.csr_array(scores), capacity, **changes)

    scored, wall, cpu = _timed(score)
    first = problem(scored.scores, scored.capacity)
    last, solve_wall, solve_cpu = _timed(lambda: solve(first, keep_networks=True))
    print(
        f"{args.mentees} mentees × {args.mentors} mentors, {args.schools} schools: "
        f"{scored.scores.nnz:,} candidate pairs, {last.info['blocks']} block(s); load average "
        f"{os.getloadavg()[0]:.1f}\n"
        f"first run (cold): scoring {cpu:.2f} s CPU ({wall:.2f} s wall), "
        f"solving {solve_cpu:.2f} s CPU ({solve_wall:.2f} s wall)"
    )
    pairs = last.pairs
    rng = np.random.default_rng(args.seed)
    picked = [pairs[k] for k in rng.choice(len(pairs), 21, replace=False)]
    leaving = picked[20][1]
    keep_columns = np.flatnonzero(np.arange(first.n_mentors) != leaving)
    renumber = np.full(first.n_mentors, -1)
    renumber[keep_columns] = np.arange(len(keep_columns))
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("reject 10 proposals", {"forbidden": picked[:10]}, False),
        ("confirm 10 proposals", {"pinned": picked[10:20]}, False),
        ("a mentor with pairs leaves", {}, True),
        ("all three at once", {"forbidden": picked[:10], "pinned": picked[10:20]}, True),
    ]
    print(
        f"median of {args.repeats} run(s) of each change:\n"
        "| change | cold CPU s | warm CPU s | warm / cold | cold wall s | warm wall s | same optimum |"
    )
    print("|---|---|---|---|---|---|---|")
    total_cold = total_warm = 0.0
    for name, changes, leaves in cases:
        columns = keep_columns if leaves else None
        if leaves:
            changes = {  # the leaving mentor's pairs are gone: they were not confirmed
                key: [(i, int(renumber[j])) for i, j in value if renumber[j] >= 0]
                for key, value in changes.items()
            }

        def cold_run(columns: Any = columns, changes: Any = changes) -> Matching:
            fresh = score()
            if columns is None:
                return solve(problem(fresh.scores, fresh.capacity, **changes))
            return solve(problem(fresh.scores[:, columns], fresh.capacity[columns], **changes))

        def warm_run(columns: Any = columns, changes: Any = changes) -> Any:
            # cached scores (people unchanged): only the problem is built and solved again
            if columns is None:
                changed = problem(scored.scores, scored.capacity, **changes)
                return solve(changed, warm=last, keep_networks=True)
            warm = last.renumbered(np.arange(first.n_mentees), renumber)
            changed = problem(scored.scores[:, columns], scored.capacity[columns], **changes)
            return solve(changed, warm=warm, keep_networks=True)

        runs = []
        for _ in range(args.repeats):
            cold, cold_wall, cold_cpu = _timed(cold_run)
            solve(first, warm=last, keep_networks=True)  # the network back at the first answer
            warm, warm_wall, warm_cpu = _timed(warm_run)
            same = (
                warm.n_matched == cold.n_matched and abs(warm.total_score - cold.total_score) < 1e-6
            )
            if not same:
                raise SystemExit(f"{name}: the warm answer differs from the cold one")
            runs.append((cold_cpu, warm_cpu, cold_wall, warm_wall))
        cold_cpu, warm_cpu, cold_wall, warm_wall = np.median(runs, axis=0).tolist()
        print(
            f"| {name} | {cold_cpu:.2f} | {warm_cpu:.3f} | {warm_cpu / cold_cpu:.3f} | "
            f"{cold_wall:.2f} | {warm_wall:.3f} | yes (warm blocks {warm.info['warm']}, "
            f"in place {warm.info['in_place']}) |",
            flush=True,
        )
        total_cold += cold_cpu
        total_warm += warm_cpu
    print(
        f"| all four changes | {total_cold:.2f} | {total_warm:.3f} | "
        f"{total_warm / total_cold:.3f} | | | |\n"
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
