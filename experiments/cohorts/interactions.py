"""A programme whose hidden truth needs learning: rating vectors, cross preferences, text, fields.

The spec ``interactions.yaml`` asks both sides five interest ratings (0–10) and their hobbies in free
text; mentors their style and field, mentees the style they want and their goal. The true
compatibility of a pair is a mix of four terms the spec's hand weights cannot say:

- ``ratings``: Pearson correlation of the two rating vectors (rescaled to [0, 1]);
- ``style``: the mentee's wanted style is the mentor's style (one side's preference against the
  other side's attribute: different questions);
- ``hobbies``: a hobby word in both free texts;
- ``field``: how the mentor's field suits the mentee's goal (a hidden 4 × 4 table: an interaction
  of two categorical answers).

The hand weights compare one rating and the hobbies; a learned model with crosses of the two
sides' answers, or gradient-boosted trees, can recover the rest.

Examples
--------
>>> cohort = make_interactions(seed=1, mentors=30, mentees=60)
>>> len(cohort.mentors), len(cohort.mentees)
(30, 60)
>>> history = cohort.history(200, seed=2)
>>> len(history), sorted(set(history.outcome.tolist()))
(200, [0.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import Answers, Spec, load_spec, read_answers
from features.learning import History

__all__ = ["SPEC", "InteractionCohort", "make_interactions"]

SPEC = Path(__file__).resolve().parent / "interactions.yaml"
_STYLES = ("Строгий", "Мягкий", "Игровой")
_FIELDS = ("Наука", "Искусство", "Спорт", "Техника")
_GOALS = ("Экзамены", "Олимпиады", "Проект", "Профессия")
_HOBBIES = (
    "шахматы", "футбол", "рисование", "программирование", "музыка", "театр", "туризм", "чтение",
    "фотография", "робототехника", "плавание", "танцы", "кулинария", "астрономия", "история",
    "волонтёрство",
)  # fmt: skip
#: Weight of each term of the true compatibility.
WEIGHTS = {"ratings": 0.3, "style": 0.25, "hobbies": 0.2, "field": 0.25}


@dataclass
class InteractionCohort:
    """Both sides' answers and the hidden truth.

    Attributes
    ----------
    spec : Spec
    mentors, mentees : Answers
    ratings : dict of str to numpy.ndarray
        True rating vectors of each side, shape (n, 5).
    style, wanted, field, goal : numpy.ndarray of int
    hobbies : dict of str to numpy.ndarray of bool
        Hobbies of each side, shape (n, 16).
    suits : numpy.ndarray, shape (4, 4)
        How each mentor field suits each mentee goal, [0, 1].
    seed : int
    """

    spec: Spec
    mentors: Answers
    mentees: Answers
    ratings: dict[str, np.ndarray]
    style: np.ndarray
    wanted: np.ndarray
    field: np.ndarray
    goal: np.ndarray
    hobbies: dict[str, np.ndarray]
    suits: np.ndarray
    seed: int

    def compatibility(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The hidden true compatibility in [0, 1] of each pair."""
        a = self.ratings["mentees"][mentee]
        b = self.ratings["mentors"][mentor]
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        corr = np.divide((a * b).sum(axis=1), norm, out=np.zeros(len(a)), where=norm > 0)
        terms = {
            "ratings": (1 + corr) / 2,
            "style": (self.wanted[mentee] == self.style[mentor]).astype(float),
            "hobbies": (self.hobbies["mentees"][mentee] & self.hobbies["mentors"][mentor])
            .any(axis=1)
            .astype(float),
            "field": self.suits[self.field[mentor], self.goal[mentee]],
        }
        return sum(WEIGHTS[k] * v for k, v in terms.items()) / sum(WEIGHTS.values())

    def history(self, size: int, seed: int = 0) -> History:
        """``size`` random past pairs with a 0/1 outcome drawn from the true compatibility."""
        rng = np.random.default_rng([self.seed, seed, 5])
        mentee = rng.integers(0, len(self.mentees), size)
        mentor = rng.integers(0, len(self.mentors), size)
        truth = self.compatibility(mentee, mentor)
        chance = 1.0 / (1.0 + np.exp(-10.0 * (truth - np.median(truth))))
        outcome = (rng.random(size) < chance).astype(float)
        return History(mentee, mentor, outcome, list(range(2, size + 2)))


def _side(
    rng: np.random.Generator, size: int, prefix: str, answers: dict[str, tuple[str, ...]]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    ratings = rng.integers(0, 11, (size, 5)).astype(float)
    # Ratings are reported with noise of one point and missing now and then.
    reported = np.clip(ratings + rng.integers(-1, 2, ratings.shape), 0, 10)
    hobbies = rng.random((size, len(_HOBBIES))) < 2.0 / len(_HOBBIES)
    codes = {key: rng.integers(0, len(labels), size) for key, labels in answers.items()}
    table = {
        "Код": [f"{prefix}{k:05d}" for k in range(size)],
        "ФИО": [f"Участник {prefix}{k}" for k in range(size)],
    }
    headers = ("наука", "искусство", "спорт", "техника", "общение")
    for column, header in enumerate(headers):
        cells = [f"{v:g}" for v in reported[:, column]]
        table[f"Интерес: {header} (0–10)"] = ["" if rng.random() < 0.05 else cell for cell in cells]
    for key, labels in answers.items():
        table[key] = [labels[c] for c in codes[key]]
    table["Увлечения"] = [
        ", ".join(h for h, on in zip(_HOBBIES, row, strict=True) if on) for row in hobbies
    ]
    hidden = {"ratings": ratings, "hobbies": hobbies} | codes
    return pd.DataFrame(table), hidden


def make_interactions(seed: int = 0, mentors: int = 300, mentees: int = 900) -> InteractionCohort:
    """Generate both sides of the interactions programme (see the module's docstring)."""
    rng = np.random.default_rng([seed, 3])
    spec = load_spec(SPEC)
    mentor_table, mentor_hidden = _side(
        rng, mentors, "Н", {"Ваш стиль наставничества": _STYLES, "Ваша область": _FIELDS}
    )
    mentor_table["Сколько наставляемых возьмёте"] = rng.integers(1, 4, mentors).astype(str)
    mentee_table, mentee_hidden = _side(
        rng, mentees, "У", {"Какой наставник вам нужен": _STYLES, "Ваша цель": _GOALS}
    )
    return InteractionCohort(
        spec,
        read_answers(mentor_table, spec, "mentors"),
        read_answers(mentee_table, spec, "mentees"),
        {"mentors": mentor_hidden["ratings"], "mentees": mentee_hidden["ratings"]},
        mentor_hidden["Ваш стиль наставничества"],
        mentee_hidden["Какой наставник вам нужен"],
        mentor_hidden["Ваша область"],
        mentee_hidden["Ваша цель"],
        {"mentors": mentor_hidden["hobbies"], "mentees": mentee_hidden["hobbies"]},
        rng.permutation(np.array([1.0, 0.6, 0.2, 0.0]))[np.argsort(rng.random((4, 4)), axis=1)],
        seed,
    )
