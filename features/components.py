"""Score components: each compares a mentee's answers with a mentor's, for many pairs at once.

A component is prepared once per run from both sides' answers (per-person arrays), then gives a value
in [0, 1] for arrays of pairs with numpy gathers only, so scoring millions of allowed pairs stays fast,
and explains the value for one pair in Russian.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

import numpy as np

from features.answers import Answers
from features.encoders import (
    ChoiceEncoder,
    TextEncoder,
    all_slot_keys,
    weighted_answers,
)
from features.importer import person_id
from features.parse import DAYS
from features.spec import Component, Question
from features.text import in_sentence, join_items, render

__all__ = ["Scorer", "make_scorer"]

_MAX_PLANES = 8
_CHUNK = 1 << 20


class Scorer:
    """A prepared component: ``values(mentee, mentor)`` for arrays of pairs, ``reason`` for one pair."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        self.component = component
        self.mentees = mentees
        self.mentors = mentors

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """Component value of each pair, float32 in [0, 1]."""
        raise NotImplementedError

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        """What fills the reason template for one pair."""
        return {}

    def reason(self, mentee: int, mentor: int, value: float) -> str | None:
        """The Russian reason for one pair, or None when there is nothing to say."""
        template = self.component.reason
        if template is None or value < self.component.reason_min:
            return None
        details = self.details(mentee, mentor)
        if details.get("items") == "":
            return None
        return render(template, details)


def make_scorer(component: Component, mentees: Answers, mentors: Answers) -> Scorer:
    """The scorer of a component's kind."""
    kinds: dict[str, type[Scorer]] = {
        "overlap": OverlapScorer,
        "difference": DifferenceScorer,
        "level": LevelScorer,
        "text": TextScorer,
        "named": NamedScorer,
    }
    return kinds[component.kind](component, mentees, mentors)


def _question(answers: Answers, key: str | None) -> Question:
    assert key is not None
    return answers.spec.side(answers.side).question(key)


def _categories(question: Question) -> list[str]:
    if question.type == "slots":
        return all_slot_keys(question)
    return [c.key for c in (question.items or question.choices)]


