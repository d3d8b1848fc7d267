"""Model inputs of pairs as sparse matrices: both sides' answers, their agreement, hashed crosses.

Learning (:mod:`features.learning`) and the learned models of :mod:`features.model` build the same
columns from the answers, so a model scores next term's pairs exactly as it was trained:

- *answers* of one side (:func:`side_matrix`): ``question=answer`` 0/1 (a Likert grid's level in
  [0, 1]) for choices, grids and time slots; ``question`` scaled to [0, 1] for numbers (bounds and
  fill value kept in ``scales``); ``question~word`` for each word (3 letters or more, lower case,
  ё = е) of a free-text answer. Identifiers, names, organisations and dates are never inputs.
- *agreement* (:func:`agreement`): for each question both sides answer under the same key, the
  share of common answers or words (Jaccard) and, for numbers, the distance ``|a - b|``.
- *crosses* (:func:`crosses`): every product ``mentor_feature × mentee_feature`` of a pair, hashed
  (MurmurHash3 of the two column names, as scikit-learn's ``FeatureHasher`` does for strings) into
  ``2**bits`` columns. They let a linear model learn which mentor traits suit which mentee traits
  (a preference of one side against an attribute of the other, the same word in two free texts,
  the products of two rating vectors, whose sum is their similarity).

Every matrix is ``scipy.sparse`` CSR of float32: a 5,000-answer question costs only the answers
people gave.

Examples
--------
>>> from features import answers_from_records, load_spec
>>> spec = load_spec("pupil")
>>> mentees = answers_from_records(spec, "mentees", [
...     {"person_id": "p1", "full_name": "Аня", "grade": "g7", "age": 13, "goals": ["exams"],
...      "meeting_format": ["in_person"]}])
>>> matrix, names, scales = side_matrix(spec, mentees, "mentees")
>>> matrix.shape[0], "goals=exams" in names, float(matrix[0, names.index("goals=exams")])
(1, True, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from features.answers import Answers
from features.encoders import ScaleEncoder, numeric_answers, weighted_answers
from features.spec import Question, Spec

__all__ = [
    "CROSS_BITS",
    "agreement",
    "align",
    "crosses",
    "name_hashes",
    "side_matrix",
    "words",
]

#: Hashed cross columns: 2**18 = 262,144.
CROSS_BITS = 18
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_CHUNK = 4096


def words(text: Any) -> list[str]:
    """Distinct words of a free-text answer: letters only, 3 or more, lower case, ё = е.

    >>> words("Шахматы, ТУРИЗМ и шахматы; 3D-печать")
    ['шахматы', 'туризм', 'печать']
    """
    if not text:
        return []
    found = _WORD.findall(str(text).lower().replace("ё", "е"))
    return list(dict.fromkeys(found))


def _encoded(spec: Spec, side: str) -> list[Question]:
    part = spec.side(side)
    personal = {part.fields.id, part.fields.name, part.fields.organisation}
    return [q for q in part.questions if q.key not in personal and q.type != "date"]


def _items(value: Any) -> list[tuple[str, float]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(k), float(v)) for k, v in value.items() if v]
    if isinstance(value, list | tuple | set | frozenset):
        return [(str(k), 1.0) for k in value]
    return [(str(value), 1.0)]


def side_matrix(
    spec: Spec,
    answers: Answers,
    side: str,
    scales: Mapping[str, Sequence[float]] | None = None,
) -> tuple[sp.csr_array, list[str], dict[str, list[float]]]:
    """One side's answers as a sparse matrix with named columns.

    Parameters
    ----------
    spec : Spec
    answers : Answers
    side : {"mentors", "mentees"}
    scales : mapping, optional
        Question key -> (low, high, fill) of a numeric answer; missing ones are learned from
        ``answers``.

    Returns
    -------
    matrix : scipy.sparse.csr_array of float32, shape (n_people, n_columns)
    names : list of str
        Column names (see the module's docstring); choices come in the spec's order, words in the
        order first met.
    scales : dict
        The (low, high, fill) used for each numeric answer.
    """
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    vals: list[npt.NDArray[np.float32]] = []
    names: list[str] = []
    used: dict[str, list[float]] = {}
    n = len(answers)
    for question in _encoded(spec, side):
        key = question.key
        raw = answers.answers(key)
        if question.is_numeric or question.type in ("yesno", "consent"):
            if question.is_numeric:
                numbers = numeric_answers(question, raw)
                encoder = ScaleEncoder(low=question.min, high=question.max)
            else:
                numbers = np.array([np.nan if v is None else float(v) for v in raw])
                encoder = ScaleEncoder(low=0, high=1, fill=0.0)
            encoder.fit(list(numbers))
            if scales is not None and key in scales:
                low, high, fill = (float(v) for v in scales[key])
                encoder.low_, encoder.high_, encoder.fill_ = low, high, fill
            used[key] = [encoder.low_, encoder.high_, encoder.fill_]
            column = encoder.transform(list(numbers)).ravel()
            nonzero = np.flatnonzero(column)
            rows.append(nonzero)
            cols.append(np.full(len(nonzero), len(names), dtype=np.int64))
            vals.append(column[nonzero].astype(np.float32))
            names.append(key)
            continue
        position: dict[str, int] = {}
        if question.type == "text":
            pairs = [[(f"{key}~{w}", 1.0) for w in words(v)] for v in raw]
        else:
            if question.type != "slots":
                for choice in question.items or question.choices:
                    position[f"{key}={choice.key}"] = len(names) + len(position)
            values = weighted_answers(question, raw)
            pairs = [[(f"{key}={k}", w) for k, w in _items(v)] for v in values]
        r: list[int] = []
        c: list[int] = []
        v: list[float] = []
        for person, found in enumerate(pairs):
            for name, weight in found:
                at = position.get(name)
                if at is None:
                    at = position[name] = len(names) + len(position)
                r.append(person)
                c.append(at)
                v.append(weight)
        names.extend(sorted(position, key=position.__getitem__))
        rows.append(np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.asarray(v, dtype=np.float32))
    matrix = sp.csr_array(
        (
            np.concatenate(vals) if vals else np.zeros(0, np.float32),
            (
                np.concatenate(rows) if rows else np.zeros(0, np.int64),
                np.concatenate(cols) if cols else np.zeros(0, np.int64),
            ),
        ),
        shape=(n, len(names)),
        dtype=np.float32,
    )
    return matrix, names, used


def align(matrix: Any, names: Sequence[str], wanted: Sequence[str]) -> sp.csr_array:
    """The columns ``wanted`` of a named matrix, in that order (zero for a name it lacks).

    >>> m = sp.csr_array(np.array([[1.0, 2.0]], dtype=np.float32))
    >>> align(m, ["a", "b"], ["b", "c", "a"]).toarray().tolist()
    [[2.0, 0.0, 1.0]]
    """
    where = {name: k for k, name in enumerate(names)}
    source = np.array([where.get(name, -1) for name in wanted], dtype=np.int64)
    present = np.flatnonzero(source >= 0)
    pick = sp.csr_array(
        (np.ones(len(present), np.float32), (source[present], present)),
        shape=(len(names), len(wanted)),
    )
    return sp.csr_array(sp.csr_array(matrix) @ pick)


def name_hashes(names: Sequence[str], side: str) -> npt.NDArray[np.uint64]:
    """A 32-bit MurmurHash3 of each column name, salted by the side (stable across runs)."""
    from sklearn.utils import murmurhash3_32

    return np.array(
        [murmurhash3_32(f"{side}:{name}", seed=0, positive=True) for name in names],
        dtype=np.uint64,
    )


def crosses(
    mentor_rows: Any,
    mentor_hash: npt.NDArray[np.uint64],
    mentee_rows: Any,
    mentee_hash: npt.NDArray[np.uint64],
    bits: int = CROSS_BITS,
) -> sp.csr_array:
    """Hashed products of every mentor feature with every mentee feature of each pair.

    Parameters
    ----------
    mentor_rows, mentee_rows : scipy.sparse matrix, shape (n_pairs, ...)
        Each pair's mentor's and mentee's answers (rows of :func:`side_matrix`).
    mentor_hash, mentee_hash : numpy.ndarray
        :func:`name_hashes` of the two sides' columns.
    bits : int
        ``2**bits`` output columns.

    Returns
    -------
    scipy.sparse.csr_array of float32, shape (n_pairs, 2**bits)

    Examples
    --------
    >>> a = sp.csr_array(np.array([[1.0, 0.5]], dtype=np.float32))
    >>> b = sp.csr_array(np.array([[2.0]], dtype=np.float32))
    >>> x = crosses(a, name_hashes(["p", "q"], "mentors"), b, name_hashes(["r"], "mentees"), 8)
    >>> sorted(x.data.tolist()), x.shape
    ([1.0, 2.0], (1, 256))
    """
    mentor_rows, mentee_rows = sp.csr_array(mentor_rows), sp.csr_array(mentee_rows)
    n = mentor_rows.shape[0]
    mask = np.uint64((1 << bits) - 1)
    parts = []
    for start in range(0, n, _CHUNK):
        a = mentor_rows[start : start + _CHUNK]
        b = mentee_rows[start : start + _CHUNK]
        na, nb = np.diff(a.indptr), np.diff(b.indptr)
        count = na * nb
        total = int(count.sum())
        row = np.repeat(np.arange(len(count), dtype=np.int64), count)
        k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        width = np.repeat(nb, count)
        ia = a.indptr[row] + k // np.maximum(width, 1)
        ib = b.indptr[row] + k % np.maximum(width, 1)
        ha = mentor_hash[a.indices[ia]]
        hb = mentee_hash[b.indices[ib]]
        bucket = ((ha * np.uint64(0x9E3779B1)) ^ hb) & mask
        value = a.data[ia] * b.data[ib]
        parts.append(
            sp.csr_array(
                (value.astype(np.float32), (row, bucket.astype(np.int64))),
                shape=(len(count), 1 << bits),
            )
        )
    if not parts:
        return sp.csr_array((0, 1 << bits), dtype=np.float32)
    return sp.csr_array(sp.vstack(parts, format="csr"))


def agreement(
    spec: Spec,
    mentor_rows: Any,
    mentor_names: Sequence[str],
    mentee_rows: Any,
    mentee_names: Sequence[str],
) -> tuple[sp.csr_array, list[str]]:
    """How far the two people of each pair agree on each question both sides answer.

    Choices, slots and words: the Jaccard share of common answers (``agree:question``); numbers:
    ``1 - |a - b|`` on the [0, 1] scale (``agree:question``). Rows are pairs.
    """
    mentor_rows, mentee_rows = sp.csr_array(mentor_rows), sp.csr_array(mentee_rows)
    shared = [
        q for q in _encoded(spec, "mentees") if q.key in {p.key for p in _encoded(spec, "mentors")}
    ]
    columns, names = [], []
    for question in shared:
        key = question.key
        if question.is_numeric or question.type in ("yesno", "consent"):
            if key not in mentor_names or key not in mentee_names:
                continue
            a = mentor_rows[:, [list(mentor_names).index(key)]].toarray().ravel()
            b = mentee_rows[:, [list(mentee_names).index(key)]].toarray().ravel()
            columns.append(1.0 - np.abs(a - b))
        else:
            prefix = (f"{key}=", f"{key}~")
            union = sorted({n for n in (*mentor_names, *mentee_names) if n.startswith(prefix)})
            if not union:
                continue
            a = align(mentor_rows, mentor_names, union)
            b = align(mentee_rows, mentee_names, union)
            common = np.asarray(a.minimum(b).sum(axis=1)).ravel()
            total = np.asarray(a.maximum(b).sum(axis=1)).ravel()
            columns.append(np.divide(common, total, out=np.zeros(len(common)), where=total > 0))
        names.append(f"agree:{key}")
    n = mentor_rows.shape[0]
    if not columns:
        return sp.csr_array((n, 0), dtype=np.float32), names
    return sp.csr_array(np.column_stack(columns).astype(np.float32)), names
