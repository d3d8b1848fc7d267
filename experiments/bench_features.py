"""Benchmark of ``features.score_pairs`` on a city: time, memory, and how both grow with the pairs.

Run: ``python -m experiments.bench_features`` (a city of 30,000 pupil mentees, 12,000 mentors and
300 schools). Prints the time of each step, the allowed pairs, the peak memory of scoring and the
bytes it used per allowed pair; then the same city at 1/8, 1/4 and 1/2 of its size (time and memory
per allowed pair should stay flat), and the naive baseline measured in the same process: scoring
every mentee x mentor pair with the same components and keeping the allowed ones, timed on a sample
of mentees and extrapolated.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from experiments.cohorts import Cohort, make_city
from features import Answers, read_answers, score_pairs
from features.components import make_scorer


def _fresh(answers: Answers) -> Answers:
    """The same answers without cached rule inputs, so each run pays for all of its work."""
    questions = answers.spec.side(answers.side).questions
    return Answers(answers.spec, answers.side, {q.key: answers.answers(q.key) for q in questions})


def _timed(work: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _peak_memory(work: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def _score(cohort: Cohort, mentors: Answers, mentees: Answers) -> Any:
    return score_pairs(
        cohort.spec, _fresh(mentors), _fresh(mentees), cohort.mentee_orgs, cohort.mentor_orgs
    )


def _naive_seconds(cohort: Cohort, mentors: Answers, mentees: Answers, sample: int) -> float:
    """Seconds to score every pair of ``sample`` mentees with every mentor, per mentee."""
    scorers = [make_scorer(c, mentees, mentors) for c in cohort.spec.components]
    rows = np.repeat(np.arange(sample, dtype=np.int32), len(mentors))
    columns = np.tile(np.arange(len(mentors), dtype=np.int32), sample)
    start = time.perf_counter()
    for scorer in scorers:
        scorer.values(rows, columns)
    return (time.perf_counter() - start) / sample


def _line(name: str, value: str) -> None:
    print(f"  {name:<44} {value}")


def main(argv: Sequence[str] | None = None) -> None:
    """Print the benchmark figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spec", default="pupil", choices=["pupil", "teacher"])
    parser.add_argument("--mentees", type=int, default=30_000)
    parser.add_argument("--mentors", type=int, default=12_000)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    print(f"City: {args.mentees} mentees, {args.mentors} mentors, {args.schools} schools")
    start = time.perf_counter()
    cohort = make_city(args.seed, args.spec, args.mentees, args.mentors, args.schools)
    _line("generate the exports", f"{time.perf_counter() - start:.2f} s")
    mentors_csv = cohort.mentors_table.to_csv(index=False, sep=";").encode("cp1251")
    mentees_csv = cohort.mentees_table.to_csv(index=False, sep=";").encode("cp1251")
    start = time.perf_counter()
    mentors = read_answers(mentors_csv, cohort.spec, "mentors")
    mentees = read_answers(mentees_csv, cohort.spec, "mentees")
    _line("import both CSV files (cp1251, ;)", f"{time.perf_counter() - start:.2f} s")

    median, times, scores = _timed(lambda: _score(cohort, mentors, mentees), args.repeat)
    pairs = scores.n_pairs
    runs = ", ".join(f"{t:.2f}" for t in times)
    _line("score_pairs (median of runs)", f"{median:.2f} s   (runs: {runs})")
    _line("allowed pairs", f"{pairs:,} of {len(mentees) * len(mentors):,} mentee x mentor")
    _line("pairs scored per second", f"{pairs / median:,.0f}")
    del scores
    peak = _peak_memory(lambda: _score(cohort, mentors, mentees))
    _line("peak memory of score_pairs (tracemalloc)", f"{peak / 2**20:,.0f} MiB")
    _line("bytes per allowed pair", f"{peak / pairs:.0f}")
    dense = len(mentees) * len(mentors) * (len(cohort.spec.components) * 4 + 8)
    _line("a dense matrix of the same values would be", f"{dense / 2**30:,.1f} GiB")

    print("Growth with the city (per allowed pair, relative to the 1/8 city):")
    base: tuple[float, float] | None = None
    for share in (8, 4, 2, 1):
        part = make_city(
            args.seed,
            args.spec,
            args.mentees // share,
            args.mentors // share,
            max(1, args.schools // share),
        )
        run = functools.partial(_score, part, part.answers("mentors"), part.answers("mentees"))
        seconds, _, part_scores = _timed(run, 2)
        n = part_scores.n_pairs
        del part_scores
        memory = _peak_memory(run)
        per_pair = (seconds / n * 1e9, memory / n)
        base = base or per_pair
        _line(
            f"1/{share} city: {n:>10,} pairs, {seconds:5.2f} s",
            f"{per_pair[0]:5.0f} ns/pair (x{per_pair[0] / base[0]:.2f}), "
            f"{per_pair[1]:4.0f} B/pair (x{per_pair[1] / base[1]:.2f})",
        )

    sample = 200
    naive = _naive_seconds(cohort, mentors, mentees, sample) * len(mentees)
    _line("naive baseline: every pair scored, extrapolated", f"{naive:.1f} s")
    _line("score_pairs speed-up over the naive baseline", f"x{naive / median:.1f}")


if __name__ == "__main__":
    main()
