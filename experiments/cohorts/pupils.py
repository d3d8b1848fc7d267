"""Pupil questionnaires: older pupils, students and professionals mentoring pupils."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from experiments.cohorts.draws import (
    Random,
    Writer,
    _consent,
    _meeting_format,
    _slot_text,
    _slots,
    _timestamp,
)
from experiments.cohorts.names import _full_name, _school_name
from features import Spec

_PUPIL_SUBJECTS = (
    "russian",
    "literature",
    "math",
    "informatics",
    "physics",
    "chemistry",
    "biology",
    "geography",
    "history",
    "social",
    "foreign",
)
_GOALS = ("grades", "exams", "olympiads", "project", "career", "adaptation", "leadership")
_HOBBIES = (
    "sport",
    "music",
    "drawing",
    "reading",
    "programming",
    "robotics",
    "chess",
    "theatre",
    "volunteering",
    "tourism",
    "games",
    "cinema",
    "photo",
    "languages",
    "science",
)
_MENTOR_ROLE = {"pupil": 0.7, "student": 0.2, "professional": 0.1}
_REMOTE_SHARE = {"pupil": 0.1, "student": 0.35, "professional": 0.4}
_MENTOR_MODELS = {
    "pupil": dict.fromkeys(("achiever", "peer", "leader"), 1.0),
    "student": dict.fromkeys(("achiever", "project"), 1.0),
    "professional": dict.fromkeys(("professional", "project"), 1.0),
}
_MENTEE_MODELS = dict.fromkeys(("achiever", "peer", "leader", "project", "professional"), 1.0)
_PUPIL_PARTS = ("утро", "после уроков", "вечер")
_GRADE_SHARE = (0.2, 0.2, 0.18, 0.16, 0.14, 0.07, 0.05)  # classes 5..11
_TOPICS = len(_PUPIL_SUBJECTS) + len(_GOALS)


def _topics(stated: np.ndarray, truth: np.ndarray) -> tuple[list[str], list[str]]:
    """Subjects and goals marked in a pupil's questionnaire (at least one goal)."""
    subjects = [s for s, on in zip(_PUPIL_SUBJECTS, stated, strict=False) if on]
    goal_marks = stated[len(_PUPIL_SUBJECTS) :]
    goals = [g for g, on in zip(_GOALS, goal_marks, strict=True) if on]
    return subjects, goals or [_GOALS[int(np.argmax(truth[len(_PUPIL_SUBJECTS) :]))]]


def _pupil_common(
    writer: Writer, rng: Random, age: int, remote_share: float, slots: np.ndarray
) -> tuple[dict[str, str], list[str]]:
    hobbies = rng.py.sample(_HOBBIES, rng.integer(1, 5))
    cells = {
        "age": f"{age}" if rng.random() < 0.9 else f"{age} лет",
        "interests": writer.labels("interests", [h for h in _HOBBIES if h in hobbies]),
        "meeting_format": writer.labels("meeting_format", _meeting_format(rng, remote_share)),
        "free_time": _slot_text(slots, _PUPIL_PARTS, rng),
        "parent_consent": _consent(rng, 0.9) if age < 18 else "",
        "consent": _consent(rng, 0.96),
    }
    return cells, hobbies


