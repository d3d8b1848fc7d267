"""Warm runs: the scores and the last answer of recent runs, kept in this process.

After a curator confirms or rejects a pair, or a person leaves, the next run of the same school or
municipality has the same people (or fewer) with the same answers. Their pair scores are then
taken from the last run's (keyed by each person's id and answers' version: a re-imported
questionnaire is a new version, and scores with it are computed anew), and the solver starts from
the last answer (``matching.solve(..., warm=...)``: untouched blocks reused, a large block
re-solved from its kept network). The answer is the one a cold run gives; only the work differs.

One cache per process (each server worker has its own); a few recent scopes are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matching import Matching
from service.runs.scoring import Member, Scored, score_members

__all__ = ["RunCache"]

Keys = tuple[tuple[int, int, str], ...]  # (person id, answers' version, school code)


@dataclass
class _Entry:
    mentees: Keys
    mentors: Keys
    scored: Scored
    answer: Matching | None = None
    rows: tuple[int, ...] = ()  # the answer's problem: mentee id of each row
    columns: tuple[int, ...] = ()  # mentor id of each column


class _Restricted:
    """The pair scores of some of the cached people: reasons and forms by their old positions."""

    def __init__(self, scores: Any, rows: np.ndarray, columns: np.ndarray) -> None:
        self._scores, self._rows, self._columns = scores, rows, columns
        self.capacity = np.asarray(scores.capacity)[columns]

    def reasons(self, row: int, column: int, top: int = 3) -> list[str]:
        return list(self._scores.reasons(int(self._rows[row]), int(self._columns[column]), top=top))

    def form(self, row: int, column: int) -> str:
        return str(self._scores.form(int(self._rows[row]), int(self._columns[column])))


def _keys(members: list[Member]) -> Keys:
    return tuple((m.id, m.version, m.org_code) for m in members)


class RunCache:
    """Scores and last answers of the ``size`` most recent (scope, spec) pairs."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # runs whose scores came from the cache (for tests and benchmarks)

    def _get(self, key: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def scorer(self, scope: Hashable) -> Callable[[str, list[Member], list[Member]], Scored]:
        """A ``score_members`` for the runs of ``scope`` (a school or a municipality)."""

        def score(spec: str, mentees: list[Member], mentors: list[Member]) -> Scored:
            key = (scope, spec)
            mentee_keys, mentor_keys = _keys(mentees), _keys(mentors)
            entry = self._get(key)
            if entry is not None:
                found = _restrict(entry, mentees, mentors, mentee_keys, mentor_keys)
                if found is not None:
                    self.hits += 1
                    return found
            scored = score_members(spec, mentees, mentors)
            self._put(key, _Entry(mentee_keys, mentor_keys, scored))
            return scored

        return score

    def answer(
        self, scope: Hashable, spec: str, rows: list[int], columns: list[int]
    ) -> Matching | None:
        """The last answer for ``scope`` and ``spec``, to start the next solve from: its problem
        has mentees ``rows`` and mentors ``columns`` (ids); people who left are renumbered out."""
        entry = self._get((scope, spec))
        if entry is None or entry.answer is None:
            return None
        if tuple(rows) == entry.rows and tuple(columns) == entry.columns:
            return entry.answer
        row_of = {person: k for k, person in enumerate(rows)}
        column_of = {person: k for k, person in enumerate(columns)}
        return entry.answer.renumbered(
            [row_of.get(person, -1) for person in entry.rows],
            [column_of.get(person, -1) for person in entry.columns],
        )

    def remember(
        self, scope: Hashable, spec: str, answer: Matching, rows: list[int], columns: list[int]
    ) -> None:
        """Keep ``answer`` (to a problem of mentees ``rows``, mentors ``columns``) as the last."""
        entry = self._get((scope, spec))
        if entry is not None:
            entry.answer, entry.rows, entry.columns = answer, tuple(rows), tuple(columns)


def _restrict(
    entry: _Entry,
    mentees: list[Member],
    mentors: list[Member],
    mentee_keys: Keys,
    mentor_keys: Keys,
) -> Scored | None:
    """The cached scores of these people when every one of them is cached with the same answers
    (people who left are dropped); None otherwise."""
    cached = entry.scored
    if mentee_keys == entry.mentees and mentor_keys == entry.mentors:
        rows = columns = None
    else:
        row_of = {k: i for i, k in enumerate(entry.mentees)}
        column_of = {k: j for j, k in enumerate(entry.mentors)}
        if any(k not in row_of for k in mentee_keys) or any(
            k not in column_of for k in mentor_keys
        ):
            return None
        rows = np.array([row_of[k] for k in mentee_keys], dtype=np.int64)
        columns = np.array([column_of[k] for k in mentor_keys], dtype=np.int64)
    raw = np.asarray(cached.pair_scores.capacity)
    if rows is None or columns is None:
        scores, pair_scores = cached.scores, cached.pair_scores
    else:
        scores = cached.scores[rows][:, columns]
        pair_scores = _Restricted(cached.pair_scores, rows, columns)
        raw = raw[columns]
    capacity = np.asarray(raw, dtype=np.int64).copy()
    for j, mentor in enumerate(mentors):  # a curator's limit may have changed
        if mentor.capacity_limit is not None:
            capacity[j] = min(capacity[j], mentor.capacity_limit)
    return replace(
        cached,
        mentees=mentees,
        mentors=mentors,
        scores=scores,
        capacity=capacity,
        pair_scores=pair_scores,
        mentee_answers=None if rows is not None else cached.mentee_answers,
        mentor_answers=None if columns is not None else cached.mentor_answers,
    )
