"""Synthetic cohorts with a known truth: the sample exports, the city benchmarks and the evaluation.

A seeded generator of schools and cities grounded in DOMAIN.md (school sizes, the share of young
specialists, roles and forms, the eight areas of professional difficulty, subjects, schedules, remote
acceptance). Each person has hidden traits (true needs and strengths, a communication style, a
mentor's skill, a mentee's motivation); the questionnaire answers are noisy reports of them, written
exactly as an online form service exports them (Russian headers of the default specs, answers joined
by commas, a timestamp column). ``Cohort.compatibility`` gives the hidden true compatibility of any
pairs and ``Cohort.outcomes`` simulated outcomes (satisfaction 1–10 of both sides, finished or not),
so that methods can be scored against a truth they never see.

Examples
--------
>>> cohort = make_school(seed=1, spec="teacher")
>>> mentors, mentees = cohort.answers("mentors"), cohort.answers("mentees")
>>> len(mentors) > 5 and len(mentees) > 5
True
>>> outcome = cohort.outcomes([0, 1], [0, 0], seed=3)
>>> list(outcome.columns)  # doctest: +NORMALIZE_WHITESPACE
['mentee', 'mentor', 'mentee_id', 'mentor_id', 'compatibility', 'mentee_satisfaction',
 'mentor_satisfaction', 'finished']

``python -m experiments.cohorts examples`` rewrites the sample files under ``examples/``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from features import Answers, Spec, load_spec, read_answers, score_pairs
from features.parse import DAYS

__all__ = ["TODAY", "Cohort", "Hidden", "make_city", "make_school", "write_examples"]

#: The day the cohorts are "exported": waiting times are counted to it.
TODAY = dt.date(2024, 10, 1)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Фролов",
    "Беляев",
    "Тарасов",
)
_MALE_NAMES = (
    "Александр",
    "Алексей",
    "Андрей",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Игорь",
    "Максим",
    "Михаил",
    "Никита",
    "Олег",
    "Павел",
    "Сергей",
)
_FEMALE_NAMES = (
    "Анна",
    "Анастасия",
    "Валентина",
    "Галина",
    "Дарья",
    "Екатерина",
    "Елена",
    "Ирина",
    "Мария",
    "Наталья",
    "Ольга",
    "Светлана",
    "Татьяна",
    "Юлия",
)
_PATRONYMS = (
    "Александров",
    "Алексеев",
    "Андреев",
    "Викторов",
    "Дмитриев",
    "Иванов",
    "Михайлов",
    "Николаев",
    "Петров",
    "Сергеев",
)
# Transliteration of Cyrillic letters for made-up e-mail addresses ("" for the signs).
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
         "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"),
        strict=True,
    )
)  # fmt: skip
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


@dataclass
class Cohort:
    """A generated cohort: the two exports, organisations and the hidden truth.

    Attributes
    ----------
    spec : Spec
        The default spec whose headers the exports use.
    mentors_table, mentees_table : pandas.DataFrame
        The exports as a form service writes them (Russian headers, text cells).
    mentor_orgs, mentee_orgs : list of str
        The organisation (school) of each person.
    hidden : Hidden
        The truth.
    seed : int
    today : datetime.date
        The export date; waiting times count to it.
    """

    spec: Spec
    mentors_table: pd.DataFrame
    mentees_table: pd.DataFrame
    mentor_orgs: list[str]
    mentee_orgs: list[str]
    hidden: Hidden
    seed: int
    today: dt.date = TODAY

    def __repr__(self) -> str:
        schools = len(set(self.mentee_orgs) | set(self.mentor_orgs))
        return (
            f"Cohort(spec={self.spec.name!r}, mentees={len(self.mentees_table)}, "
            f"mentors={len(self.mentors_table)}, schools={schools}, seed={self.seed})"
        )

    def answers(self, side: str) -> Answers:
        """The export of one side, validated by :func:`features.read_answers`."""
        return self._answers[side]

    @cached_property
    def _answers(self) -> dict[str, Answers]:
        return {
            "mentors": read_answers(self.mentors_table, self.spec, "mentors"),
            "mentees": read_answers(self.mentees_table, self.spec, "mentees"),
        }

    def compatibility(self, mentee: ArrayLike, mentor: ArrayLike) -> np.ndarray:
        """The hidden true compatibility in [0, 1] of each pair (``mentee[k]``, ``mentor[k]``)."""
        e = np.asarray(mentee, dtype=np.int64)
        o = np.asarray(mentor, dtype=np.int64)
        h = self.hidden
        need = h.need[e]
        covered = (need * h.strength[o]).sum(axis=1)
        total = need.sum(axis=1)
        cover = np.divide(covered, total, out=np.full(len(e), 0.5), where=total > 0)
        common = (h.mentee_subjects[e] & h.mentor_subjects[o]).sum(axis=1)
        union = (h.mentee_subjects[e] | h.mentor_subjects[o]).sum(axis=1)
        subjects = np.divide(common, union, out=np.zeros(len(e)), where=union > 0)
        gap = h.mentor_level[o] - h.mentee_level[e]
        gap_term = np.where(np.isnan(gap), 0.6, np.interp(gap, *h.gap_curve))
        slots = np.minimum(1.0, (h.mentee_slots[e] & h.mentor_slots[o]).sum(axis=1) / 2.0)
        style = (1.0 + (h.mentee_style[e] * h.mentor_style[o]).sum(axis=1)) / 2.0
        terms = {
            "cover": cover,
            "subjects": np.minimum(1.0, 2 * subjects),
            "gap": gap_term,
            "slots": slots,
            "style": style,
            "skill": h.skill[o],
        }
        total_weight = sum(h.weights.values())
        truth = sum(h.weights[name] * value for name, value in terms.items()) / total_weight
        return np.clip(np.asarray(truth, dtype=float), 0.0, 1.0)

    def outcomes(
        self, mentee: ArrayLike, mentor: ArrayLike, seed: int | None = None
    ) -> pd.DataFrame:
        """Simulated outcomes of the pairs: satisfaction 1–10 of both sides and finished yes/no.

        Satisfaction follows the true compatibility with noise (the mentor's also the mentee's
        motivation); finishing also depends on the mentee's motivation.
        """
        e = np.asarray(mentee, dtype=np.int64)
        o = np.asarray(mentor, dtype=np.int64)
        rng = np.random.default_rng([self.seed, 7919 if seed is None else seed])
        truth = self.compatibility(e, o)
        motivation = self.hidden.motivation[e]
        mentee_raw = truth + rng.normal(0.0, 0.12, len(e))
        mentor_raw = 0.7 * truth + 0.3 * motivation + rng.normal(0.0, 0.12, len(e))
        finish_odds = 7.0 * (truth - 0.45) + 2.0 * (motivation - 0.5)
        finished = rng.random(len(e)) < 1.0 / (1.0 + np.exp(-finish_odds))
        mentees, mentors = self.answers("mentees"), self.answers("mentors")
        return pd.DataFrame(
            {
                "mentee": e,
                "mentor": o,
                "mentee_id": [mentees.person_ids[i] for i in e],
                "mentor_id": [mentors.person_ids[j] for j in o],
                "compatibility": truth,
                "mentee_satisfaction": _satisfaction(mentee_raw),
                "mentor_satisfaction": _satisfaction(mentor_raw),
                "finished": finished,
            }
        )

    def history(self, size: int, seed: int = 0) -> pd.DataFrame:
        """Past pairs with outcomes: ``size`` allowed pairs drawn at random, as earlier terms left them."""
        scores = score_pairs(
            self.spec,
            self.answers("mentors"),
            self.answers("mentees"),
            self.mentee_orgs,
            self.mentor_orgs,
        )
        mentee, mentor = scores.pairs
        rng = np.random.default_rng([self.seed, seed, 17])
        chosen = rng.choice(len(mentee), size=min(size, len(mentee)), replace=False)
        chosen.sort()
        return self.outcomes(mentee[chosen], mentor[chosen], seed)

    def write(
        self, directory: str | Path, encoding: str = "utf-8", delimiter: str = ","
    ) -> tuple[Path, Path]:
        """Write ``mentors.csv`` and ``mentees.csv`` as a form service or Excel exports them."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = directory / "mentors.csv", directory / "mentees.csv"
        for table, path in zip((self.mentors_table, self.mentees_table), paths, strict=True):
            table.to_csv(path, index=False, encoding=encoding, sep=delimiter, lineterminator="\r\n")
        return paths