def _pupil_mentors(
    spec: Spec, rng: Random, schools: np.ndarray, today: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = Writer(spec, "mentors")
    size = len(schools)
    strength = rng.np.beta(1.5, 2.5, (size, _TOPICS))
    hobbies = np.zeros((size, len(_HOBBIES)), dtype=bool)
    level = np.full(size, np.nan)
    slots = np.zeros((size, 21), dtype=bool)
    for j in range(size):
        role = rng.pick(_MENTOR_ROLE)[0]
        grade = rng.integer(8, 12) if role == "pupil" else None
        if grade is not None:
            age, level[j] = grade + 7, grade
        else:
            age = rng.integer(17, 23) if role == "student" else rng.integer(24, 56)
            strength[j, len(_PUPIL_SUBJECTS) + _GOALS.index("career")] += 0.5
            strength[j, len(_PUPIL_SUBJECTS) + _GOALS.index("project")] += 0.3
        strength[j] = np.clip(strength[j], 0, 1)
        subjects, goals = _topics(strength[j] + rng.np.normal(0, 0.12, _TOPICS) > 0.5, strength[j])
        slots[j] = _slots(rng, busy_evenings=0.4)
        cells, liked = _pupil_common(writer, rng, age, _REMOTE_SHARE[role], slots[j])
        hobbies[j] = [h in liked for h in _HOBBIES]
        wanted = [f"g{g}" for g in range(max(1, grade - 5), grade - 1)] if grade else []
        models = rng.pick(_MENTOR_MODELS[role], rng.integer(1, 3))
        days_ago = rng.integer(15, 40)
        cells |= {
            "submitted": _timestamp(rng, today - dt.timedelta(days=days_ago)),
            "person_id": f"Н-{schools[j]}-{j + 1:05d}",
            "full_name": _full_name(rng),
            "school": _school_name(int(schools[j])),
            "role": writer.label("role", role),
            "grade": str(grade) if grade else "",
            "subjects": writer.labels("subjects", subjects),
            "help": writer.labels("help", goals),
            "role_models": writer.labels("role_models", models),
            "wanted_grades": writer.labels("wanted_grades", wanted) if rng.random() < 0.6 else "",
            "capacity": rng.pick({"1": 0.45, "2": 0.35, "3": 0.2})[0],
            "parent_contact": "+7 900 000-00-00" if age < 18 else "",
        }
        writer.add(cells)
    skill = rng.np.beta(4, 2.5, size)
    hidden = {"strength": strength, "subjects": hobbies, "level": level, "slots": slots}
    return writer.table(), hidden | {"skill": skill}


def _pupil_mentees(
    spec: Spec, rng: Random, schools: np.ndarray, today: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = Writer(spec, "mentees")
    size = len(schools)
    need = rng.np.beta(1.2, 3.0, (size, _TOPICS))
    hobbies = np.zeros((size, len(_HOBBIES)), dtype=bool)
    level = rng.np.choice(np.arange(5, 12), size=size, p=_GRADE_SHARE).astype(float)
    slots = np.zeros((size, 21), dtype=bool)
    exams = len(_PUPIL_SUBJECTS) + _GOALS.index("exams")
    need[level >= 9, exams] = np.minimum(1.0, need[level >= 9, exams] + 0.5)
    stated = need + rng.np.normal(0, 0.1, need.shape) > 0.45
    for i in range(size):
        grade = int(level[i])
        subjects, goals = _topics(stated[i], need[i])
        slots[i] = _slots(rng, busy_evenings=0.3)
        cells, liked = _pupil_common(writer, rng, grade + 6 + rng.integer(0, 2), 0.1, slots[i])
        hobbies[i] = [h in liked for h in _HOBBIES]
        entered = today - dt.timedelta(days=rng.integer(1, 45))
        cells |= {
            "submitted": _timestamp(rng, entered),
            "person_id": f"У-{schools[i]}-{i + 1:05d}",
            "full_name": _full_name(rng),
            "school": _school_name(int(schools[i])),
            "grade": str(grade),
            "subjects": writer.labels("subjects", subjects),
            "goals": writer.labels("goals", goals),
            "role_models": writer.labels(
                "role_models", rng.pick(_MENTEE_MODELS, rng.integer(1, 3))
            ),
            "entered": entered.strftime("%d.%m.%Y") if rng.random() < 0.6 else "",
            "parent_contact": "+7 900 000-00-00",
        }
        writer.add(cells)
    hidden = {"need": need, "subjects": hobbies, "level": level, "slots": slots}
    return writer.table(), hidden
