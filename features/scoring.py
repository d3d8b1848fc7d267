"""Pair scores: a sparse matrix over the allowed pairs, every component value kept, reasons in Russian."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.answers import Answers
from features.components import Scorer, make_scorer
from features.rules import allowed_pairs, blocked_reasons, organisation_codes
from features.spec import Spec

__all__ = ["PairModel", "PairScores", "PairTable", "score_pairs"]

#: Scores are floored here so that an allowed pair stays a stored entry even for code that drops
#: explicit zeros from sparse matrices.
MIN_SCORE = 1e-6


@dataclass(frozen=True)
class PairTable:
    """The allowed pairs and their component values, as a model receives them.

    Attributes
    ----------
    spec : Spec
    mentees, mentors : Answers
    mentee, mentor : numpy.ndarray of int
        Positions of the two people of each pair, sorted by mentee then mentor.
    values : numpy.ndarray of float32, shape (n_pairs, n_components)
        Component values in [0, 1], columns in the order of ``components``.
    components : tuple of str
        Component keys.
    weights : numpy.ndarray of float
        The spec's hand weights of the components.
    """

    spec: Spec
    mentees: Answers
    mentors: Answers
    mentee: np.ndarray
    mentor: np.ndarray
    values: np.ndarray
    components: tuple[str, ...]
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.mentee)


@runtime_checkable
class PairModel(Protocol):
    """What ``score_pairs(..., model=...)`` needs from a learned model of pair success.

    ``score(pairs)`` returns one number per pair of the :class:`PairTable`, higher = better; the
    numbers are clipped to [0, 1]. An optional ``weights`` mapping (component key -> weight) orders
    the reasons; without it the spec's weights do. :class:`features.model.WeightsModel` is the
    simplest such model and :func:`features.model.load_model` reads one from a file.
    """

    def score(self, pairs: PairTable) -> np.ndarray:
        """Score of each pair."""
        ...


class PairScores:
    """Scores of the allowed mentee–mentor pairs, their component values and their reasons.

    Attributes
    ----------
    scores : scipy.sparse.csr_array, shape (n_mentees, n_mentors)
        Score in [0, 1] of each allowed pair; a stored entry is an allowed pair, an absent one is not.
    capacity : numpy.ndarray of int, shape (n_mentors,)
        How many mentees each mentor may take, 0..3 (0 without consent).
    components : tuple of str
        Keys of the score components, in the spec's order.
    weights : numpy.ndarray
        Weights that ordered the reasons (the spec's, or the model's when it has them).
    values : numpy.ndarray of float32, shape (n_pairs, n_components)
        Every component value of every allowed pair, in the order of ``scores.data``.
    mentees, mentors : Answers
    spec : Spec
    """

    def __init__(
        self,
        spec: Spec,
        mentees: Answers,
        mentors: Answers,
        scores: sp.csr_array,
        capacity: np.ndarray,
        values: np.ndarray,
        forms: np.ndarray,
        scorers: Sequence[Scorer],
        weights: np.ndarray,
        organisations: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.spec = spec
        self.mentees = mentees
        self.mentors = mentors
        self.scores = scores
        self.capacity = capacity
        self.values = values
        self.components = tuple(c.key for c in spec.components)
        self.weights = weights
        self._forms = forms
        self._scorers = list(scorers)
        self._organisations = organisations

    def __repr__(self) -> str:
        rows, columns = self.scores.shape
        return f"PairScores(mentees={rows}, mentors={columns}, allowed_pairs={self.n_pairs})"

    @property
    def demand(self) -> np.ndarray:
        """Mentors each mentee needs (docs/rules.md#co-mentors), 1 by default."""
        return self.mentees.demand

    @property
    def max_capacity(self) -> np.ndarray:
        """The largest group each mentor's forms allow (docs/rules.md#group-size)."""
        return self.mentors.max_capacity

    def problem(self, **options: Any) -> Any:
        """The :class:`matching.Problem` of these scores: capacities, demand and group bounds
        included; ``options`` are the other arguments (``min_score``, ``priority``...)."""
        from matching import Problem

        return Problem(
            self.scores,
            self.capacity,
            demand=self.demand,
            max_capacity=self.max_capacity,
            **options,
        )

    @property
    def n_pairs(self) -> int:
        """Number of allowed pairs."""
        return int(self.scores.nnz)

    @property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(mentee, mentor) positions of every allowed pair, in the order of ``scores.data``."""
        mentee = np.repeat(np.arange(self.scores.shape[0]), np.diff(self.scores.indptr))
        return mentee, self.scores.indices

    def _position(self, mentee: int, mentor: int) -> int | None:
        start, end = self.scores.indptr[mentee], self.scores.indptr[mentee + 1]
        row = self.scores.indices[start:end]
        at = int(np.searchsorted(row, mentor))
        return int(start + at) if at < len(row) and row[at] == mentor else None

    def allowed(self, mentee: int, mentor: int) -> bool:
        """Whether the hard rules allow this pair."""
        return self._position(mentee, mentor) is not None

    def score(self, mentee: int, mentor: int) -> float | None:
        """The pair's score, None when the pair is not allowed."""
        position = self._position(mentee, mentor)
        return None if position is None else float(self.scores.data[position])

    def component_values(self, mentee: int, mentor: int) -> dict[str, float]:
        """Every component value of an allowed pair (a KeyError for a pair that is not allowed)."""
        position = self._require(mentee, mentor)
        return {
            key: float(v) for key, v in zip(self.components, self.values[position], strict=True)
        }

    def _require(self, mentee: int, mentor: int) -> int:
        position = self._position(mentee, mentor)
        if position is None:
            reasons = "; ".join(self.blocked(mentee, mentor))
            raise KeyError(f"pair (mentee {mentee}, mentor {mentor}) is not allowed: {reasons}")
        return position

    def form(self, mentee: int, mentor: int) -> str:
        """Key of the form the pair takes: the first form of the spec that fits both."""
        bits = int(self._forms[self._require(mentee, mentor)])
        return self.spec.forms[(bits & -bits).bit_length() - 1].key

    def reasons(self, mentee: int, mentor: int, top: int = 3) -> list[str]:
        """Top reasons for an allowed pair, in Russian, the biggest contribution to the score first.

        Examples
        --------
        >>> from features import answers_from_records, load_spec, score_pairs
        >>> spec = load_spec("teacher")
        >>> common = {"meeting_format": ["in_person"], "consent": True}
        >>> mentees = answers_from_records(spec, "mentees", [dict(common, person_id="m1",
        ...     full_name="Иванова", status="young", subjects=["physics"], experience=1,
        ...     difficulties={"methods": "постоянно", "ict": "постоянно", "psychology": "иногда",
        ...                   "legal": "иногда"})])
        >>> mentors = answers_from_records(spec, "mentors", [dict(common, person_id="t1",
        ...     full_name="Петров", position="teacher", subjects=["physics", "math"],
        ...     experience=20, capacity=2, competences=["methods", "ict", "psychology"])])
        >>> score_pairs(spec, mentors, mentees).reasons(0, 0)
        ['закрывает 3 из 4 запросов: методика, ИКТ, работа с учениками и родителями', \
'один предмет: физика', 'стаж наставника больше на 19 лет']
        """
        position = self._require(mentee, mentor)
        values = self.values[position]
        order = np.argsort(-(self.weights * values), kind="stable")
        found: list[str] = []
        for k in order:
            if self.weights[k] <= 0 or len(found) >= top:
                continue
            text = self._scorers[k].reason(mentee, mentor, float(values[k]))
            if text:
                found.append(text)
        return found

    def blocked(self, mentee: int, mentor: int) -> list[str]:
        """Why a pair is not allowed, in Russian; empty for an allowed pair."""
        mentee_org, mentor_org = self._organisations
        return blocked_reasons(
            self.spec,
            self.mentees,
            self.mentors,
            mentee,
            mentor,
            bool(mentee_org[mentee] == mentor_org[mentor]),
            int(self.capacity[mentor]),
        )

    def describe(self, pairs: Sequence[tuple[int, int]], top: int = 3) -> pd.DataFrame:
        """A table of chosen pairs: people, form, score, reasons and every component value."""
        forms = {f.key: f.label for f in self.spec.forms}
        rows = []
        for mentee, mentor in pairs:
            row: dict[str, Any] = {
                "mentee": mentee,
                "mentor": mentor,
                "mentee_id": self.mentees.person_ids[mentee],
                "mentor_id": self.mentors.person_ids[mentor],
                "score": self.score(mentee, mentor),
                "form": forms[self.form(mentee, mentor)],
                "reasons": "; ".join(self.reasons(mentee, mentor, top)),
            }
            row.update(self.component_values(mentee, mentor))
            rows.append(row)
        return pd.DataFrame(rows, columns=self._describe_columns())

    def _describe_columns(self) -> list[str]:
        head = ["mentee", "mentor", "mentee_id", "mentor_id", "score", "form", "reasons"]
        return head + list(self.components)


def score_pairs(
    spec: Spec,
    mentors: Answers,
    mentees: Answers,
    mentee_orgs: Sequence[object] | None = None,
    mentor_orgs: Sequence[object] | None = None,
    model: PairModel | None = None,
) -> PairScores:
    """Score every allowed mentee–mentor pair.

    Parameters
    ----------
    spec : Spec
        The spec of both questionnaires.
    mentors, mentees : Answers
        The two sides' validated answers.
    mentee_orgs, mentor_orgs : sequence, optional
        Organisation code of each person (a city-wide run); by default the spec's organisation
        answer, and everybody in one organisation without it.
    model : PairModel, optional
        A learned model that scores the pairs instead of the spec's weighted mean of components.

    Returns
    -------
    PairScores
        Scores as a sparse (n_mentees, n_mentors) matrix holding the allowed pairs only.

    Raises
    ------
    ValueError
        The answers are of the wrong side or another spec, the organisations have the wrong length,
        or the model's scores do not fit the pairs.

    Notes
    -----
    The score of a pair is ``sum(weight * value) / sum(weight)`` over the components, each value in
    [0, 1]. Work and memory grow with the allowed pairs: candidates come from organisation blocks
    and the remote-accepting people, never from a dense mentees x mentors table.
    """
    _check_sides(spec, mentors, mentees)
    mentee_org, mentor_org = organisation_codes(mentees, mentors, mentee_orgs, mentor_orgs)
    capacity = np.where(mentors.consent, mentors.capacity, 0).astype(np.int64)
    candidates = allowed_pairs(spec, mentees, mentors, mentee_org, mentor_org, capacity)
    scorers = [make_scorer(c, mentees, mentors) for c in spec.components]
    # Column-major: each component writes one contiguous column.
    values = np.empty((len(candidates.mentee), len(scorers)), dtype=np.float32, order="F")
    for k, scorer in enumerate(scorers):
        values[:, k] = scorer.values(candidates.mentee, candidates.mentor)
    weights = np.array([c.weight for c in spec.components], dtype=float)
    components = tuple(c.key for c in spec.components)
    table = PairTable(
        spec, mentees, mentors, candidates.mentee, candidates.mentor, values, components, weights
    )
    if model is None:
        score = (values @ (weights / weights.sum()).astype(np.float32)).astype(float)
    else:
        score = _model_scores(model, table)
        weights = _model_weights(model, table.components, weights)
    score = np.clip(score, MIN_SCORE, 1.0)
    indptr = np.concatenate(
        [[0], np.cumsum(np.bincount(candidates.mentee, minlength=len(mentees)))]
    )
    scores = sp.csr_array(
        (score, candidates.mentor.astype(np.int32), indptr), shape=(len(mentees), len(mentors))
    )
    return PairScores(
        spec,
        mentees,
        mentors,
        scores,
        capacity,
        values,
        candidates.forms,
        scorers,
        weights,
        (mentee_org, mentor_org),
    )


def _check_sides(spec: Spec, mentors: Answers, mentees: Answers) -> None:
    for name, answers, side in (("mentors", mentors, "mentors"), ("mentees", mentees, "mentees")):
        if answers.side != side:
            raise ValueError(
                f"The {name!r} parameter of score_pairs must hold {side} answers. "
                f"Got {answers.side} answers instead."
            )
        if answers.spec != spec:
            raise ValueError(
                f"The {name!r} parameter of score_pairs must follow the spec {spec.name!r}. "
                f"Got answers of the spec {answers.spec.name!r} instead."
            )


def _model_scores(model: PairModel, table: PairTable) -> np.ndarray:
    score = np.asarray(model.score(table), dtype=float).ravel()
    if score.shape != (len(table),) or not np.isfinite(score).all():
        raise ValueError(
            "The 'model' parameter of score_pairs must return one finite score per allowed pair "
            f"({len(table)}). Got shape {score.shape} instead."
        )
    return score


def _model_weights(
    model: PairModel, components: tuple[str, ...], default: np.ndarray
) -> np.ndarray:
    given = getattr(model, "weights", None)
    if not isinstance(given, dict):
        return default
    return np.array([max(0.0, float(given.get(key, 0.0))) for key in components], dtype=float)
