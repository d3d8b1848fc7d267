"""A generated cohort: its exports, its true compatibility and simulated outcomes of pairs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from experiments.cohorts.hidden import Hidden
from features import Answers, Spec, read_answers, score_pairs

#: The day the cohorts are "exported": waiting times are counted to it.
TODAY = dt.date(2024, 10, 1)


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
