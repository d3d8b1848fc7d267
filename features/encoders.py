"""Encoders of answers into feature vectors, in the scikit-learn style.

``__init__`` only stores parameters; ``fit`` learns the attributes ending in ``_``; ``transform`` gives a
float32 array. Inputs are sequences of canonical answers (see :mod:`features.parse`), None = missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features.answers import Answers
from features.parse import DAYS, slot_key
from features.spec import Question, Spec

__all__ = [
    "ChoiceEncoder",
    "QuestionnaireEncoder",
    "ScaleEncoder",
    "SlotEncoder",
    "TextEncoder",
    "answer_texts",
    "numeric_answers",
    "weighted_answers",
]


def weighted_answers(question: Question, values: Sequence[Any]) -> list[Any]:
    """Answers with Likert-grid levels scaled to [0, 1] (lowest level 0, highest 1)."""
    if not question.is_grid:
        return list(values)
    levels = [c.value for c in question.choices if c.value is not None]
    low = min(levels, default=question.min or 0.0)
    high = max(levels, default=question.max or 1.0)
    span = (high - low) or 1.0
    return [
        None if v is None else {item: (level - low) / span for item, level in v.items()}
        for v in values
    ]


def numeric_answers(question: Question, values: Sequence[Any]) -> np.ndarray:
    """The number behind each answer (a choice's ``value`` for a single choice), NaN when missing."""
    if question.type == "single":
        table = {c.key: c.value for c in question.choices}
        values = [table.get(v) if v is not None else None for v in values]
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


class ChoiceEncoder(TransformerMixin, BaseEstimator):
    """Multi-hot encoding of choice answers: one column per answer key.

    A single choice is a key, a multiple choice a list of keys, a Likert grid a dict of key -> weight
    (the weight goes in the column). Keys outside ``categories_`` (free "other" answers) are ignored.

    Parameters
    ----------
    categories : "auto" or sequence of str
        The answer keys, in column order; "auto" learns the sorted keys seen in ``fit``.

    Attributes
    ----------
    categories_ : list of str
        Column order.

    Examples
    --------
    >>> encoder = ChoiceEncoder(categories=["math", "physics", "ict"])
    >>> encoder.fit_transform([["physics"], "math", {"ict": 0.5}, None]).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]]
    >>> encoder.inverse_transform([[0, 1, 1]])
    [['physics', 'ict']]
    """

    def __init__(self, categories: str | Sequence[str] = "auto") -> None:
        self.categories = categories

    def fit(self, X: Sequence[Any], y: Any = None) -> ChoiceEncoder:
        """Learn the answer keys (or take them from ``categories``)."""
        if isinstance(self.categories, str):
            if self.categories != "auto":
                raise ValueError(
                    "The 'categories' parameter of ChoiceEncoder must be 'auto' or a list of keys. "
                    f"Got {self.categories!r} instead."
                )
            seen = {key for answer in X for key in _keys(answer)}
            self.categories_ = sorted(seen)
        else:
            self.categories_ = list(dict.fromkeys(self.categories))
        self._column = {key: i for i, key in enumerate(self.categories_)}
        return self

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        """Rows of weights, one column per answer key."""
        check_is_fitted(self, "categories_")
        # Answers repeat a lot (a few formats, common subject sets): encode each distinct one once.
        distinct: dict[Any, int] = {}
        codes = [distinct.setdefault(_hashable(answer), len(distinct)) for answer in X]
        table = np.zeros((len(distinct) + 1, len(self.categories_)), dtype=np.float32)
        column = self._column
        for key, code in distinct.items():
            for item, weight in _weighted_items(key):
                position = column.get(item)
                if position is not None:
                    table[code, position] = weight
        result = table[np.asarray(codes, dtype=np.int64)] if codes else table[:0]
        return result

    def inverse_transform(self, X: Any) -> list[list[str]]:
        """Keys with a non-zero weight in each row."""
        check_is_fitted(self, "categories_")
        matrix = np.asarray(X)
        return [[self.categories_[k] for k in np.flatnonzero(row)] for row in matrix]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Column names: the answer keys."""
        check_is_fitted(self, "categories_")
        return np.asarray(self.categories_, dtype=object)


def _hashable(answer: Any) -> Any:
    if isinstance(answer, dict):
        return ("weights", *sorted(answer.items()))
    if isinstance(answer, list | tuple):
        return ("keys", *answer)
    return answer


def _weighted_items(key: Any) -> list[tuple[str, float]]:
    if key is None:
        return []
    if isinstance(key, tuple) and key[0] == "weights":
        return list(key[1:])
    if isinstance(key, tuple):
        return [(item, 1.0) for item in key[1:]]
    return [(key, 1.0)]


def _keys(answer: Any) -> list[str]:
    if answer is None:
        return []
    if isinstance(answer, dict):
        return [k for k, v in answer.items() if v]
    if isinstance(answer, list | tuple):
        return list(answer)
    return [answer]


class SlotEncoder(ChoiceEncoder):
    """Weekly time slots (``mon_evening``...) as a multi-hot row over days x parts of the day.

    Parameters
    ----------
    parts : sequence of str
        Keys of the parts of the day, in order (the spec's ``choices`` of the slots question).

    Examples
    --------
    >>> encoder = SlotEncoder(parts=["morning", "evening"]).fit([])
    >>> encoder.categories_[:3], encoder.transform([["mon_evening"]]).sum()
    (['mon_morning', 'mon_evening', 'tue_morning'], np.float32(1.0))
    """

    def __init__(self, parts: Sequence[str] = ("morning", "afternoon", "evening")) -> None:
        self.parts = parts
        super().__init__(categories=[f"{day}_{part}" for day, _ in DAYS for part in parts])

    def fit(self, X: Sequence[Any], y: Any = None) -> SlotEncoder:
        """Columns are every day x part; nothing is learned from the data."""
        self.categories = [f"{day}_{part}" for day, _ in DAYS for part in self.parts]
        super().fit(X)
        return self


class ScaleEncoder(TransformerMixin, BaseEstimator):
    """Numbers scaled to [0, 1] between a low and a high bound; a missing number gets ``fill_``.

    Parameters
    ----------
    low, high : float or None
        Bounds; None learns the smallest / largest value seen in ``fit``.
    fill : "median" or float
        Value (after scaling) for a missing number.

    Attributes
    ----------
    low_, high_ : float
        The bounds used.
    fill_ : float
        Scaled value used for a missing number.

    Examples
    --------
    >>> ScaleEncoder(low=0, high=40).fit_transform([0.0, 10.0, None, 60.0]).ravel().tolist()
    [0.0, 0.25, 0.25, 1.0]
    """

    def __init__(
        self, low: float | None = None, high: float | None = None, fill: str | float = "median"
    ) -> None:
        self.low = low
        self.high = high
        self.fill = fill

    def fit(self, X: Sequence[Any], y: Any = None) -> ScaleEncoder:
        """Learn the bounds and the fill value."""
        values = _floats(X)
        seen = values[~np.isnan(values)]
        self.low_ = float(self.low) if self.low is not None else float(seen.min(initial=0.0))
        self.high_ = float(self.high) if self.high is not None else float(seen.max(initial=1.0))
        if self.high_ <= self.low_:
            self.high_ = self.low_ + 1.0
        if isinstance(self.fill, str):
            if self.fill != "median":
                raise ValueError(
                    "The 'fill' parameter of ScaleEncoder must be 'median' or a number. "
                    f"Got {self.fill!r} instead."
                )
            scaled = self._scale(seen)
            self.fill_ = float(np.median(scaled)) if scaled.size else 0.5
        else:
            self.fill_ = float(self.fill)
        return self

    def _scale(self, values: np.ndarray) -> np.ndarray:
        return np.clip((values - self.low_) / (self.high_ - self.low_), 0.0, 1.0)

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        """One column of scaled numbers."""
        check_is_fitted(self, "fill_")
        scaled = self._scale(_floats(X))
        return np.where(np.isnan(scaled), self.fill_, scaled).astype(np.float32)[:, None]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One column, named ``value``."""
        return np.asarray(["value"], dtype=object)


def _floats(X: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in X], dtype=float)


class TextEncoder(TransformerMixin, BaseEstimator):
    """Free text as unit vectors: TF-IDF of character n-grams (robust to Russian endings), reduced by SVD.

    The dot product of two rows is the texts' similarity in [0, 1] (0 for an empty text).

    Parameters
    ----------
    n_components : int
        Largest vector length; with a smaller vocabulary the TF-IDF vectors are kept as they are.
    ngram_range : tuple of int
        Character n-gram lengths, within word boundaries.
    random_state : int
        Seed of the SVD.

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
    svd_ : sklearn.decomposition.TruncatedSVD or None

    Examples
    --------
    >>> encoder = TextEncoder().fit(["шахматы и туризм", "вязание", "туристические походы"])
    >>> vectors = encoder.transform(["туризм", "вязание", None])
    >>> bool(vectors[0] @ vectors[1] < 0.1), float(vectors[2] @ vectors[2])
    (True, 0.0)
    """

    def __init__(
        self, n_components: int = 48, ngram_range: tuple[int, int] = (3, 5), random_state: int = 0
    ) -> None:
        self.n_components = n_components
        self.ngram_range = ngram_range
        self.random_state = random_state

    def fit(self, X: Sequence[str | None], y: Any = None) -> TextEncoder:
        """Learn the vocabulary (and the SVD when it is larger than ``n_components``)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [t for t in X if t]
        self.vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range)
        self.svd_ = None
        if not texts:
            self.vectorizer_.fit(["-" * self.ngram_range[1]])
            return self
        matrix = self.vectorizer_.fit_transform(texts)
        if matrix.shape[1] > self.n_components and len(texts) > self.n_components:
            self.svd_ = TruncatedSVD(self.n_components, random_state=self.random_state).fit(matrix)
        return self

    def transform(self, X: Sequence[str | None]) -> np.ndarray:
        """Unit rows (zero rows for empty texts)."""
        check_is_fitted(self, "vectorizer_")
        if not len(X):
            width = (
                self.svd_.n_components
                if self.svd_ is not None
                else len(self.vectorizer_.vocabulary_)
            )
            return np.zeros((0, width), dtype=np.float32)
        present = np.array([bool(t) for t in X], dtype=bool)
        matrix = self.vectorizer_.transform([t or "" for t in X])
        dense = self.svd_.transform(matrix) if self.svd_ is not None else matrix.toarray()
        dense = np.asarray(dense, dtype=np.float32)
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
        dense[~present] = 0.0
        return dense


class QuestionnaireEncoder(TransformerMixin, BaseEstimator):
    """All answers of one side as one feature matrix, for models learned from outcomes.

    Choices, slots and Likert grids are multi-hot; numbers, numeric choices and scales are scaled to
    [0, 1], and a number with ``bins`` also gets one 0/1 column per range (``age=young``); yes/no and
    consents are 0/1. Dates and the fields that identify a person (id, name, organisation) are left
    out: they are personal data, not features. Free text is left out unless ``text=True``: then
    each text question (and each choice question with free ``other`` answers) adds the TF-IDF of
    its stemmed words in ``text_features`` hashed columns (``interests~h17``), and the matrix is
    sparse, so no vocabulary is listed and memory grows with the words written.

    Parameters
    ----------
    spec : Spec
    side : {"mentors", "mentees"}
    text : bool
        Add free-text words (the result is then a ``scipy.sparse.csr_matrix``).
    text_features : int
        Hashed columns per text question.
    sparse : bool
        Return a ``scipy.sparse.csr_matrix`` even without text.

    Attributes
    ----------
    encoders_ : dict of str to encoder
        The fitted encoder of each encoded question (``key:bins`` for the ranges of a number,
        ``key:words`` for the words of a text).
    feature_names_ : list of str
        ``question=answer``, ``question`` or ``question~hK`` for each column.

    Examples
    --------
    >>> from features import answers_from_records, load_spec
    >>> spec = load_spec("pupil")
    >>> mentees = answers_from_records(spec, "mentees", [
    ...     {"person_id": "p1", "full_name": "Аня", "grade": "g7", "age": 13, "goals": ["exams"],
    ...      "meeting_format": ["in_person"]}])
    >>> encoder = QuestionnaireEncoder(spec, "mentees").fit(mentees)
    >>> matrix = encoder.transform(mentees)
    >>> matrix.shape[0], "goals=exams" in encoder.feature_names_
    (1, True)
    """

    def __init__(
        self,
        spec: Spec,
        side: str = "mentees",
        text: bool = False,
        text_features: int = 1 << 14,
        sparse: bool = False,
    ) -> None:
        self.spec = spec
        self.side = side
        self.text = text
        self.text_features = text_features
        self.sparse = sparse

    def _encoded_questions(self) -> list[Question]:
        side = self.spec.side(self.side)
        fields = side.fields
        personal = {fields.id, fields.name, fields.organisation}
        return [
            q for q in side.questions if q.key not in personal and q.type not in ("text", "date")
        ]

    def _text_questions(self) -> list[Question]:
        if not self.text:
            return []
        side = self.spec.side(self.side)
        fields = side.fields
        personal = {fields.id, fields.name, fields.organisation}
        return [
            q
            for q in side.questions
            if q.key not in personal and ((q.type == "text" and not q.format) or q.other)
        ]

    def fit(self, X: Answers, y: Any = None) -> QuestionnaireEncoder:
        """Fit one encoder per question."""
        from features.words import WordFeatures

        self.encoders_: dict[str, Any] = {}
        self.feature_names_: list[str] = []
        for question in self._encoded_questions():
            encoder = _question_encoder(question)
            encoder.fit(weighted_answers(question, _inputs(question, X)))
            self.encoders_[question.key] = encoder
            if isinstance(encoder, ChoiceEncoder):
                names = [f"{question.key}={k}" for k in encoder.categories_]
            else:
                names = [question.key]
            self.feature_names_.extend(names)
            if question.bins:
                bins = ChoiceEncoder(categories=[b.key for b in question.bins]).fit([])
                self.encoders_[f"{question.key}:bins"] = bins
                self.feature_names_.extend(f"{question.key}={b.key}" for b in question.bins)
        for question in self._text_questions():
            words = WordFeatures(n_features=self.text_features).fit(answer_texts(question, X))
            self.encoders_[f"{question.key}:words"] = words
            self.feature_names_.extend(f"{question.key}~h{k}" for k in range(self.text_features))
        return self

    def transform(self, X: Answers) -> Any:
        """The feature matrix, one row per person (sparse with ``text`` or ``sparse``)."""
        import scipy.sparse as sp

        check_is_fitted(self, "encoders_")
        blocks = [np.zeros((len(X), 0), dtype=np.float32)]
        for question in self._encoded_questions():
            values = weighted_answers(question, _inputs(question, X))
            blocks.append(self.encoders_[question.key].transform(values))
            if question.bins:
                numbers = numeric_answers(question, X.answers(question.key))
                keys = [question.bin_of(float(v)) for v in numbers]
                blocks.append(self.encoders_[f"{question.key}:bins"].transform(keys))
        if not (self.text or self.sparse):
            return np.hstack(blocks)
        parts: list[Any] = [sp.csr_matrix(np.hstack(blocks))]
        for question in self._text_questions():
            parts.append(
                self.encoders_[f"{question.key}:words"].transform(answer_texts(question, X))
            )
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the columns."""
        check_is_fitted(self, "encoders_")
        return np.asarray(self.feature_names_, dtype=object)


def answer_texts(question: Question, answers: Answers) -> list[str | None]:
    """Answers as text: free text as written, choices by their labels (free answers kept)."""
    values = answers.answers(question.key)
    if question.type == "text":
        return [v or None for v in values]
    texts: list[str | None] = []
    for value in values:
        items = [] if value is None else value if isinstance(value, list) else [value]
        texts.append(", ".join(question.label_of(str(item)) for item in items) or None)
    return texts


def _question_encoder(question: Question) -> TransformerMixin:
    if question.type == "slots":
        return SlotEncoder(parts=[c.key for c in question.choices])
    if question.is_numeric:
        return ScaleEncoder(low=question.min, high=question.max)
    if question.type in ("yesno", "consent"):
        return ScaleEncoder(low=0, high=1, fill=0.0)
    return ChoiceEncoder(categories=[c.key for c in (question.items or question.choices)])


def _inputs(question: Question, answers: Answers) -> list[Any]:
    values = answers.answers(question.key)
    if question.is_numeric:
        return list(numeric_answers(question, values))
    if question.type in ("yesno", "consent"):
        return [None if v is None else float(v) for v in values]
    return values


def all_slot_keys(question: Question) -> list[str]:
    """Every weekly slot of a slots question, in day then part order."""
    return [slot_key(day, part) for day in range(len(DAYS)) for part in question.choices]
