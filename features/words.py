"""Free-text answers as words: stems of Russian and English words, TF-IDF over a hashed vocabulary.

Both scoring (``kind: text`` with ``tokens: words``) and learning read free text through
:class:`WordFeatures`: every text becomes a sparse unit row in a fixed space of ``n_features``
columns (the hashing trick), so memory grows with the words people wrote, never with a vocabulary
that has to be listed, and two rows' dot product is the texts' cosine similarity. Words are folded
(case, ё), stop words dropped, and Cyrillic words cut to their Snowball stem (``туристические`` and
``туризм`` differ, ``походы`` and ``поход`` do not), Latin words to the English stem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
import snowballstemmer
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer, TfidfTransformer
from sklearn.utils.validation import check_is_fitted

__all__ = ["WordFeatures", "common_words", "stems"]

_WORD = re.compile(r"[a-zа-я0-9]+(?:-[a-zа-я0-9]+)*")
_CYRILLIC = re.compile(r"[а-я]")
_RUSSIAN_STOP_TEXT = """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее
    мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был
    него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней
    для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того
    потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем
    всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего
    них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя
    такой им более всегда конечно всю между это очень также мои свои люблю нравится интересуюсь
    увлекаюсь занимаюсь"""
RUSSIAN_STOP_WORDS = frozenset(_RUSSIAN_STOP_TEXT.split())
_STOP_WORDS = RUSSIAN_STOP_WORDS | ENGLISH_STOP_WORDS
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


@lru_cache(maxsize=1 << 17)
def _stem(word: str) -> str:
    stemmer = _RUSSIAN if _CYRILLIC.search(word) else _ENGLISH
    return str(stemmer.stemWord(word))


def stems(text: str | None) -> list[tuple[str, str]]:
    """``(stem, word)`` of each meaningful word of a text, in order (stop words and 1-letter words dropped).

    Examples
    --------
    >>> [s for s, _ in stems("Туристические походы и шахматы; Programming")]
    ['туристическ', 'поход', 'шахмат', 'program']
    """
    if not text:
        return []
    folded = text.replace("ё", "е").replace("Ё", "Е").casefold()
    return [
        (_stem(word), word)
        for word in _WORD.findall(folded)
        if len(word) > 1 and word not in _STOP_WORDS
    ]


def _analyze(text: str) -> list[str]:
    return [stem for stem, _ in stems(text)]


def common_words(first: str | None, second: str | None) -> list[str]:
    """Words of ``first`` whose stem also appears in ``second``, once each, as ``first`` writes them.

    Examples
    --------
    >>> common_words("туризм, шахматы, походы", "Люблю поход в горы и шахматный клуб")
    ['походы']
    """
    theirs = {stem for stem, _ in stems(second)}
    found: dict[str, str] = {}
    for stem, word in stems(first):
        if stem in theirs and stem not in found:
            found[stem] = word
    return list(found.values())


class WordFeatures(TransformerMixin, BaseEstimator):
    """Texts as sparse TF-IDF rows of hashed word stems; rows have unit length (empty text: zero row).

    Parameters
    ----------
    n_features : int
        Columns of the hashed space; memory does not depend on it, collisions shrink as it grows.
    sublinear_tf : bool
        Use 1 + log(count) for a word repeated in one text.

    Attributes
    ----------
    idf_ : sklearn.feature_extraction.text.TfidfTransformer
        Inverse document frequencies learned in ``fit``.

    Examples
    --------
    >>> features = WordFeatures().fit(["туризм и походы", "шахматы", "Походы в горы", None])
    >>> rows = features.transform(["поход", "шахматный клуб", ""])
    >>> rows.shape[1], round(float((rows[0] @ rows[0].T).toarray()[0, 0]), 3), rows[2].nnz
    (262144, 1.0, 0)
    """

    def __init__(self, n_features: int = 1 << 18, sublinear_tf: bool = True) -> None:
        self.n_features = n_features
        self.sublinear_tf = sublinear_tf

    def _hasher(self) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer=_analyze,
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )

    def _counts(self, X: Iterable[str | None]) -> sp.csr_matrix:
        """Hashed word counts; each distinct text is read once (answers repeat a lot)."""
        codes: dict[str, int] = {}
        rows = [codes.setdefault(t or "", len(codes)) for t in X]
        distinct = self._hasher().transform(list(codes))
        return sp.csr_matrix(distinct[np.asarray(rows, dtype=np.int64)])

    def fit(self, X: Iterable[str | None], y: Any = None) -> WordFeatures:
        """Learn how rare each word is among the texts."""
        self.idf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(self._counts(X))
        return self

    def fit_transform(self, X: Iterable[str | None], y: Any = None, **fit_params: Any) -> Any:
        """``fit`` then ``transform``, reading the texts once."""
        counts = self._counts(X)
        self.idf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts)
        return sp.csr_matrix(self.idf_.transform(counts), dtype=np.float32)

    def transform(self, X: Sequence[str | None]) -> sp.csr_matrix:
        """Unit rows, float32, ``(len(X), n_features)``."""
        check_is_fitted(self, "idf_")
        return sp.csr_matrix(self.idf_.transform(self._counts(X)), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Hashed columns have no words: ``h0``, ``h1``, ..."""
        return np.asarray([f"h{k}" for k in range(self.n_features)], dtype=object)


def pair_dots(
    first: sp.csr_matrix, second: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """``first[rows[k]] . second[columns[k]]`` for every k, chunked so memory stays bounded."""
    result = np.zeros(len(rows), dtype=np.float32)
    chunk = 1 << 18
    for start in range(0, len(rows), chunk):
        part = slice(start, start + chunk)
        products = first[rows[part]].multiply(second[columns[part]])
        result[part] = np.asarray(products.sum(axis=1), dtype=np.float32).ravel()
    return result
