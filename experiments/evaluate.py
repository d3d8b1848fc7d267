"""The offline evaluation: every method on the same cohort, measured the same way.

:func:`synthetic` builds a seeded cohort with a hidden truth (a school or a city, from
:mod:`experiments.cohorts`) and a *past* programme of other people whose pairs, made at random as by
hand, have simulated outcomes to learn from. :func:`from_files` takes a real programme's
questionnaires instead (no truth; a model from ``nastavnik learn`` may be given). :func:`evaluate`
runs the baselines, the solver with each objective and the solver with the learned model, and
measures every answer against the hand-weight problem (:func:`experiments.metrics.measure`).

Examples
--------
>>> data = synthetic("school", seed=3)
>>> result = evaluate(data)
>>> list(result.table.index)[:3]
['random', 'greedy', 'stable']
>>> bool(result.table.loc["solver_coverage", "coverage"] >= result.table.loc["random", "coverage"])
True
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from experiments.baselines import deferred_acceptance, greedy_pairs, random_pairs
from experiments.metrics import measure, mentor_loads, most_matched
from features import (
    Answers,
    PairModel,
    PairScores,
    Spec,
    read_answers,
    score_pairs,
    waiting_priority,
)
from features.groups import cohesion_weight, group_sizes, mentee_similarity, solve_groups
from features.learning import History, Learned, history_table, learn
from matching import Problem, solve, violations

__all__ = [
    "LOAD_PENALTY",
    "METHODS",
    "Evaluation",
    "Programme",
    "evaluate",
    "from_files",
    "synthetic",
]

Pair = tuple[int, int]

#: The load penalty of the third solver variant: above most score gaps between a mentor's first
#: and second mentee, so load spreads unless a pair is clearly better.
LOAD_PENALTY = 0.1
#: Minimum scores of the coverage curve.
MIN_SCORES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
#: The methods, in the order of the report, with their Russian names.
METHODS = {
    "random": "Случайные допустимые пары",
    "greedy": "Жадно: лучшие пары первыми",
    "stable": "Устойчивые пары (отложенное принятие)",
    "solver_score": "Решатель: наибольшая сумма оценок",
    "solver_coverage": "Решатель: охват, затем сумма",
    "solver_balanced": f"Решатель: охват, штраф загрузки {LOAD_PENALTY:g}",
    "solver_waiting": "Решатель: охват, ждущие дольше 30 дней — первыми",
    "solver_learned": "Решатель: охват, обученная модель",
    "solver_cohesion": "Решатель: охват, сплочённость групп",
}
#: Sizes of the synthetic cohorts: the current one and the past programme learned from.
_PAST = {"school": (400, 260, 8), "city": (6_000, 2_400, 60), "groups": (1_500, 500, 15)}


@dataclass
class Programme:
    """What an evaluation needs of a programme: answers, organisations, and what is known of it.

    Attributes
    ----------
    name : str
        How the report names it.
    spec : Spec
    mentors, mentees : Answers
    mentee_orgs, mentor_orgs : list of str, optional
        Organisation of each person (else the spec's organisation answer).
    today : datetime.date
        Waiting times count to it.
    truth : callable, optional
        ``truth(mentee, mentor)`` -> hidden true compatibility of pairs (synthetic cohorts).
    outcomes : callable, optional
        ``outcomes(mentee, mentor)`` -> simulated outcomes of pairs (synthetic cohorts).
    past : tuple of (Answers, Answers, pandas.DataFrame), optional
        A past programme to learn from: its mentors, mentees and pairs with the columns
        ``mentee``, ``mentor`` (positions) and outcome columns.
    model : PairModel, optional
        A model learned elsewhere (``nastavnik learn``), used when there is no past programme.
    """

    name: str
    spec: Spec
    mentors: Answers
    mentees: Answers
    mentee_orgs: list[str] | None = None
    mentor_orgs: list[str] | None = None
    today: dt.date = field(default_factory=dt.date.today)
    truth: Callable[[Any, Any], np.ndarray] | None = None
    outcomes: Callable[[Any, Any], pd.DataFrame] | None = None
    past: tuple[Answers, Answers, pd.DataFrame] | None = None
    model: PairModel | None = None


def synthetic(
    kind: str = "school",
    seed: int = 0,
    spec: str | None = None,
    mentees: int | None = None,
    mentors: int | None = None,
) -> Programme:
    """A seeded synthetic programme with a hidden truth and a past programme to learn from.

    Parameters
    ----------
    kind : {"school", "city", "groups"}
        ``groups``: a city of pupils with groups by form and a tenth of the mentees needing two
        mentors (:func:`experiments.cohorts.make_groups`, issue 11); 3,000 mentees and 1,000
        mentors by default.
    seed : int
    spec : {"teacher", "pupil"}, optional
        By default teacher forms for a school, pupil forms for a city.
    mentees, mentors : int, optional
        City sizes (defaults of :func:`experiments.cohorts.make_city`).
    """
    from experiments.cohorts import make_city, make_groups, make_school

    if kind not in _PAST:
        raise ValueError(
            f"The 'kind' parameter of synthetic must be 'school', 'city' or 'groups'. Got {kind!r}."
        )
    spec = spec or ("teacher" if kind == "school" else "pupil")
    n_mentees, n_mentors, schools = _PAST[kind]
    if kind == "groups":
        cohort = make_groups(seed=seed, mentees=mentees or 3_000, mentors=mentors or 1_000)
        before = make_groups(
            seed=seed + 7_919, mentees=n_mentees, mentors=n_mentors, schools=schools
        )
        spec = "pupil с группами"
    elif kind == "school":
        cohort = make_school(seed=seed, spec=spec)
    else:
        cohort = make_city(seed=seed, spec=spec, mentees=mentees, mentors=mentors)
    if kind != "groups":
        before = make_city(
            seed=seed + 7_919, spec=spec, mentees=n_mentees, mentors=n_mentors, schools=schools
        )
    place = {"school": "школа", "city": "город", "groups": "город"}[kind]
    return Programme(
        name=f"{place} ({spec}), seed {seed}",
        spec=cohort.spec,
        mentors=cohort.answers("mentors"),
        mentees=cohort.answers("mentees"),
        mentee_orgs=cohort.mentee_orgs,
        mentor_orgs=cohort.mentor_orgs,
        today=cohort.today,
        truth=cohort.compatibility,
        outcomes=lambda e, o: cohort.outcomes(e, o, seed=seed),
        past=_past_programme(before, seed),
    )


def _past_programme(cohort: Any, seed: int) -> tuple[Answers, Answers, pd.DataFrame]:
    """Last term's pairs of another cohort, made at random as by hand, with their outcomes."""
    mentors, mentees = cohort.answers("mentors"), cohort.answers("mentees")
    scores = score_pairs(cohort.spec, mentors, mentees, cohort.mentee_orgs, cohort.mentor_orgs)
    pairs = np.array(random_pairs(scores.problem(), seed), dtype=np.int64)
    return mentors, mentees, cohort.outcomes(pairs[:, 0], pairs[:, 1], seed=seed)


def from_files(
    directory: str | Path, spec: Spec, model: PairModel | None = None, today: dt.date | None = None
) -> Programme:
    """A real programme: ``mentors.*`` and ``mentees.*`` (CSV or XLSX) of a directory.

    Raises
    ------
    FileNotFoundError
        A side's file is missing (the message is Russian).
    features.ImportFailed
        A file does not pass validation.
    """
    directory = Path(directory)
    found = {}
    for side in ("mentors", "mentees"):
        files = sorted(
            p for p in directory.glob(f"{side}.*") if p.suffix.lower() in (".csv", ".xlsx")
        )
        if not files:
            raise FileNotFoundError(f"в папке «{directory}» нет файла {side}.csv или {side}.xlsx")
        found[side] = read_answers(files[0], spec, side, filename=files[0].name)
    return Programme(
        name=str(directory),
        spec=spec,
        mentors=found["mentors"],
        mentees=found["mentees"],
        today=today or dt.date.today(),
        model=model,
    )


@dataclass
class Evaluation:
    """Everything the report shows.

    Attributes
    ----------
    programme : Programme
    scores : PairScores
        The hand-weight scores; every method is measured on them.
    table : pandas.DataFrame
        One row per method (index: keys of :data:`METHODS`), columns of
        :data:`experiments.metrics.METRICS`.
    pairs : dict of str to list of (mentee, mentor)
    timings : dict of str to float
        Seconds each method took (scoring with a learned model included).
    coverage_curve : pandas.DataFrame
        ``min_score`` and the best possible ``coverage`` at it.
    learned : dict of str to Learned
        Cross-validated learning from the past programme, by outcome column.
    model : PairModel or None
        The model the learned method scored with.
    truth_correlation : dict of str to float
        Spearman correlation of the hand and learned scores with the truth over allowed pairs.
    groups : dict
        Groups and co-mentors (issue 11), when some mentor may have a group or some mentee needs
        several mentors: ``methods`` (a table by method: demand covered, mentees needing several
        who got them all, groups, mean group size, cohesion), ``sizes`` (group sizes by form of
        the coverage solver and the cohesion solver) and ``cohesion`` (the cohesion solve's value,
        bound and gap).
    """

    programme: Programme
    scores: PairScores
    table: pd.DataFrame
    pairs: dict[str, list[Pair]]
    timings: dict[str, float]
    coverage_curve: pd.DataFrame
    learned: dict[str, Learned]
    model: PairModel | None
    truth_correlation: dict[str, float]
    groups: dict[str, Any] = field(default_factory=dict)

    def loads(self, method: str) -> npt.NDArray[np.int64]:
        """Mentees of each volunteering mentor (capacity > 0) under a method's pairs."""
        problem = self.problem()
        return mentor_loads(problem, self.pairs[method])[problem.capacity > 0]

    def problem(self, **options: Any) -> Problem:
        """The hand-weight problem every method is measured on (demand and group sizes too)."""
        problem: Problem = self.scores.problem(**options)
        return problem


#: The outcome the learned method is trained on, and the outcomes cross-validated.
LEARN_ON = "mentee_satisfaction"
OUTCOMES = ("finished", "mentee_satisfaction")
#: The kind learned here: the evaluation is of the solver; ``nastavnik learn`` compares every kind.
LEARN_KIND = "weights"


def evaluate(programme: Programme, seed: int = 0) -> Evaluation:
    """Run every method on the programme and measure the answers.

    Parameters
    ----------
    programme : Programme
    seed : int
        Seed of the random baseline and of the cross-validation folds.

    Raises
    ------
    RuntimeError
        A method proposed pairs that break a rule (a bug: every answer is checked).
    """
    spec = programme.spec
    started = time.perf_counter()
    scores = score_pairs(
        spec, programme.mentors, programme.mentees, programme.mentee_orgs, programme.mentor_orgs
    )
    scoring_time = time.perf_counter() - started
    problem: Problem = scores.problem()
    started = time.perf_counter()
    learned = _learn(programme, seed)
    learning_time = time.perf_counter() - started
    model = learned[LEARN_ON].model if LEARN_ON in learned else programme.model
    runs: dict[str, Callable[[], list[Pair]]] = {
        "random": lambda: random_pairs(problem, seed),
        "greedy": lambda: greedy_pairs(problem),
        "stable": lambda: deferred_acceptance(problem),
        "solver_score": lambda: _solve(scores, objective="score"),
        "solver_coverage": lambda: _solve(scores),
        "solver_balanced": lambda: _solve(scores, load_penalty=LOAD_PENALTY),
        "solver_waiting": lambda: _solve(
            scores, priority=waiting_priority(programme.mentees.waiting_days(programme.today))
        ),
    }
    pairs, timings = {}, {"scoring": scoring_time, "learning": learning_time}
    rescored = None
    if model is not None:
        started = time.perf_counter()
        rescored = _rescore(programme, model)
        timings["learned_scoring"] = time.perf_counter() - started
        runs["solver_learned"] = lambda: _solve(rescored)
    cohesive: dict[str, Any] = {}
    if cohesion_weight(scores) > 0 and (problem.capacity > 1).any():

        def with_cohesion() -> list[Pair]:
            matching, cohesive["info"] = solve_groups(scores)
            return list(matching.pairs)

        runs["solver_cohesion"] = with_cohesion
    for method, run in runs.items():
        started = time.perf_counter()
        pairs[method] = run()
        timings[method] = time.perf_counter() - started
        broken = violations(problem, pairs[method])
        if broken:
            raise RuntimeError(f"{method} broke the rules (a bug): {broken[:3]}")
    table = _measure(programme, problem, pairs)
    started = time.perf_counter()
    curve = _coverage_curve(scores)
    timings["coverage_curve"] = time.perf_counter() - started
    return Evaluation(
        programme=programme,
        scores=scores,
        table=table,
        pairs=pairs,
        timings=timings,
        coverage_curve=curve,
        learned=learned,
        model=model,
        truth_correlation=_truth_correlation(programme, scores, rescored, seed),
        groups=_groups(scores, problem, pairs, cohesive.get("info", {})),
    )


def _solve(scores: PairScores, **options: Any) -> list[Pair]:
    return solve(scores.problem(**options)).pairs


def _groups(
    scores: PairScores, problem: Problem, pairs: dict[str, list[Pair]], cohesive: dict[str, Any]
) -> dict[str, Any]:
    """Groups and co-mentors of every method's answer (see :attr:`Evaluation.groups`)."""
    if not ((problem.max_capacity > 3).any() or (problem.demand > 1).any() or cohesive):
        return {}
    similarity = mentee_similarity(scores) if scores.spec.cohesion else None
    several = np.flatnonzero(problem.demand > 1)
    rows = {}
    for method, chosen in pairs.items():
        got = np.bincount([i for i, _ in chosen], minlength=problem.n_mentees)
        sizes = [size for found in group_sizes(scores, chosen).values() for size in found]
        groups = [size for size in sizes if size > 1]
        rows[method] = {
            "demand_covered": float(np.minimum(got, problem.demand).sum() / problem.demand.sum())
            if problem.n_mentees
            else 0.0,
            "several_full": int((got[several] >= problem.demand[several]).sum()),
            "several": len(several),
            "groups": len(groups),
            "group_mean": float(np.mean(groups)) if groups else None,
            "group_max": max(sizes, default=0),
            "cohesion": None if similarity is None else _mean_cohesion(scores, chosen, similarity),
        }
    by_form = {
        method: group_sizes(scores, pairs[method])
        for method in ("solver_coverage", "solver_cohesion")
        if method in pairs
    }
    return {
        "methods": pd.DataFrame.from_dict(rows, orient="index"),
        "sizes": by_form,
        "limits": {f.label: f.max_group for f in scores.spec.forms},
        "cohesion": cohesive,
    }


def _mean_cohesion(scores: PairScores, pairs: list[Pair], similarity: Any) -> float | None:
    """Mean similarity of two mentees of one group, over the groups of two or more."""
    members: dict[tuple[int, str], list[int]] = {}
    for mentee, mentor in pairs:
        members.setdefault((mentor, scores.form(mentee, mentor)), []).append(mentee)
    found = []
    for people in members.values():
        if len(people) > 1:
            index = np.array(people)
            block = similarity[index][:, index]
            found.append(float(block.sum()) / (len(people) * (len(people) - 1)))
    return float(np.mean(found)) if found else None


def _rescore(programme: Programme, model: PairModel) -> PairScores:
    return score_pairs(
        programme.spec,
        programme.mentors,
        programme.mentees,
        programme.mentee_orgs,
        programme.mentor_orgs,
        model=model,
    )


def _learn(programme: Programme, seed: int) -> dict[str, Learned]:
    if programme.past is None:
        return {}
    mentors, mentees, past = programme.past
    mentee = past["mentee"].to_numpy(dtype=np.int64)
    mentor = past["mentor"].to_numpy(dtype=np.int64)
    table = history_table(
        programme.spec, mentors, mentees, History(mentee, mentor, np.zeros(len(mentee)))
    )
    found = {}
    for column in OUTCOMES:
        history = History(mentee, mentor, past[column].to_numpy(dtype=float))
        found[column] = learn(
            programme.spec, mentors, mentees, history, LEARN_KIND, seed=seed, table=table
        )
    return found


def _measure(programme: Programme, problem: Problem, pairs: dict[str, list[Pair]]) -> pd.DataFrame:
    # Outcomes are drawn once for the union of chosen pairs, so that a pair two methods both
    # choose has the same outcome in both (common random numbers: differences are the methods').
    union = sorted({p for chosen in pairs.values() for p in chosen})
    everything = np.array(union, dtype=np.int64).reshape(-1, 2)
    truth = outcomes = None
    if programme.truth is not None:
        truth = pd.Series(programme.truth(everything[:, 0], everything[:, 1]), index=union)
    if programme.outcomes is not None:
        outcomes = programme.outcomes(everything[:, 0], everything[:, 1])
        outcomes.index = pd.Index(union)
    waiting = programme.mentees.waiting_days(programme.today)
    rows = {}
    for method, chosen in pairs.items():
        rows[method] = measure(
            problem,
            chosen,
            truth=None if truth is None else truth.loc[chosen].to_numpy(),
            outcomes=None if outcomes is None else outcomes.loc[chosen],
            waiting=waiting,
        )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.insert(0, "method", [METHODS[m] for m in table.index])
    return table


def _coverage_curve(scores: PairScores) -> pd.DataFrame:
    n = scores.scores.shape[0]
    rows = []
    for threshold in MIN_SCORES:
        problem = scores.problem(min_score=threshold)
        units = int(problem.demand.sum())  # mentees, or the mentors they need in all
        rows.append((threshold, most_matched(problem) / units if n else 0.0))
    return pd.DataFrame(rows, columns=["min_score", "coverage"])


def _truth_correlation(
    programme: Programme, scores: PairScores, rescored: PairScores | None, seed: int
) -> dict[str, float]:
    """How well each scoring ranks the allowed pairs by the hidden truth (a sample at city scale)."""
    from scipy.stats import spearmanr

    if programme.truth is None or scores.n_pairs < 3:
        return {}
    mentee, mentor = scores.pairs
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(mentee), size=min(len(mentee), 200_000), replace=False))
    truth = programme.truth(mentee[sample], mentor[sample])
    found = {"hand": float(spearmanr(scores.scores.data[sample], truth).statistic)}
    if rescored is not None:
        # Same rules, so the same allowed pairs in the same order.
        found["learned"] = float(spearmanr(rescored.scores.data[sample], truth).statistic)
    return found
