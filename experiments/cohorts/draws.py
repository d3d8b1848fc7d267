"""Seeded draws and the export writer shared by the teacher and pupil generators."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from features import Spec
from features.parse import DAYS


class Random:
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


class Writer:
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


def _timestamp(rng: Random, day: dt.date) -> str:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(
        seconds=rng.integer(8 * 3600, 21 * 3600)
    )
    return moment.strftime("%d.%m.%Y %H:%M:%S")


def _slots(rng: Random, busy_evenings: float) -> np.ndarray:
    """True free time: mostly weekday afternoons and evenings, a few mornings and weekends."""
    chance = np.zeros((7, 3))
    chance[:5] = [0.08, 0.45, 0.45 * (1 - busy_evenings)]
    chance[5:] = [0.2, 0.25, 0.1]
    slots = rng.np.random((7, 3)) < chance
    if not slots.any():
        slots[rng.integer(0, 5), 1] = True
    return slots.ravel()


def _slot_text(slots: np.ndarray, parts: Sequence[str], rng: Random) -> str:
    days = [short for _, short in DAYS]
    chosen = [f"{days[k // 3]} {parts[k % 3]}" for k in np.flatnonzero(slots).tolist()]
    return ", ".join(chosen) if rng.random() < 0.8 else "; ".join(chosen)


def _style(rng: np.random.Generator, size: int) -> np.ndarray:
    style = rng.normal(size=(size, 3))
    return style / np.linalg.norm(style, axis=1, keepdims=True)


def _consent(rng: Random, given: float = 0.95) -> str:
    roll = rng.random()
    if roll < given:
        return rng.one(("Да", "да", "Согласен(на)", "Да"))
    return "Нет" if roll < given + 0.02 else ""


def _meeting_format(rng: Random, remote_share: float) -> list[str]:
    if rng.random() >= remote_share:
        return ["in_person"]
    return ["remote"] if rng.random() < 0.25 else ["in_person", "remote"]
