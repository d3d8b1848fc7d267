"""Score components: each compares a mentee's answers with a mentor's, for many pairs at once.

A component is prepared once per run from both sides' answers (per-person arrays), then gives a value
in [0, 1] for arrays of pairs with numpy gathers only, so scoring millions of allowed pairs stays fast,
and explains the value for one pair in Russian.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import Any

import numpy as np

from features.answers import Answers
from features.encoders import (
    ChoiceEncoder,
    TextEncoder,
    all_slot_keys,
    answer_texts,
    weighted_answers,
)
from features.importer import person_id
from features.numbers import number
from features.parse import DAYS
from features.spec import Component, Question, importance_range
from features.text import in_sentence, join_items, render
from features.words import WordFeatures, common_words, pair_dots

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
        "preference": OverlapScorer,
        "difference": DifferenceScorer,
        "vector": VectorScorer,
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
    return question.categories


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


def _importance(component: Component, answers: Answers) -> np.ndarray | None:
    """How much each person of the wanting side says the wish matters, in [0, 1] (1 when unanswered)."""
    if component.importance is None:
        return None
    question = answers.spec.side(answers.side).question(component.importance)
    bounds = importance_range(question)
    assert bounds is not None
    low, high = bounds
    share = np.clip((answers.numbers(question.key) - low) / (high - low), 0.0, 1.0)
    return np.where(np.isnan(share), 1.0, share).astype(np.float32)


class OverlapScorer(Scorer):
    """Answers in common: share of the wanting side's answers the other side has, Jaccard, any, a count.

    ``overlap`` compares what the mentee needs with what the mentor offers; ``preference`` compares
    what one side (``side``) wants with what the other side is, in either direction. Internally the
    wanting side is ``a`` and the other ``b``.
    """

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.flip = component.kind == "preference" and component.on_side == "mentors"
        wanting, other = (mentors, mentees) if self.flip else (mentees, mentors)
        self.want_question = _question(wanting, component.key_of(wanting.side))
        self.other_question = _question(other, component.key_of(other.side))
        categories = list(
            dict.fromkeys(_categories(self.want_question) + _categories(self.other_question))
        )
        self.encoder = ChoiceEncoder(categories=categories).fit([])
        want_raw = category_answers(self.want_question, wanting.answers(self.want_question.key))
        other_raw = category_answers(self.other_question, other.answers(self.other_question.key))
        self.need = self.encoder.transform(weighted_answers(self.want_question, want_raw))
        offer = self.encoder.transform(weighted_answers(self.other_question, other_raw)) > 0
        unanswered = np.array([v is None for v in want_raw], dtype=bool)
        self.want_missing = (self.need.sum(axis=1) <= 0) | unanswered
        self.other_missing = np.array([v is None for v in other_raw], dtype=bool)
        self.need_total = self.need.sum(axis=1)
        self.need_size = (self.need > 0).sum(axis=1).astype(np.float32)
        self.offer_size = offer.sum(axis=1).astype(np.float32)
        self.offer = offer
        self.offer_bits = _pack(offer)
        self.need_bits = _pack(self.need > 0)
        self.planes = self._planes()
        self.importance = _importance(component, wanting)

    def _planes(self) -> list[tuple[float, np.ndarray]] | None:
        """The wanting side's weights as bit planes: weight = sum of step * [weight >= level]."""
        levels = np.unique(self.need[self.need > 0])
        if len(levels) > _MAX_PLANES:
            return None
        steps = np.diff(np.concatenate([[0.0], levels]))
        return [
            (float(s), _pack(self.need >= level)) for s, level in zip(steps, levels, strict=True)
        ]

    def _covered(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.planes is not None:
            covered = np.zeros(len(a), dtype=np.float32)
            for step, bits in self.planes:
                covered += np.float32(step) * _common(bits, self.offer_bits, a, b)
            return covered
        offer = self.offer
        covered = np.empty(len(a), dtype=np.float32)
        for start in range(0, len(a), _CHUNK):
            part = slice(start, start + _CHUNK)
            covered[part] = (self.need[a[part]] * offer[b[part]]).sum(axis=1)
        return covered

    def _sides(self, mentee: Any, mentor: Any) -> tuple[Any, Any]:
        return (mentor, mentee) if self.flip else (mentee, mentor)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        a, b = self._sides(mentee, mentor)
        measure = self.component.how
        if measure == "cover":
            with np.errstate(divide="ignore", invalid="ignore"):
                result = self._covered(a, b) / self.need_total[a]
        else:
            common = _common(self.need_bits, self.offer_bits, a, b)
            if measure == "any":
                result = (common > 0).astype(np.float32)
            elif measure == "count":
                result = np.minimum(common / np.float32(self.component.enough), np.float32(1))
            else:
                union = self.need_size[a] + self.offer_size[b] - common
                with np.errstate(divide="ignore", invalid="ignore"):
                    result = common / union
        fill = np.float32(self.component.missing)
        result = np.clip(np.nan_to_num(result, nan=self.component.missing), 0, 1)
        if self.importance is not None:
            result = fill + self.importance[a] * (result - fill)
        missing = self.want_missing[a] | self.other_missing[b]
        return np.where(missing, fill, result).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        a, b = self._sides(mentee, mentor)
        need = self.need[a]
        offered = self.offer[b]
        wanted = sorted(np.flatnonzero(need).tolist(), key=lambda k: -need[k])
        common = [k for k in wanted if offered[k]]
        found = {
            "n": len(common),
            "total": len(wanted),
            "items": join_items(self._labels[k] for k in common),
        }
        if self.component.kind == "preference":
            other = join_items(self._labels[k] for k in np.flatnonzero(offered))
            wish = join_items(self._labels[k] for k in wanted)
            found["mentor"], found["mentee"] = (wish, other) if self.flip else (other, wish)
        return found

    @cached_property
    def _labels(self) -> list[str]:
        return [self._label(key) for key in self.encoder.categories_]

    def _label(self, key: str) -> str:
        if self.want_question.type == "slots":
            day, part = key.split("_", 1)
            short = dict(DAYS)[day]
            return f"{short} {self.want_question.label_of(part)}"
        question = self.want_question
        if key not in question.categories:
            question = self.other_question
        return in_sentence(question.label_of(key))


def category_answers(question: Question, values: list[Any]) -> list[Any]:
    """Answers as the keys they are compared by: a number with ``bins`` becomes its range's key."""
    if not question.bins:
        return values
    return [None if v is None else question.bin_of(float(v)) for v in values]


class DifferenceScorer(Scorer):
    """Mentor's number minus the mentee's (experience, class) through a piecewise linear curve."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.mentee_question = _question(mentees, component.key_of("mentees"))
        self.mentor_question = _question(mentors, component.key_of("mentors"))
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
    return number(value, 2, group=False) if isinstance(value, float) else str(value)


class LevelScorer(Scorer):
    """One side's number (a mentor's qualification category) through a curve."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.on_mentor = component.on_side == "mentors"
        answers = mentors if self.on_mentor else mentees
        self.question = _question(answers, component.key_of(answers.side))
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


