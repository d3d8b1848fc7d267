"""Stored answers -> pair scores in bounded memory, for batches of a region's size.

:func:`service.runs.scoring.score_members` keeps everything ``features`` computes for every
allowed pair (component values, forms), which is what a school's run shows. A region's batch
only needs each pair's score to solve: :func:`score_compact` scores the mentees chunk by chunk
(``features.streaming``, 8 bytes a pair) into the matrix the solver's ``Problem`` takes as it is
(float64 scores of float32 values, int32 indices: 12 bytes a pair, held once), and
:meth:`CompactScored.details` gives reasons and forms afterwards, for the chosen pairs only.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.people.questionnaires import load_spec_named
from service.runs.scoring import Member, Scored, _answers

__all__ = ["CompactScored", "give_back_large_blocks", "score_compact"]

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


@functools.cache
def give_back_large_blocks() -> None:
    """Have glibc's malloc map every block of 1 MB or more apart and unmap it when freed.

    By default glibc raises that threshold to the size of each large block freed (up to 32 MB),
    and the chunk-sized arrays of scoring then stay in the heap once freed, unusable for the
    solver's larger ones: a region's batch peaked about 140 MB higher at 140,000 people
    (``experiments/bench_region.py``). A fixed threshold also ends that adaptation. Nothing
    happens where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    with contextlib.suppress(OSError, AttributeError):  # a libc without mallopt
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20)


@dataclass
class CompactScored(Scored):
    """Scores of a cohort held as a CSR matrix, without the component table.

    ``scores`` is a ``csr_array`` with float64 data (float32 values) and int32 indices and
    indptr, which ``matching.Problem`` uses without a copy; ``raw_capacity`` the
    mentors' places before a curator's limit. :meth:`reasons` and :meth:`form` of one pair work
    but score its two people apart: ask :meth:`details` for many pairs at once.
    """

    raw_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def reasons(self, row: int, column: int) -> list[str]:
        return self.details([(row, column)])[0][0]

    def form(self, row: int, column: int) -> str:
        return self.details([(row, column)])[0][1]

    def details(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[list[str], str]]:
        """Reasons (best three first) and form of each of ``pairs`` (row, column), allowed ones."""
        from features.streaming import pair_details

        return pair_details(
            self.mentee_answers.spec,
            self.mentor_answers,
            self.mentee_answers,
            pairs,
            mentee_orgs=[m.org_code for m in self.mentees],
            mentor_orgs=[m.org_code for m in self.mentors],
        )


def score_compact(
    spec_name: str,
    mentees: list[Member],
    mentors: list[Member],
    chunk: int | None = None,
    answers: dict[str, Any] | None = None,
) -> CompactScored:
    """Score every allowed pair of ``mentees`` and ``mentors`` into 32-bit arrays, ``chunk``
    mentees at a time (``features.streaming.CHUNK_MENTEES`` by default). ``answers``: their
    answers already read as columns ("mentees", "mentors" -> ``features.Answers``), instead of
    the members' records."""
    import scipy.sparse as sp

    from features.streaming import CHUNK_MENTEES, stream_scores

    spec = load_spec_named(spec_name)
    if answers:
        mentee_answers, mentor_answers = answers["mentees"], answers["mentors"]
    else:
        mentor_answers = _answers(spec, "mentors", mentors)
        mentee_answers = _answers(spec, "mentees", mentees)
    compact = stream_scores(
        spec,
        mentor_answers,
        mentee_answers,
        mentee_orgs=[m.org_code for m in mentees],
        mentor_orgs=[m.org_code for m in mentors],
        chunk=chunk or CHUNK_MENTEES,
    )
    # float64 scores, as matching.Problem takes them: the problem shares this matrix instead of
    # copying it (a float32 matrix cost 4 + 8 bytes a pair here and 8 + 8 more in the problem:
    # int32 indices went int64 next to an int64 indptr). The values are the float32 ones.
    scores = sp.csr_array(
        (compact.score.astype(np.float64), compact.mentor, compact.indptr), shape=compact.shape
    )
    capacity = compact.capacity.copy()
    for j, mentor in enumerate(mentors):
        if mentor.capacity_limit is not None:
            capacity[j] = min(capacity[j], mentor.capacity_limit)
    return CompactScored(
        spec_name,
        mentees,
        mentors,
        scores,
        capacity,
        None,
        mentee_answers,
        mentor_answers,
        raw_capacity=compact.capacity,
    )