def _satisfaction(raw: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(1.0 + 9.0 * raw), 1, 10).astype(np.int64)


# ----------------------------------------------------------------------------- people


class _Random:
    """Scalar draws from Python's fast generator, array draws from numpy, both from one seed."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.np = rng
        self.py = random.Random(int(rng.integers(2**63)))

    def random(self) -> float:
        return self.py.random()

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high)."""
        return self.py.randrange(low, high)

    def one(self, options: Sequence[str]) -> str:
        return self.py.choice(options)

    def pick(self, weights: dict[str, float], size: int = 1) -> list[str]:
        """``size`` different keys drawn with the given weights, in the dict's order."""
        if size <= 0:
            return []
        # Exponential race: the ``size`` smallest -log(u) / weight win (weighted, no replacement).
        race = sorted((-math.log(1.0 - self.py.random()) / w, k) for k, w in weights.items())
        chosen = {k for _, k in race[:size]}
        return [k for k in weights if k in chosen]


class _Writer:
    """Turns generated answers into export cells with the spec's headers and answer labels."""

    def __init__(self, spec: Spec, side: str) -> None:
        self.side = spec.side(side)
        self.rows: list[dict[str, str]] = []
        self.headers = {q.key: q.header for q in self.side.questions}
        self.answer_labels = {
            (q.key, c.key): c.label for q in self.side.questions for c in q.choices
        }

    def label(self, key: str, answer: str) -> str:
        return self.answer_labels[key, answer]

    def labels(self, key: str, answers: Sequence[str]) -> str:
        return ", ".join(self.answer_labels[key, a] for a in answers)

    def add(self, cells: dict[str, str], extra: dict[str, str] | None = None) -> None:
        row = {self.headers[k]: v for k, v in cells.items()}
        self.rows.append(row | (extra or {}))

    def table(self) -> pd.DataFrame:
        headers = []
        for question in self.side.questions:
            if not question.is_grid:
                headers.append(question.header)
                continue
            headers += [
                question.item_header.format(header=question.header, item=i.label)
                for i in question.items
            ]
        present = {h for row in self.rows for h in row}
        frame = pd.DataFrame(self.rows, columns=[h for h in headers if h in present])
        return frame.fillna("")


