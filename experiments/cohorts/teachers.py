"""Teacher questionnaires: mentors and mentees of schools, with their hidden traits."""

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
from experiments.cohorts.names import _email, _full_name, _school_name
from features import Spec

_TEACHER_INTERESTS = (
    "туризм",
    "походы",
    "краеведение",
    "шахматы",
    "театр",
    "хоровое пение",
    "фотография",
    "чтение",
    "робототехника",
    "цифровые инструменты",
    "проектная деятельность",
    "спорт",
    "рукоделие",
    "садоводство",
    "история края",
    "кино",
    "иностранные языки",
    "музеи",
)
_MOTIVATIONS = (
    "Хочу поделиться опытом",
    "Помню, как было трудно в первый год",
    "Нравится работать с молодыми коллегами",
    "Хочу развиваться сам(а)",
)
_EXPECTATIONS = (
    "Помощь с планированием уроков",
    "Советы по работе с родителями",
    "Поддержка в первый год",
    "Разобраться с документами",
    "Освоить цифровые сервисы",
)


_AREAS = ("science", "legal", "subject", "psychology", "methods", "ict", "upbringing", "health")
_SUBJECTS = {
    "primary": 0.2,
    "russian": 0.1,
    "math": 0.12,
    "literature": 0.04,
    "foreign": 0.1,
    "history": 0.05,
    "social": 0.03,
    "physics": 0.04,
    "chemistry": 0.03,
    "biology": 0.04,
    "geography": 0.03,
    "informatics": 0.04,
    "pe": 0.05,
    "technology": 0.03,
    "art": 0.02,
    "music": 0.02,
    "obzr": 0.01,
    "additional": 0.03,
    "support": 0.02,
}
_SECOND_SUBJECT = {
    "russian": "literature",
    "literature": "russian",
    "math": "physics",
    "physics": "math",
    "informatics": "math",
    "history": "social",
    "social": "history",
    "biology": "chemistry",
    "chemistry": "biology",
    "geography": "biology",
}
_MENTEE_STATUS = {
    "young": 0.5,
    "newcomer": 0.18,
    "learning": 0.14,
    "non_pedagogical": 0.1,
    "student": 0.08,
}
# Typical requests of each kind of mentee teacher (002 §1.1, §3.2), in the order of _AREAS.
_NEED_PROFILE = {
    "young": (0.2, 0.5, 0.4, 0.8, 0.8, 0.3, 0.6, 0.3),
    "newcomer": (0.1, 0.6, 0.3, 0.5, 0.3, 0.3, 0.5, 0.2),
    "learning": (0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 0.3, 0.2),
    "non_pedagogical": (0.5, 0.4, 0.3, 0.8, 0.9, 0.2, 0.5, 0.4),
    "student": (0.3, 0.3, 0.6, 0.7, 0.8, 0.2, 0.5, 0.3),
}
_EXPERIENCE = {
    "young": (0, 4),
    "newcomer": (2, 16),
    "learning": (10, 31),
    "non_pedagogical": (0, 6),
    "student": (0, 1),
}
_WANTED_MODEL = {
    "young": ("experienced", "subject_expert"),
    "newcomer": ("leader", "experienced"),
    "learning": ("innovator",),
    "non_pedagogical": ("subject_expert", "experienced"),
    "student": ("experienced",),
}
_CATEGORY = {"highest": 0.45, "first": 0.35, "post": 0.08, "methodist": 0.04, "mentor": 0.03}
_CATEGORY_SKILL = {"highest": 0.8, "methodist": 0.9, "mentor": 0.9, "first": 0.6}
_TEACHER_PARTS = ("утро", "день", "вечер")


def _teacher_subjects(rng: Random) -> list[str]:
    first = rng.pick(_SUBJECTS)[0]
    if first in _SECOND_SUBJECT and rng.random() < 0.3:
        return [first, _SECOND_SUBJECT[first]]
    return [first]


def _interests(rng: Random, most: int) -> str:
    return ", ".join(rng.py.sample(_TEACHER_INTERESTS, rng.integer(0, most + 1)))


def _mentor_models(rng: Random, position: str, experience: float, ict: float) -> list[str]:
    models = ["experienced"] if experience >= 15 else []
    models += ["subject_expert"] if rng.random() < 0.5 else []
    models += ["innovator"] if ict > 0.6 else []
    models += ["leader"] if position == "head" or rng.random() < 0.2 else []
    return models


