"""The bridge to ``features``: stored answers -> pair scores, capacities and reasons.

All scoring is done by ``features.score_pairs``; this module only turns database rows into its
inputs and keeps the service's person ids next to the row and column indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from service.people.questionnaires import load_spec_named

__all__ = ["Member", "Scored", "mentor_answers", "preload", "score_members"]


def preload() -> None:
    """Import the scoring stack (``features``: pandas, scikit-learn, scipy) now, at the server's
    start, instead of inside the first request that asks for suggestions (seconds on a busy
    machine; the command line keeps its lazy imports)."""
    import scipy.sparse  # noqa: F401

    from features import answers_from_records, load_spec, score_pairs  # noqa: F401


@dataclass(frozen=True, slots=True)
class Member:
    """A person as scoring sees them: the service id, the school code and current answers."""

    id: int
    org_code: str
    records: dict[str, Any]
    capacity_limit: int | None = None
    waiting_since: datetime | None = None  # a mentee's wait for a mentor started then
    demand: int = 1  # a mentee's number of distinct mentors (docs/rules.md#co-mentors)
    version: int = 0  # of the answers (``Person.version``): what a cache of scores is keyed by


@dataclass
class Scored:
    """Pair scores of some mentees (rows) and mentors (columns) of one questionnaire spec."""

    spec: str
    mentees: list[Member]
    mentors: list[Member]
    scores: Any  # scipy.sparse.csr_array (n_mentees, n_mentors); a stored entry = allowed pair
    capacity: np.ndarray  # places of each mentor: their answer, lowered by a curator's limit
    pair_scores: Any  # features.PairScores, for reasons
    mentee_answers: Any = None  # features.Answers
    mentor_answers: Any = None

    def allowed(self, row: int, column: int) -> bool:
        """Return whether the hard rules allow this pair."""
        start, end = self.scores.indptr[row], self.scores.indptr[row + 1]
        return bool(np.any(self.scores.indices[start:end] == column))

    def score(self, row: int, column: int) -> float:
        """Return the score of an allowed pair."""
        return float(self.scores[row, column])

    def form(self, row: int, column: int) -> str:
        """Return the key of the form of mentoring of an allowed pair: the first form of the spec
        both people fit, its conditions included (``features`` decides; docs/rules.md#forms)."""
        return str(self.pair_scores.form(row, column))

    def reasons(self, row: int, column: int) -> list[str]:
        """Return why this pair fits, in Russian, best reasons first."""
        return [str(r) for r in self.pair_scores.reasons(row, column, top=3)]


def _answers(spec: Any, side: str, members: Sequence[Member]) -> Any:
    from features import answers_from_records

    return answers_from_records(spec, side, [m.records for m in members])


def mentor_answers(spec_name: str, mentors: Sequence[Member]) -> Any:
    """The mentors' answers (``features.Answers``) parsed from their records, for
    :func:`score_members` (``service.runs.suggesting`` keeps them)."""
    return _answers(load_spec_named(spec_name), "mentors", mentors)


def score_members(
    spec_name: str, mentees: list[Member], mentors: list[Member], parsed: Any = None
) -> Scored:
    """Score every allowed pair of ``mentees`` and ``mentors`` (answers of spec ``spec_name``);
    ``parsed``: the mentors' answers already parsed (:func:`mentor_answers`), their records then
    unused."""
    import scipy.sparse as sp

    from features import score_pairs

    spec = load_spec_named(spec_name)
    mentor_answers = parsed if parsed is not None else _answers(spec, "mentors", mentors)
    mentee_answers = _answers(spec, "mentees", mentees)
    pair_scores = score_pairs(
        spec,
        mentor_answers,
        mentee_answers,
        mentee_orgs=[m.org_code for m in mentees],
        mentor_orgs=[m.org_code for m in mentors],
    )
    capacity = np.asarray(pair_scores.capacity, dtype=np.int64).copy()
    for j, mentor in enumerate(mentors):
        if mentor.capacity_limit is not None:
            capacity[j] = min(capacity[j], mentor.capacity_limit)
    return Scored(
        spec_name,
        mentees,
        mentors,
        sp.csr_array(pair_scores.scores),
        capacity,
        pair_scores,
        mentee_answers,
        mentor_answers,
    )
