"""Schools and cities: generate both sides, assemble the hidden truth, name preferred mentors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from experiments.cohorts.draws import Random
from experiments.cohorts.hidden import _hidden, _Part
from experiments.cohorts.names import _school_name
from experiments.cohorts.outcomes import TODAY, Cohort
from experiments.cohorts.pupils import _pupil_mentees, _pupil_mentors
from experiments.cohorts.teachers import (
    _teacher_mentees,
    _teacher_mentors,
    _teacher_school_sizes,
)
from features import Spec, load_spec


def _name_preferences(cohort: Cohort, rng: np.random.Generator, share: float) -> None:
    """Some mentees name the mentor they would like: the one they get on with of three they know."""
    spec = cohort.spec
    mentee_key = next((c.mentee for c in spec.components if c.kind == "named"), None)
    if mentee_key is None:
        return
    mentor_ids = cohort.mentors_table[spec.mentors.question(spec.mentors.fields.id).header]
    by_school: dict[str, list[int]] = {}
    for j, org in enumerate(cohort.mentor_orgs):
        by_school.setdefault(org, []).append(j)
    named = [""] * len(cohort.mentees_table)
    naming = np.flatnonzero(rng.random(len(named)) < share)
    for i in naming:
        known = by_school.get(cohort.mentee_orgs[i], [])
        if not known:
            continue
        options = rng.choice(known, size=min(3, len(known)), replace=False)
        truth = cohort.compatibility(np.full(len(options), i), options)
        named[i] = str(mentor_ids.iloc[int(options[int(np.argmax(truth))])])
    table = cohort.mentees_table.assign(**{spec.mentees.question(mentee_key).header: named})
    order = [header for q in spec.mentees.questions for _, header in q.headers()]
    cohort.mentees_table = table[sorted(table.columns, key=lambda h: order.index(str(h)))]


def _assemble(
    spec: Spec,
    rng: np.random.Generator,
    seed: int,
    today: dt.date,
    mentors: tuple[_Part, list[str]],
    mentees: tuple[_Part, list[str]],
) -> Cohort:
    (mentor_table, mentor_hidden), mentor_orgs = mentors
    (mentee_table, mentee_hidden), mentee_orgs = mentees
    hidden = _hidden(rng, mentee_hidden, mentor_hidden, spec.name)
    cohort = Cohort(spec, mentor_table, mentee_table, mentor_orgs, mentee_orgs, hidden, seed, today)
    _name_preferences(cohort, rng, share=0.1)
    return cohort


def make_school(
    seed: int = 0,
    spec: str = "teacher",
    teachers: int = 70,
    pupils: int = 400,
    today: dt.date = TODAY,
) -> Cohort:
    """One school's questionnaires.

    Parameters
    ----------
    seed : int
    spec : {"teacher", "pupil"}
        Which default questionnaires.
    teachers, pupils : int
        Size of the school: about a fifth of the teachers ask for a mentor (young specialists,
        newcomers, teachers learning something new, pedagogy students on practice) and about a sixth
        mentor; about one pupil in ten asks for a mentor, with four mentors (older pupils, college
        students, professionals) for every ten such pupils.
    today : datetime.date
        Export date.
    """
    rng = np.random.default_rng([seed, 1])
    draw = Random(rng)
    loaded = load_spec(spec)
    school = draw.integer(1, 80)
    if spec == "teacher":
        n_mentors, n_mentees = _teacher_school_sizes(draw, teachers)
        taken: set[str] = set()
        mentor_part = _teacher_mentors(loaded, draw, school, n_mentors, today, taken)
        mentee_part = _teacher_mentees(loaded, draw, school, n_mentees, today, taken)
    else:
        n_mentees = max(5, round(pupils * draw.py.uniform(0.08, 0.12)))
        n_mentors = max(3, round(n_mentees * draw.py.uniform(0.35, 0.45)))
        mentor_part = _pupil_mentors(loaded, draw, np.full(n_mentors, school), today)
        mentee_part = _pupil_mentees(loaded, draw, np.full(n_mentees, school), today)
    name = _school_name(school)
    return _assemble(
        loaded,
        rng,
        seed,
        today,
        (mentor_part, [name] * n_mentors),
        (mentee_part, [name] * n_mentees),
    )


def make_city(
    seed: int = 0,
    spec: str | Spec = "pupil",
    mentees: int | None = None,
    mentors: int | None = None,
    schools: int = 300,
    today: dt.date = TODAY,
) -> Cohort:
    """A city: many schools of different sizes; pairs cross schools only for remote mentoring.

    Parameters
    ----------
    seed : int
    spec : {"pupil", "teacher"} or Spec
        The default questionnaires, or a spec of the same questions (``name`` pupil or
        teacher), e.g. the pupil spec with groups of :func:`experiments.cohorts.make_groups`.
    mentees, mentors : int, optional
        Totals over the city; by default 30,000 and 12,000 for pupils (Armavir alone aims at 7,260
        pupil mentees), 3,000 and 2,400 for teachers.
    schools : int
        Number of schools; their sizes are log-normal (a few big schools, many small ones).
    today : datetime.date
        Export date.
    """
    rng = np.random.default_rng([seed, 2])
    draw = Random(rng)
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    spec = loaded.name
    defaults = (30_000, 12_000) if spec == "pupil" else (3_000, 2_400)
    n_mentees = defaults[0] if mentees is None else mentees
    n_mentors = defaults[1] if mentors is None else mentors
    size = rng.lognormal(0.0, 0.5, schools)
    share = size / size.sum()
    mentee_school = np.sort(rng.choice(schools, n_mentees, p=share)) + 1
    mentor_school = np.sort(rng.choice(schools, n_mentors, p=share)) + 1
    if spec == "pupil":
        mentor_part = _pupil_mentors(loaded, draw, mentor_school, today)
        mentee_part = _pupil_mentees(loaded, draw, mentee_school, today)
    else:
        taken: set[str] = set()
        mentor_part = _by_school(_teacher_mentors, loaded, draw, mentor_school, today, taken)
        mentee_part = _by_school(_teacher_mentees, loaded, draw, mentee_school, today, taken)
    return _assemble(
        loaded,
        rng,
        seed,
        today,
        (mentor_part, [_school_name(int(s)) for s in mentor_school]),
        (mentee_part, [_school_name(int(s)) for s in mentee_school]),
    )


def _by_school(
    make: Callable[[Spec, Random, int, int, dt.date, set[str]], _Part],
    spec: Spec,
    rng: Random,
    schools: np.ndarray,
    today: dt.date,
    taken: set[str],
) -> _Part:
    parts = [
        make(spec, rng, int(school), int((schools == school).sum()), today, taken)
        for school in np.unique(schools)
    ]
    table = pd.concat([p[0] for p in parts], ignore_index=True).fillna("")
    return table, {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
