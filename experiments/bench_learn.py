"""Benchmark of ``nastavnik learn``: 50,000 past pairs and a 5,000-answer multiple-choice question.

The teacher spec plus one question ``topics`` (5,000 answers; each person ticks 1–6) on both sides;
a synthetic city of teachers (``experiments.cohorts.make_city``) answers it, and 50,000 random
pairs get a 0/1 outcome that depends on the components and on a shared topic. The run is
:func:`features.learning.learn` as the command runs it (the generic baselines included), timed
in-process; the peak resident memory is the process's (``ru_maxrss``), reading included.

``python -m experiments.bench_learn [--kind auto] [--pairs 50000] [--topics 5000] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from experiments.cohorts import make_city
from features import load_spec, read_answers
from features.learning import History, learn
from features.spec import DEFAULT_SPECS


def extended_spec(directory: Path, topics: int) -> Path:
    """The teacher spec with a ``topics`` question of ``topics`` answers on both sides."""
    raw = yaml.safe_load((DEFAULT_SPECS / "teacher.yaml").read_text("utf-8"))
    raw["name"] = "teacher_topics"
    raw["choices"]["topics"] = [
        {"key": f"t{k:04d}", "label": f"Тема {k:04d}"} for k in range(topics)
    ]
    for side in ("mentors", "mentees"):
        raw[side]["questions"].append(
            {"key": "topics", "header": "Темы", "type": "multi", "choices": "topics"}
        )
    path = directory / "spec.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return path


def recovery(kind: str, jobs: int) -> None:
    """The table of the recovery cohort (experiments/README.md): does learning reach generic ML?"""
    from experiments.cohorts import make_interactions
    from experiments.generic import references

    cohort = make_interactions(seed=0, mentors=200, mentees=600)
    history = cohort.history(3000, seed=1)
    started, cpu = time.perf_counter(), time.process_time()
    found = learn(
        cohort.spec,
        cohort.mentors,
        cohort.mentees,
        history,
        kind,
        references=references(),
        jobs=jobs,
    )
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(found.summary().round(3).to_string())
    print(f"kind {kind} -> saved {found.kind}; tested {found.tested} of {found.n_pairs}")
    print(f"learn: {took:.1f} s wall, {cpu:.1f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", default="auto")
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--topics", type=int, default=5_000)
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=3_000)
    parser.add_argument("--generic", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted at once (threads)")
    parser.add_argument(
        "--cohort",
        choices=["topics", "interactions"],
        default="topics",
        help="interactions: the recovery cohort instead (200 mentors, 600 mentees, 3,000 pairs)",
    )
    args = parser.parse_args()
    if args.cohort == "interactions":
        recovery(args.kind, args.jobs)
        return
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    cohort = make_city(seed=0, spec="teacher", mentees=args.mentees, mentors=args.mentors)
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_spec(extended_spec(Path(tmp), args.topics))
    tables, picked = {}, {}
    for side, table in (("mentors", cohort.mentors_table), ("mentees", cohort.mentees_table)):
        picked[side] = [
            rng.choice(args.topics, rng.integers(1, 7), replace=False) for _ in table.index
        ]
        cells = [", ".join(f"Тема {k:04d}" for k in sorted(p)) for p in picked[side]]
        tables[side] = table.assign(Темы=cells)
    mentors = read_answers(tables["mentors"], spec, "mentors")
    mentees = read_answers(tables["mentees"], spec, "mentees")
    mentee = rng.integers(0, len(mentees), args.pairs)
    mentor = rng.integers(0, len(mentors), args.pairs)
    truth = np.asarray(cohort.compatibility(mentee, mentor))
    shared = np.array(
        [
            len(np.intersect1d(picked["mentees"][i], picked["mentors"][j])) > 0
            for i, j in zip(mentee, mentor, strict=True)
        ]
    )
    odds = 6.0 * (truth - truth.mean()) + 1.5 * shared + rng.normal(0, 1, args.pairs)
    history = History(mentee, mentor, (odds > np.median(odds)).astype(float))
    prepared = time.perf_counter() - started
    from experiments.generic import references

    refs = references() if args.generic else []

    started, cpu = time.perf_counter(), time.process_time()
    found = learn(spec, mentors, mentees, history, args.kind, references=refs, jobs=args.jobs)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"people: {len(mentors)} mentors, {len(mentees)} mentees; pairs: {len(history)}; "
        f"topics: {args.topics}; preparing {prepared:.1f} s"
    )
    print(found.summary().round(3).to_string())
    print(
        f"kind {args.kind} -> saved {found.kind}; tested {found.tested} of {found.n_pairs}; "
        f"jobs {args.jobs}"
    )
    print(f"learn: {took:.1f} s wall, {cpu:.1f} s CPU; peak RSS of the process {peak:,.0f} MB")


if __name__ == "__main__":
    main()
