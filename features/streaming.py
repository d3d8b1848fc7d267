"""Pair scores of a large cohort in bounded memory (issue 14: a region's 23.7 M pairs).

:func:`features.score_pairs` keeps every component value of every allowed pair (a float32 table
of pairs x components), its float64 score and form: about 60 bytes a pair. Here the mentees are
scored chunk by chunk against every mentor and only each pair's mentor (int32) and score
(float32) are kept: 8 bytes a pair, never a dense matrix nor a Python object per pair. The
scorers are fitted once on everybody, so a score is the same as :func:`score_pairs` gives (the
score is computed in float32 there too). Reasons and forms are asked for afterwards, only for the
pairs that were chosen (:func:`pair_details`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from features.answers import Answers
from features.components import make_scorer
from features.rules import allowed_pairs, organisation_codes
from features.scoring import MIN_SCORE, score_pairs
from features.spec import Spec

__all__ = ["CompactScores", "join_answers", "pair_details", "stream_scores", "take"]

CHUNK_MENTEES = 10_000
"""Mentees scored at once: the largest temporaries are this many mentees' pairs."""


@dataclass(frozen=True)
class CompactScores:
    """Scores of the allowed pairs as a CSR structure of 32-bit arrays.

    Attributes
    ----------
    indptr : numpy.ndarray of int32 (int64 past 2**31 - 1 pairs), shape (n_mentees + 1,)
        Pairs of mentee ``i`` are ``indptr[i]:indptr[i + 1]``. Of the same type as ``mentor``
        when it can be, so that a ``scipy.sparse`` matrix over them copies neither.
    mentor : numpy.ndarray of int32
        The mentor of each pair, increasing within a mentee.
    score : numpy.ndarray of float32
        The score of each pair, in ``[MIN_SCORE, 1]``.
    capacity : numpy.ndarray of int64, shape (n_mentors,)
        Places of each mentor (0 without consent), as :class:`features.PairScores` has them.
    shape : (n_mentees, n_mentors)
    """

    indptr: np.ndarray
    mentor: np.ndarray
    score: np.ndarray
    capacity: np.ndarray
    shape: tuple[int, int]

    def __len__(self) -> int:
        return len(self.mentor)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return int(self.indptr.nbytes + self.mentor.nbytes + self.score.nbytes)

    def matrix(self) -> sp.csr_array:
        """The scores as a sparse matrix sharing these arrays (float32 data)."""
        return sp.csr_array((self.score, self.mentor, self.indptr), shape=self.shape)


def take(answers: Answers, rows: Sequence[int] | np.ndarray | slice) -> Answers:
    """The answers of some people only (``rows``: positions, or a slice), in that order."""
    if isinstance(rows, slice):
        columns = {key: answers.answers(key)[rows] for key in _keys(answers)}
        return Answers(answers.spec, answers.side, columns, answers.rows[rows])
    picked = [int(r) for r in rows]
    columns = {}
    for key in _keys(answers):
        values = answers.answers(key)
        columns[key] = [values[r] for r in picked]
    return Answers(answers.spec, answers.side, columns, [answers.rows[r] for r in picked])


def join_answers(spec: Spec, side: str, parts: Sequence[Answers]) -> Answers:
    """The answers of ``parts`` (of ``spec`` and ``side``, validated each) one after the other,
    as :func:`features.answers_from_records` gives for all their records at once: records can be
    read and validated a chunk at a time, never all held as dicts.

    Raises
    ------
    ImportFailed
        When a person (the identifying answer) is in two parts, as for records in one call.
    """
    from features.importer import ImportFailed, ImportIssue, _check_ids

    if len(parts) == 1:
        return parts[0]
    side_spec = spec.side(side)
    keys = [q.key for q in side_spec.questions]
    columns: dict[str, list[object]] = {key: [] for key in keys}
    for part in parts:
        for key in keys:
            columns[key] += part.answers(key)
    rows = list(range(1, len(columns[side_spec.fields.id]) + 1))
    issues: list[ImportIssue] = []
    header = side_spec.question(side_spec.fields.id).header
    _check_ids(columns, side_spec, rows, header, issues)
    if issues:
        raise ImportFailed(issues)
    return Answers(spec, side, columns, rows)