def _full_name(rng: _Random) -> str:
    surname = rng.one(_SURNAMES)
    surname = surname.replace("ё", "е") if rng.random() < 0.3 else surname
    if rng.random() < 0.75:
        return f"{surname}а {rng.one(_FEMALE_NAMES)} {rng.one(_PATRONYMS)}на"
    return f"{surname} {rng.one(_MALE_NAMES)} {rng.one(_PATRONYMS)}ич"


def _email(name: str, school: int, taken: set[str]) -> str:
    surname, first = name.split()[:2]
    base = "".join(_TRANSLIT.get(c, c) for c in surname.lower())
    base += "." + _TRANSLIT.get(first[0].lower(), "x")
    address, k = f"{base}@school{school}.example", 1
    while address in taken:
        k += 1
        address = f"{base}{k}@school{school}.example"
    taken.add(address)
    return address


def _timestamp(rng: _Random, day: dt.date) -> str:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(
        seconds=rng.integer(8 * 3600, 21 * 3600)
    )
    return moment.strftime("%d.%m.%Y %H:%M:%S")


def _slots(rng: _Random, busy_evenings: float) -> np.ndarray:
    """True free time: mostly weekday afternoons and evenings, a few mornings and weekends."""
    chance = np.zeros((7, 3))
    chance[:5] = [0.08, 0.45, 0.45 * (1 - busy_evenings)]
    chance[5:] = [0.2, 0.25, 0.1]
    slots = rng.np.random((7, 3)) < chance
    if not slots.any():
        slots[rng.integer(0, 5), 1] = True
    return slots.ravel()


def _slot_text(slots: np.ndarray, parts: Sequence[str], rng: _Random) -> str:
    days = [short for _, short in DAYS]
    chosen = [f"{days[k // 3]} {parts[k % 3]}" for k in np.flatnonzero(slots).tolist()]
    return ", ".join(chosen) if rng.random() < 0.8 else "; ".join(chosen)


def _style(rng: np.random.Generator, size: int) -> np.ndarray:
    style = rng.normal(size=(size, 3))
    return style / np.linalg.norm(style, axis=1, keepdims=True)


