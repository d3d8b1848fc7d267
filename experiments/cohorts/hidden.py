"""The hidden truth of a cohort: traits the questionnaires report only with noise."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from experiments.cohorts.draws import _style


@dataclass
class Hidden:
    """Hidden traits of a cohort, which the questionnaires report only with noise.

    Attributes
    ----------
    need : numpy.ndarray, shape (n_mentees, n_topics)
        True intensity of each request (areas of difficulty; for pupils subjects then goals), [0, 1].
    strength : numpy.ndarray, shape (n_mentors, n_topics)
        True strength of each mentor on each topic, [0, 1].
    mentee_subjects, mentor_subjects : numpy.ndarray of bool
        Subjects taught (teachers) or interests (pupils) that make people click.
    mentee_level, mentor_level : numpy.ndarray
        Experience in years (teachers) or class (pupils; NaN for adults).
    gap_curve : tuple of list
        Ideal difference of levels, as x and y points.
    mentee_slots, mentor_slots : numpy.ndarray of bool, shape (n, 21)
        True free time (7 days x 3 parts of the day).
    mentee_style, mentor_style : numpy.ndarray, shape (n, 3)
        Unit vectors of communication style: never asked, the irreducible part of the truth.
    skill : numpy.ndarray, shape (n_mentors,)
        How good a mentor is at mentoring, [0, 1].
    motivation : numpy.ndarray, shape (n_mentees,)
        How motivated a mentee is, [0, 1]; drives finishing the programme.
    weights : dict of str to float
        Weight of each term in the true compatibility.
    """

    need: np.ndarray
    strength: np.ndarray
    mentee_subjects: np.ndarray
    mentor_subjects: np.ndarray
    mentee_level: np.ndarray
    mentor_level: np.ndarray
    gap_curve: tuple[list[float], list[float]]
    mentee_slots: np.ndarray
    mentor_slots: np.ndarray
    mentee_style: np.ndarray
    mentor_style: np.ndarray
    skill: np.ndarray
    motivation: np.ndarray
    weights: dict[str, float] = field(default_factory=dict)


_TRUTH = {
    "teacher": (
        ([0.0, 3.0, 7.0, 12.0], [0.0, 0.4, 0.8, 1.0]),
        {"cover": 0.35, "subjects": 0.15, "gap": 0.1, "slots": 0.1, "style": 0.15, "skill": 0.15},
    ),
    "pupil": (
        ([0.0, 1.0, 2.0, 4.0, 7.0], [0.0, 0.6, 1.0, 1.0, 0.4]),
        {"cover": 0.4, "subjects": 0.1, "gap": 0.1, "slots": 0.1, "style": 0.15, "skill": 0.15},
    ),
}

_Part = tuple[pd.DataFrame, dict[str, np.ndarray]]


def _hidden(
    rng: np.random.Generator,
    mentees: dict[str, np.ndarray],
    mentors: dict[str, np.ndarray],
    kind: str,
) -> Hidden:
    curve, weights = _TRUTH[kind]
    return Hidden(
        need=mentees["need"],
        strength=mentors["strength"],
        mentee_subjects=mentees["subjects"],
        mentor_subjects=mentors["subjects"],
        mentee_level=mentees["level"],
        mentor_level=mentors["level"],
        gap_curve=curve,
        mentee_slots=mentees["slots"],
        mentor_slots=mentors["slots"],
        mentee_style=_style(rng, len(mentees["level"])),
        mentor_style=_style(rng, len(mentors["level"])),
        skill=mentors["skill"],
        motivation=rng.beta(3, 2, len(mentees["level"])),
        weights=dict(weights),
    )