def _keys(answers: Answers) -> list[str]:
    return [q.key for q in answers.spec.side(answers.side).questions]


def stream_scores(
    spec: Spec,
    mentors: Answers,
    mentees: Answers,
    mentee_orgs: Sequence[object] | None = None,
    mentor_orgs: Sequence[object] | None = None,
    chunk: int = CHUNK_MENTEES,
) -> CompactScores:
    """Score every allowed pair, ``chunk`` mentees at a time, keeping 8 bytes a pair.

    Same pairs and scores as :func:`features.score_pairs` (without a learned model), which
    the tests check.
    """
    if chunk < 1:
        raise ValueError(f"The 'chunk' parameter of stream_scores must be at least 1. Got {chunk}.")
    mentee_org, mentor_org = organisation_codes(mentees, mentors, mentee_orgs, mentor_orgs)
    capacity = np.where(mentors.consent, mentors.capacity, 0).astype(np.int64)
    scorers = [make_scorer(c, mentees, mentors) for c in spec.components]
    weights = np.array([c.weight for c in spec.components], dtype=float)
    normalised = (weights / weights.sum()).astype(np.float32)
    n = len(mentees)
    counts = np.zeros(n, dtype=np.int64)
    mentor_parts: list[np.ndarray] = []
    score_parts: list[np.ndarray] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        part = take(mentees, slice(lo, hi))
        found = allowed_pairs(spec, part, mentors, mentee_org[lo:hi], mentor_org, capacity)
        mentee = found.mentee.astype(np.int64) + lo
        values = np.empty((len(mentee), len(scorers)), dtype=np.float32, order="F")
        for k, scorer in enumerate(scorers):
            values[:, k] = scorer.values(mentee, found.mentor)
        score = np.clip((values @ normalised).astype(float), MIN_SCORE, 1.0)
        del values
        counts[lo:hi] = np.bincount(found.mentee, minlength=hi - lo)
        mentor_parts.append(found.mentor.astype(np.int32))
        score_parts.append(score.astype(np.float32))
    total = int(counts.sum())
    indptr = np.zeros(n + 1, dtype=np.int32 if total < np.iinfo(np.int32).max else np.int64)
    np.cumsum(counts, out=indptr[1:])
    mentor = _concatenate(mentor_parts, np.int32)
    score = _concatenate(score_parts, np.float32)
    return CompactScores(indptr, mentor, score, capacity, (n, len(mentors)))


def _concatenate(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """One array from ``parts``, freeing each part as it is copied (peak: the result + one part)."""
    out: np.ndarray = np.empty(sum(len(p) for p in parts), dtype=dtype)
    at = 0
    while parts:
        part = parts.pop(0)
        out[at : at + len(part)] = part
        at += len(part)
    return out


def pair_details(
    spec: Spec,
    mentors: Answers,
    mentees: Answers,
    pairs: Sequence[tuple[int, int]],
    mentee_orgs: Sequence[object] | None = None,
    mentor_orgs: Sequence[object] | None = None,
    top: int = 3,
    chunk: int = CHUNK_MENTEES,
) -> list[tuple[list[str], str]]:
    """The reasons (best ``top`` first, Russian) and the form of each of ``pairs`` (allowed ones),
    scoring only the people of those pairs, ``chunk`` pairs at a time."""
    mentee_org = None if mentee_orgs is None else list(mentee_orgs)
    mentor_org = None if mentor_orgs is None else list(mentor_orgs)
    out: list[tuple[list[str], str]] = []
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        rows = sorted({i for i, _ in part})
        columns = sorted({j for _, j in part})
        row_of = {i: k for k, i in enumerate(rows)}
        column_of = {j: k for k, j in enumerate(columns)}
        scored = score_pairs(
            spec,
            take(mentors, columns),
            take(mentees, rows),
            mentee_orgs=None if mentee_org is None else [mentee_org[i] for i in rows],
            mentor_orgs=None if mentor_org is None else [mentor_org[j] for j in columns],
        )
        for i, j in part:
            a, b = row_of[i], column_of[j]
            out.append(([str(r) for r in scored.reasons(a, b, top=top)], str(scored.form(a, b))))
    return out