def _consent(rng: _Random, given: float = 0.95) -> str:
    roll = rng.random()
    if roll < given:
        return rng.one(("Да", "да", "Согласен(на)", "Да"))
    return "Нет" if roll < given + 0.02 else ""


def _meeting_format(rng: _Random, remote_share: float) -> list[str]:
    if rng.random() >= remote_share:
        return ["in_person"]
    return ["remote"] if rng.random() < 0.25 else ["in_person", "remote"]


def _school_name(school: int) -> str:
    return f"МБОУ СОШ № {school}"


# ----------------------------------------------------------------------------- teachers

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


def _teacher_subjects(rng: _Random) -> list[str]:
    first = rng.pick(_SUBJECTS)[0]
    if first in _SECOND_SUBJECT and rng.random() < 0.3:
        return [first, _SECOND_SUBJECT[first]]
    return [first]


def _interests(rng: _Random, most: int) -> str:
    return ", ".join(rng.py.sample(_TEACHER_INTERESTS, rng.integer(0, most + 1)))


def _mentor_models(rng: _Random, position: str, experience: float, ict: float) -> list[str]:
    models = ["experienced"] if experience >= 15 else []
    models += ["subject_expert"] if rng.random() < 0.5 else []
    models += ["innovator"] if ict > 0.6 else []
    models += ["leader"] if position == "head" or rng.random() < 0.2 else []
    return models


def _teacher_mentors(
    spec: Spec, rng: _Random, school: int, size: int, today: dt.date, taken: set[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = _Writer(spec, "mentors")
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
    spec: Spec, rng: _Random, school: int, size: int, today: dt.date, taken: set[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = _Writer(spec, "mentees")
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


def _teacher_school_sizes(rng: _Random, teachers: int) -> tuple[int, int]:
    mentees = max(3, round(teachers * rng.py.uniform(0.15, 0.25)))
    mentors = max(3, round(teachers * rng.py.uniform(0.12, 0.2)))
    return mentors, mentees


# ----------------------------------------------------------------------------- pupils

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
    writer: _Writer, rng: _Random, age: int, remote_share: float, slots: np.ndarray
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
    spec: Spec, rng: _Random, schools: np.ndarray, today: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = _Writer(spec, "mentors")
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
    spec: Spec, rng: _Random, schools: np.ndarray, today: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    writer = _Writer(spec, "mentees")
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


# ----------------------------------------------------------------------------- cohorts

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
    draw = _Random(rng)
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
    spec: str = "pupil",
    mentees: int | None = None,
    mentors: int | None = None,
    schools: int = 300,
    today: dt.date = TODAY,
) -> Cohort:
    """A city: many schools of different sizes; pairs cross schools only for remote mentoring.

    Parameters
    ----------
    seed : int
    spec : {"pupil", "teacher"}
    mentees, mentors : int, optional
        Totals over the city; by default 30,000 and 12,000 for pupils (Armavir alone aims at 7,260
        pupil mentees), 3,000 and 2,400 for teachers.
    schools : int
        Number of schools; their sizes are log-normal (a few big schools, many small ones).
    today : datetime.date
        Export date.
    """
    rng = np.random.default_rng([seed, 2])
    draw = _Random(rng)
    loaded = load_spec(spec)
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
    make: Callable[[Spec, _Random, int, int, dt.date, set[str]], _Part],
    spec: Spec,
    rng: _Random,
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


def write_examples(root: str | Path = EXAMPLES) -> list[Path]:
    """Write the sample exports.

    ``teachers/``: one school's teacher questionnaires, UTF-8 CSV with commas as Google Forms exports
    them; ``pupils/``: one school's pupil questionnaires, Windows-1251 CSV with semicolons as Excel
    saves them in a Russian locale.
    """
    root = Path(root)
    written = list(make_school(seed=2024, spec="teacher", teachers=90).write(root / "teachers"))
    pupils = make_school(seed=2024, spec="pupil", pupils=450)
    written += pupils.write(root / "pupils", encoding="cp1251", delimiter=";")
    return written


def main(argv: Sequence[str] = ()) -> None:
    """``python -m experiments.cohorts examples [DIR]`` rewrites the sample files."""
    args = list(argv)
    if not args or args[0] != "examples":
        raise SystemExit("usage: python -m experiments.cohorts examples [DIR]")
    for path in write_examples(args[1] if len(args) > 1 else EXAMPLES):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