def _pack(matrix: np.ndarray) -> np.ndarray:
    """Rows of booleans as uint64 words (n, words): bit k of word k // 64 = column k."""
    rows, columns = matrix.shape
    words = max(1, -(-columns // 64))
    padded = np.zeros((rows, words * 64), dtype=bool)
    padded[:, :columns] = matrix
    packed = np.packbits(padded.reshape(rows, words, 64), axis=2, bitorder="little")
    return packed.view(np.uint64).reshape(rows, words)


def _common(a: np.ndarray, b: np.ndarray, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
    """Number of common set bits of packed rows a[mentee] and b[mentor]."""
    total = np.zeros(len(mentee), dtype=np.float32)
    for word in range(a.shape[1]):
        total += np.bitwise_count(a[mentee, word] & b[mentor, word])
    return total


class OverlapScorer(Scorer):
    """Answers in common: share of the mentee's requests the mentor covers, Jaccard, any, or a count."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.mentee_question = _question(mentees, component.mentee)
        self.mentor_question = _question(mentors, component.mentor)
        categories = list(
            dict.fromkeys(_categories(self.mentee_question) + _categories(self.mentor_question))
        )
        self.encoder = ChoiceEncoder(categories=categories).fit([])
        mentee_raw = mentees.answers(self.mentee_question.key)
        mentor_raw = mentors.answers(self.mentor_question.key)
        self.need = self.encoder.transform(weighted_answers(self.mentee_question, mentee_raw))
        offer = self.encoder.transform(weighted_answers(self.mentor_question, mentor_raw)) > 0
        unanswered = np.array([v is None for v in mentee_raw], dtype=bool)
        self.mentee_missing = (self.need.sum(axis=1) <= 0) | unanswered
        self.mentor_missing = np.array([v is None for v in mentor_raw], dtype=bool)
        self.need_total = self.need.sum(axis=1)
        self.need_size = (self.need > 0).sum(axis=1).astype(np.float32)
        self.offer_size = offer.sum(axis=1).astype(np.float32)
        self.offer = offer
        self.offer_bits = _pack(offer)
        self.need_bits = _pack(self.need > 0)
        self.planes = self._planes()

    def _planes(self) -> list[tuple[float, np.ndarray]] | None:
        """The mentee's weights as bit planes: weight = sum of step * [weight >= level]."""
        levels = np.unique(self.need[self.need > 0])
        if len(levels) > _MAX_PLANES:
            return None
        steps = np.diff(np.concatenate([[0.0], levels]))
        return [
            (float(s), _pack(self.need >= level)) for s, level in zip(steps, levels, strict=True)
        ]

    def _covered(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        if self.planes is not None:
            covered = np.zeros(len(mentee), dtype=np.float32)
            for step, bits in self.planes:
                covered += np.float32(step) * _common(bits, self.offer_bits, mentee, mentor)
            return covered
        offer = self.offer
        covered = np.empty(len(mentee), dtype=np.float32)
        for start in range(0, len(mentee), _CHUNK):
            part = slice(start, start + _CHUNK)
            covered[part] = (self.need[mentee[part]] * offer[mentor[part]]).sum(axis=1)
        return covered

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        measure = self.component.measure
        if measure == "cover":
            with np.errstate(divide="ignore", invalid="ignore"):
                result = self._covered(mentee, mentor) / self.need_total[mentee]
        else:
            common = _common(self.need_bits, self.offer_bits, mentee, mentor)
            if measure == "any":
                result = (common > 0).astype(np.float32)
            elif measure == "count":
                result = np.minimum(common / np.float32(self.component.enough), np.float32(1))
            else:
                union = self.need_size[mentee] + self.offer_size[mentor] - common
                with np.errstate(divide="ignore", invalid="ignore"):
                    result = common / union
        missing = self.mentee_missing[mentee] | self.mentor_missing[mentor]
        result = np.where(missing, np.float32(self.component.missing), result)
        return np.clip(np.nan_to_num(result, nan=self.component.missing), 0, 1).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        need = self.need[mentee]
        offered = self.offer[mentor]
        wanted = sorted(np.flatnonzero(need).tolist(), key=lambda k: -need[k])
        common = [k for k in wanted if offered[k]]
        return {
            "n": len(common),
            "total": len(wanted),
            "items": join_items(self._labels[k] for k in common),
        }

    @cached_property
    def _labels(self) -> list[str]:
        return [self._label(key) for key in self.encoder.categories_]

    def _label(self, key: str) -> str:
        if self.mentee_question.type == "slots":
            day, part = key.split("_", 1)
            short = dict(DAYS)[day]
            return f"{short} {self.mentee_question.label_of(part)}"
        question = self.mentee_question
        if key not in {c.key for c in (question.items or question.choices)}:
            question = self.mentor_question
        return in_sentence(question.label_of(key))


class DifferenceScorer(Scorer):
    """Mentor's number minus the mentee's (experience, class) through a piecewise linear curve."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.mentee_question = _question(mentees, component.mentee)
        self.mentor_question = _question(mentors, component.mentor)
        self.mentee_number = mentees.numbers(self.mentee_question.key)
        self.mentor_number = mentors.numbers(self.mentor_question.key)
        assert component.curve is not None
        self.xs = np.array([x for x, _ in component.curve])
        self.ys = np.array([y for _, y in component.curve])

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        difference = self.mentor_number[mentor] - self.mentee_number[mentee]
        result = np.interp(difference, self.xs, self.ys)
        return np.where(np.isnan(difference), self.component.missing, result).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        difference = self.mentor_number[mentor] - self.mentee_number[mentee]
        return {
            "diff": float(round(difference, 1)),
            "mentor": _answer_label(self.mentor_question, self.mentors, mentor),
            "mentee": _answer_label(self.mentee_question, self.mentees, mentee),
        }


def _answer_label(question: Question, answers: Answers, person: int) -> str:
    value = answers.answers(question.key)[person]
    if value is None:
        return ""
    if question.type == "single":
        return in_sentence(question.label_of(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


class LevelScorer(Scorer):
    """One side's number (a mentor's qualification category) through a curve."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.on_mentor = component.side == "mentors"
        answers = mentors if self.on_mentor else mentees
        self.question = _question(answers, component.mentor if self.on_mentor else component.mentee)
        number = answers.numbers(self.question.key)
        assert component.curve is not None
        xs = [x for x, _ in component.curve]
        ys = [y for _, y in component.curve]
        level = np.interp(number, xs, ys)
        self.level = np.where(np.isnan(number), component.missing, level).astype(np.float32)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        return self.level[mentor if self.on_mentor else mentee]

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        answers = self.mentors if self.on_mentor else self.mentees
        label = _answer_label(self.question, answers, mentor if self.on_mentor else mentee)
        mentor_label, mentee_label = (label, "") if self.on_mentor else ("", label)
        return {"mentor": mentor_label, "mentee": mentee_label, "items": label}


class TextScorer(Scorer):
    """Similarity of two free-text answers (interests), from :class:`features.encoders.TextEncoder`."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.mentee_text = mentees.answers(_question(mentees, component.mentee).key)
        self.mentor_text = mentors.answers(_question(mentors, component.mentor).key)
        encoder = TextEncoder().fit(self.mentee_text + self.mentor_text)
        self.mentee_vectors = encoder.transform(self.mentee_text)
        self.mentor_vectors = encoder.transform(self.mentor_text)
        self.mentee_missing = np.array([not t for t in self.mentee_text], dtype=bool)
        self.mentor_missing = np.array([not t for t in self.mentor_text], dtype=bool)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        result = np.empty(len(mentee), dtype=np.float32)
        for start in range(0, len(mentee), _CHUNK):
            part = slice(start, start + _CHUNK)
            result[part] = np.einsum(
                "ij,ij->i", self.mentee_vectors[mentee[part]], self.mentor_vectors[mentor[part]]
            )
        missing = self.mentee_missing[mentee] | self.mentor_missing[mentor]
        result = np.where(missing, np.float32(self.component.missing), result)
        return np.clip(result, 0, 1).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        mentee_words = _words(self.mentee_text[mentee])
        mentor_stems = {w[:5] for w in _words(self.mentor_text[mentor])}
        common = [w for w in mentee_words if w[:5] in mentor_stems]
        return {"items": join_items(dict.fromkeys(common))}


def _words(text: str | None) -> list[str]:
    return [w for w in re.findall(r"[а-яёa-z]+", (text or "").casefold()) if len(w) >= 4]


class NamedScorer(Scorer):
    """The mentee named this mentor in the questionnaire (or the mentor named this mentee)."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.directions = 0
        self.mentee_named = np.full(len(mentees), -1, dtype=np.int64)
        self.mentor_named = np.full(len(mentors), -1, dtype=np.int64)
        if component.mentee:
            self.directions += 1
            self.mentee_named = _named(mentees.answers(component.mentee), mentors)
        if component.mentor:
            self.directions += 1
            self.mentor_named = _named(mentors.answers(component.mentor), mentees)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        chosen = (self.mentee_named[mentee] == mentor).astype(np.int8)
        chosen += self.mentor_named[mentor] == mentee
        # One side asking for the other is already a strong wish; both asking is the most.
        steps = (0.0, 1.0) if self.directions < 2 else (0.0, 0.75, 1.0)
        return np.asarray(steps, dtype=np.float32)[chosen]

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        by_mentee = self.mentee_named[mentee] == mentor
        by_mentor = self.mentor_named[mentor] == mentee
        if by_mentee and by_mentor:
            text = "наставник и наставляемый назвали друг друга в анкетах"
        elif by_mentee:
            text = "наставляемый сам назвал этого наставника"
        elif by_mentor:
            text = "наставник сам назвал этого наставляемого"
        else:
            text = ""
        return {"items": text}

    def reason(self, mentee: int, mentor: int, value: float) -> str | None:
        # Naming is a yes/no fact: one direction out of two already deserves a reason.
        return super().reason(mentee, mentor, 1.0 if value > 0 else 0.0)


def _named(values: list[Any], others: Answers) -> np.ndarray:
    positions = {p: i for i, p in enumerate(others.person_ids)}
    return np.array(
        [-1 if not v else positions.get(person_id(str(v)), -1) for v in values], dtype=np.int64
    )
