"""A city of pupils with groups (issue 11): mentors of pupil forms take groups of the sizes their
form allows, and a tenth of the mentees need two mentors (a subject mentor and a tutor).

The questionnaires are those of ``features/specs/pupil.yaml`` with the capacity question raised
to the largest group of the forms (the school's Положение allows groups: docs/rules.md#group-size):
older pupils take 2–6 younger ones (ученик – ученик, up to 10), students 1–4 (студент – ученик,
up to 5), professionals 3–10 (работодатель – ученик, up to 10).

>>> cohort = make_groups(seed=1, mentees=300, mentors=100, schools=4)
>>> scores = cohort.answers("mentors")
>>> int(scores.capacity.max()) > 3
True
>>> round(float((cohort.answers("mentees").demand == 2).mean()), 1)
0.1
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from experiments.cohorts.make import make_city
from experiments.cohorts.outcomes import TODAY, Cohort
from features import Spec, load_spec

__all__ = ["GROUP_SIZES", "TWO_MENTORS", "groups_spec", "groups_spec_source", "make_groups"]

#: Places a mentor of each role offers (uniform in the range), within their form's ``max_group``.
GROUP_SIZES = {"pupil": (2, 6), "student": (1, 4), "professional": (3, 10)}
#: Share of mentees who need two mentors.
TWO_MENTORS = 0.1

_PUPIL_SPEC = Path(__file__).resolve().parents[2] / "features" / "specs" / "pupil.yaml"


def groups_spec() -> Spec:
    """The pupil spec with the capacity question up to the largest group of its forms."""
    return load_spec(groups_spec_source())


def groups_spec_source() -> dict[str, Any]:
    """:func:`groups_spec` as the mapping a YAML file of it holds (``yaml.safe_dump`` writes one
    that ``nastavnik match --spec`` reads)."""
    raw: dict[str, Any] = yaml.safe_load(_PUPIL_SPEC.read_text("utf-8"))
    largest = max(form.get("max_group", 3) for form in raw["forms"])
    for question in raw["mentors"]["questions"]:
        if question["key"] == raw["mentors"]["fields"]["capacity"]:
            question["header"] = "Скольким ученикам вы готовы помогать?"
            question["aliases"] = [f"Скольким ученикам вы готовы помогать (1–{largest})?"]
            question["max"] = largest
    raw["title"] = raw["title"] + " — с группами"
    return raw


def make_groups(
    seed: int = 0,
    mentees: int = 3_000,
    mentors: int = 1_000,
    schools: int = 30,
    today: dt.date = TODAY,
    two_mentors: float = TWO_MENTORS,
) -> Cohort:
    """A city of pupils with groups and mentees needing two mentors (see the module)."""
    spec = groups_spec()
    cohort = make_city(
        seed=seed, spec=spec, mentees=mentees, mentors=mentors, schools=schools, today=today
    )
    rng = np.random.default_rng([seed, 11])
    mentor_questions = spec.mentors
    role = mentor_questions.question(mentor_questions.fields.role or "role")
    capacity_header = mentor_questions.question(mentor_questions.fields.capacity or "").header
    role_header = role.header
    role_of = {choice.label: choice.key for choice in role.choices}
    places = [
        str(rng.integers(GROUP_SIZES[role_of[label]][0], GROUP_SIZES[role_of[label]][1] + 1))
        for label in cohort.mentors_table[role_header]
    ]
    cohort.mentors_table = cohort.mentors_table.assign(**{capacity_header: places})
    demand_header = spec.mentees.question(spec.mentees.fields.demand or "").header
    needed = np.where(rng.random(len(cohort.mentees_table)) < two_mentors, "2", "")
    cohort.mentees_table = cohort.mentees_table.assign(**{demand_header: needed})
    return cohort