def _teacher_mentors(
    spec: Spec, rng: Random, school: int, size: int, today: dt.date, taken: set[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = Writer(spec, "mentors")
    strength = np.clip(rng.np.beta(2.0, 2.5, (size, len(_AREAS))), 0, 1)
    subjects = np.zeros((size, len(_SUBJECTS)), dtype=bool)
    level = np.clip(rng.np.gamma(4.0, 5.0, size) + 5, 6, 42).round()
    slots = np.zeros((size, 21), dtype=bool)
    skill = np.zeros(size)
    for j in range(size):
        position = "head" if j == 0 else rng.pick({"teacher": 0.88, "specialist": 0.12})[0]
        category = rng.pick(_CATEGORY | {"none": 0.05})[0]
        strength[j] = np.clip(strength[j] + 0.1 * min(level[j], 30) / 30, 0, 1)
        if position == "specialist":
            strength[j, 3] = min(1.0, strength[j, 3] + 0.4)
        stated = strength[j] + rng.np.normal(0, 0.12, len(_AREAS)) > 0.55
        stated[np.argmax(strength[j])] = True
        own = ["support"] if position == "specialist" else _teacher_subjects(rng)
        subjects[j] = [k in own for k in _SUBJECTS]
        slots[j] = _slots(rng, busy_evenings=0.5)
        skill[j] = min(1.0, max(0.0, _CATEGORY_SKILL.get(category, 0.4) + rng.py.gauss(0, 0.2)))
        forms = ["head_teacher"] if position == "head" else ["teacher_teacher"]
        forms += ["employer_student"] if rng.random() < 0.35 else []
        name = _full_name(rng)
        models = _mentor_models(rng, position, level[j], strength[j, 5])
        days_ago = rng.integer(20, 40)
        writer.add(
            {
                "submitted": _timestamp(rng, today - dt.timedelta(days=days_ago)),
                "person_id": _email(name, school, taken),
                "full_name": name,
                "school": _school_name(school),
                "position": writer.label("position", position),
                "subjects": writer.labels("subjects", own),
                "experience": f"{level[j]:g}" + (" лет" if rng.random() < 0.15 else ""),
                "category": writer.label("category", category),
                "competences": writer.labels(
                    "competences", [a for a, s in zip(_AREAS, stated, strict=True) if s]
                ),
                "role_models": writer.labels("role_models", models),
                "forms": writer.labels("forms", forms),
                "meeting_format": writer.labels("meeting_format", _meeting_format(rng, 0.35)),
                "free_time": _slot_text(slots[j], _TEACHER_PARTS, rng),
                "capacity": rng.pick({"1": 0.4, "2": 0.4, "3": 0.2})[0],
                "interests": _interests(rng, 3),
                "motivation": rng.one(_MOTIVATIONS) if rng.random() < 0.6 else "",
                "consent": _consent(rng),
            }
        )
    hidden = {"strength": strength, "subjects": subjects, "level": level, "slots": slots}
    return writer.table(), hidden | {"skill": skill}


def _teacher_mentees(
    spec: Spec, rng: Random, school: int, size: int, today: dt.date, taken: set[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = Writer(spec, "mentees")
    grid = spec.mentees.question("difficulties")
    grid_headers = [grid.item_header.format(header=grid.header, item=i.label) for i in grid.items]
    levels = ("нет", "иногда", "постоянно")
    need = np.zeros((size, len(_AREAS)))
    subjects = np.zeros((size, len(_SUBJECTS)), dtype=bool)
    level = np.zeros(size)
    slots = np.zeros((size, 21), dtype=bool)
    for i in range(size):
        status = rng.pick(_MENTEE_STATUS)[0]
        noise = rng.np.normal(0, 0.2, len(_AREAS))
        need[i] = np.clip(np.array(_NEED_PROFILE[status]) + noise, 0, 1)
        reported = np.digitize(need[i] + rng.np.normal(0, 0.1, len(_AREAS)), [0.35, 0.65])
        level[i] = rng.integer(*_EXPERIENCE[status])
        own = _teacher_subjects(rng)
        subjects[i] = [k in own for k in _SUBJECTS]
        slots[i] = _slots(rng, busy_evenings=0.3)
        name = _full_name(rng)
        entered = today - dt.timedelta(days=rng.integer(1, 45))
        wanted = list(_WANTED_MODEL[status][: rng.integer(1, 3)])
        cells = {
            "submitted": _timestamp(rng, entered + dt.timedelta(days=rng.integer(0, 3))),
            "person_id": _email(name, school, taken),
            "full_name": name,
            "school": _school_name(school),
            "status": writer.label("status", status),
            "subjects": writer.labels("subjects", own),
            "experience": f"{level[i]:g}",
            "expectations": rng.one(_EXPECTATIONS) if rng.random() < 0.5 else "",
            "role_models": writer.labels("role_models", wanted),
            "meeting_format": writer.labels("meeting_format", _meeting_format(rng, 0.3)),
            "free_time": _slot_text(slots[i], _TEACHER_PARTS, rng),
            "interests": _interests(rng, 2),
            "entered": entered.strftime("%d.%m.%Y") if rng.random() < 0.7 else "",
            "consent": _consent(rng),
        }
        writer.add(cells, {h: levels[int(a)] for h, a in zip(grid_headers, reported, strict=True)})
    hidden = {"need": need, "subjects": subjects, "level": level, "slots": slots}
    return writer.table(), hidden


def _teacher_school_sizes(rng: Random, teachers: int) -> tuple[int, int]:
    mentees = max(3, round(teachers * rng.py.uniform(0.15, 0.25)))
    mentors = max(3, round(teachers * rng.py.uniform(0.12, 0.2)))
    return mentors, mentees