class VectorScorer(Scorer):
    """Similarity of two lists of numeric answers (ratings of the same things by both people).

    Pearson correlation r over the questions both answered, as ``(1 + r) / 2`` (0.5 = unrelated), or
    the cosine of the two lists, as ``max(0, cos)``. Fewer than ``min_common`` questions answered by
    both, or a list that does not vary (Pearson) or is all zeros (cosine), gives ``missing``.
    """

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.mentee_keys = component.keys("mentees")
        self.mentor_keys = component.keys("mentors")
        self.pearson = component.how == "pearson"
        x = np.column_stack([mentees.numbers(k) for k in self.mentee_keys])
        y = np.column_stack([mentors.numbers(k) for k in self.mentor_keys])
        if self.pearson:
            # r is the same after shifting a person's answers by a constant: centring each row on its
            # own mean keeps the float32 sums below exact enough.
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                x = x - np.nanmean(x, axis=1, keepdims=True)
                y = y - np.nanmean(y, axis=1, keepdims=True)
        self.x_seen = ~np.isnan(x)
        self.y_seen = ~np.isnan(y)
        self.x = np.nan_to_num(x).astype(np.float32)
        self.y = np.nan_to_num(y).astype(np.float32)
        self.complete = bool(self.x_seen.all() and self.y_seen.all())
        if self.complete:
            self.x_unit = _unit_rows(self.x)
            self.y_unit = _unit_rows(self.y)

    def similarity(self, mentee: np.ndarray, mentor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw r (or cosine) of each pair, NaN when undefined, and the number of common questions."""
        result = np.empty(len(mentee), dtype=np.float32)
        common = np.empty(len(mentee), dtype=np.float32)
        for start in range(0, len(mentee), _CHUNK // 8):
            part = slice(start, start + _CHUNK // 8)
            a, b = mentee[part], mentor[part]
            if self.complete:
                result[part] = np.einsum("ij,ij->i", self.x_unit[a], self.y_unit[b])
                result[part][~(self.x_unit[a].any(axis=1) & self.y_unit[b].any(axis=1))] = np.nan
                common[part] = self.x.shape[1]
                continue
            both = (self.x_seen[a] & self.y_seen[b]).astype(np.float32)
            x, y = self.x[a] * both, self.y[b] * both
            n = both.sum(axis=1)
            xy, xx, yy = (np.einsum("ij,ij->i", u, v) for u, v in ((x, y), (x, x), (y, y)))
            if self.pearson:
                with np.errstate(divide="ignore", invalid="ignore"):
                    sx, sy = x.sum(axis=1), y.sum(axis=1)
                    xy, xx, yy = xy - sx * sy / n, xx - sx * sx / n, yy - sy * sy / n
            with np.errstate(divide="ignore", invalid="ignore"):
                tiny = np.float32(1e-6)
                value = xy / np.sqrt(xx * yy)
                value[(xx <= tiny) | (yy <= tiny)] = np.nan
            result[part] = value
            common[part] = n
        return result, common

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        similarity, common = self.similarity(mentee, mentor)
        similarity = np.clip(similarity, -1, 1)
        value = (1 + similarity) / 2 if self.pearson else np.maximum(similarity, 0)
        undefined = np.isnan(value) | (common < self.component.min_common)
        return np.where(undefined, np.float32(self.component.missing), value).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        similarity, common = self.similarity(np.array([mentee]), np.array([mentor]))
        both = self.x_seen[mentee] & self.y_seen[mentor]
        x, y = self.x[mentee], self.y[mentor]
        if not self.pearson:
            x, y = x - x[both].mean(initial=0), y - y[both].mean(initial=0)
        high = [k for k in np.argsort(-(x * y)) if both[k] and x[k] > 0 and y[k] > 0][:3]
        question = self.mentees.spec.mentees.question
        value = float(similarity[0])
        return {
            "value": round(value, 2) if value == value else 0.0,
            "n": int(common[0]),
            "items": join_items(in_sentence(_short(question(self.mentee_keys[k]))) for k in high),
        }


def _short(question: Question) -> str:
    return question.description or question.header


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


class TextScorer(Scorer):
    """Similarity of two free-text answers (interests, majors).

    ``tokens: chars`` compares character n-grams (:class:`features.encoders.TextEncoder`);
    ``tokens: words`` compares stemmed words by TF-IDF (:class:`features.words.WordFeatures`,
    sparse). The reason lists the mentee's words whose stem the mentor also wrote.
    """

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        mentee_question = _question(mentees, component.key_of("mentees"))
        mentor_question = _question(mentors, component.key_of("mentors"))
        self.mentee_text = answer_texts(mentee_question, mentees)
        self.mentor_text = answer_texts(mentor_question, mentors)
        self.mentee_missing = np.array([not t for t in self.mentee_text], dtype=bool)
        self.mentor_missing = np.array([not t for t in self.mentor_text], dtype=bool)
        self.words = component.tokens == "words"
        if self.words:
            rows = WordFeatures().fit_transform(self.mentee_text + self.mentor_text)
            self.mentee_rows = rows[: len(self.mentee_text)]
            self.mentor_rows = rows[len(self.mentee_text) :]
        else:
            encoder = TextEncoder().fit(self.mentee_text + self.mentor_text)
            self.mentee_vectors = encoder.transform(self.mentee_text)
            self.mentor_vectors = encoder.transform(self.mentor_text)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        missing = self.mentee_missing[mentee] | self.mentor_missing[mentor]
        if self.words:
            result = np.zeros(len(mentee), dtype=np.float32)
            both = np.flatnonzero(~missing)
            result[both] = pair_dots(self.mentee_rows, self.mentor_rows, mentee[both], mentor[both])
        else:
            result = np.empty(len(mentee), dtype=np.float32)
            for start in range(0, len(mentee), _CHUNK):
                part = slice(start, start + _CHUNK)
                result[part] = np.einsum(
                    "ij,ij->i",
                    self.mentee_vectors[mentee[part]],
                    self.mentor_vectors[mentor[part]],
                )
        result = np.where(missing, np.float32(self.component.missing), result)
        return np.clip(result, 0, 1).astype(np.float32)

    def details(self, mentee: int, mentor: int) -> dict[str, Any]:
        return {
            "items": join_items(common_words(self.mentee_text[mentee], self.mentor_text[mentor]))
        }


class NamedScorer(Scorer):
    """The mentee named this mentor in the questionnaire (or the mentor named this mentee)."""

    def __init__(self, component: Component, mentees: Answers, mentors: Answers) -> None:
        super().__init__(component, mentees, mentors)
        self.directions = 0
        self.mentee_named = np.full(len(mentees), -1, dtype=np.int64)
        self.mentor_named = np.full(len(mentors), -1, dtype=np.int64)
        mentee_key, mentor_key = component.key_of("mentees"), component.key_of("mentors")
        if mentee_key:
            self.directions += 1
            self.mentee_named = _named(mentees.answers(mentee_key), mentors)
        if mentor_key:
            self.directions += 1
            self.mentor_named = _named(mentors.answers(mentor_key), mentees)

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
