"""Folds of the cross-validation: by mentee (the default), by a column of the user, or by person.

``pair_folds`` gives every past pair one fold, so that every pair is tested exactly once:

- ``by="mentee"`` (the default): a pair's fold is its mentee's. The mentee is never seen in
  training, all their pairs (a replaced mentor) are tested together; the mentor's *other* pairs
  are allowed in training. This is how the model is used: next term's mentees are new, while
  mentors often come back -- and the model never sees who a mentor is, only their answers.
- ``groups`` (``nastavnik learn --group-by COLUMN``): a pair's fold is its group's (a term, an
  event, a school), so that the model is tested on groups it has not seen.
- ``by="person"`` (:func:`person_folds`): nobody at all is on both sides of a split. Stricter, but
  a pair is tested only when both its people fall in the same fold: on a dense history many pairs
  are never tested, and ``learn`` prints how many were.

Folds are dealt by scikit-learn's ``StratifiedGroupKFold`` (0/1 outcomes with enough of each) or
``GroupKFold`` (shuffled, seeded).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from features.learning.history import LearnError

__all__ = ["PersonGroupKFold", "group_folds", "person_folds"]


def group_folds(
    groups: Sequence[Any], n_splits: int = 5, y: Any = None, seed: int = 0
) -> npt.NDArray[np.int64]:
    """A fold for every pair such that each group (a mentee, a term) is in one fold only.

    Examples
    --------
    >>> folds = group_folds(["a", "a", "b", "c", "c", "d"], 2)
    >>> bool(folds[0] == folds[1] and folds[3] == folds[4]), sorted(set(folds.tolist()))
    (True, [0, 1])
    """
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    codes, unique = pd.factorize(pd.Series([str(g) for g in groups], dtype=object))
    n_splits = min(n_splits, len(unique))
    if n_splits < 2:
        raise LearnError(
            "в истории одна группа: чтобы проверить модель, нужно хотя бы две "
            "(разные наставляемые или разные значения столбца --group-by)"
        )
    counts = np.unique(y, return_counts=True)[1] if y is not None else np.array([])
    stratified = len(counts) == 2 and counts.min() >= n_splits
    splitter: Any = (
        StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        if stratified
        else GroupKFold(n_splits, shuffle=True, random_state=seed)
    )
    fold = np.zeros(len(codes), dtype=np.int64)
    labels = np.asarray(y) if stratified else None
    for k, (_, test) in enumerate(splitter.split(codes, labels, codes)):
        fold[test] = k
    return fold


def person_folds(
    mentor_ids: Any,
    mentee_ids: Any,
    n_splits: int = 5,
    y: Any = None,
    seed: int = 0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A fold for every person, so that no person is both in training and in test.

    Parameters
    ----------
    mentor_ids, mentee_ids : array_like
        The people of each pair; equal identifiers are the same person, on either side.
    n_splits : int
        Number of folds (fewer when there are fewer independent units of people).
    y : array_like, optional
        0/1 outcomes to stratify the folds by.
    seed : int

    Returns
    -------
    mentor_fold, mentee_fold : numpy.ndarray of int
        The fold of each pair's mentor and of its mentee.

    Examples
    --------
    >>> mentor_fold, mentee_fold = person_folds(["a", "a", "b", "c"], ["x", "y", "z", "w"], 3)
    >>> bool((mentor_fold == mentee_fold).all()), sorted(set(mentor_fold.tolist()))
    (True, [0, 1, 2])
    """
    mentor_code, mentee_code, n_people = _codes(mentor_ids, mentee_ids)
    unit = _units(mentor_code, mentee_code, n_people, n_splits)
    pair_units, pair_group = np.unique(unit[mentor_code], return_inverse=True)
    n_splits = min(n_splits, len(pair_units))
    if n_splits < 2:
        raise LearnError(
            "в истории все пары связаны общими людьми: нельзя проверить модель на новых людях"
        )
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    counts = np.unique(y, return_counts=True)[1] if y is not None else np.array([])
    stratified = len(counts) == 2 and counts.min() >= n_splits
    splitter: Any = (
        StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        if stratified
        else GroupKFold(n_splits, shuffle=True, random_state=seed)
    )
    unit_fold = np.zeros(len(pair_units), dtype=np.int64)
    labels = np.asarray(y) if stratified else None
    for fold, (_, test) in enumerate(splitter.split(pair_group, labels, pair_group)):
        unit_fold[pair_group[test]] = fold
    person_fold = unit_fold[np.searchsorted(pair_units, unit)]
    return person_fold[mentor_code], person_fold[mentee_code]


def _codes(
    mentor_ids: Any, mentee_ids: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    both = pd.Series([*map(str, mentor_ids), *map(str, mentee_ids)], dtype=object)
    codes, people = pd.factorize(both)
    n = len(mentor_ids)
    return codes[:n].astype(np.int64), codes[n:].astype(np.int64), len(people)


def _units(
    mentor: npt.NDArray[np.int64], mentee: npt.NDArray[np.int64], n_people: int, n_splits: int
) -> npt.NDArray[np.int64]:
    """The unit of each person: a small component whole, else their own or their usual mentor."""
    graph = sp.coo_array((np.ones(len(mentor)), (mentor, mentee)), shape=(n_people, n_people))
    _, component = connected_components(graph, directed=False)
    pairs_in = np.bincount(component[mentor], minlength=component.max(initial=0) + 1)
    small = pairs_in[component] <= len(mentor) / (2 * n_splits)
    home = np.arange(n_people, dtype=np.int64)
    is_mentor = np.zeros(n_people, dtype=bool)
    is_mentor[mentor] = True
    # A mentee's usual mentor: the one of most of their pairs (ties: the first met).
    counts = pd.DataFrame({"mentee": mentee, "mentor": mentor}).value_counts(sort=False)
    usual = counts.reset_index().sort_values(
        ["mentee", "count"], ascending=[True, False], kind="stable"
    )
    usual = usual.drop_duplicates("mentee")
    only_mentee = ~is_mentor[usual["mentee"].to_numpy()]
    home[usual["mentee"].to_numpy()[only_mentee]] = usual["mentor"].to_numpy()[only_mentee]
    return np.where(small, n_people + component, home)


class PersonGroupKFold:
    """Cross-validation splits of pairs with no person on both sides (scikit-learn's interface).

    ``groups`` is an array of shape (n_pairs, 2): the mentor and the mentee of each pair.
    See :func:`person_folds`.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.array([["a", "x"], ["a", "y"], ["b", "z"], ["c", "w"], ["d", "v"]])
    >>> [test.tolist() for _, test in PersonGroupKFold(2).split(groups, groups=groups)]
    [[3, 4], [0, 1, 2]]
    """

    def __init__(self, n_splits: int = 5, random_state: int = 0) -> None:
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits (at most ``n_splits``)."""
        if groups is None:
            return self.n_splits
        folds = self._folds(y, groups)
        return len(np.unique(folds[0]))

    def _folds(self, y: Any, groups: Any) -> tuple[np.ndarray, np.ndarray]:
        people = np.asarray(groups, dtype=object)
        return person_folds(people[:, 0], people[:, 1], self.n_splits, y, self.random_state)

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        """Yield (train, test) positions of pairs for each fold."""
        if groups is None:
            raise ValueError("The 'groups' parameter of PersonGroupKFold.split is required.")
        mentor_fold, mentee_fold = self._folds(y, groups)
        for fold in np.unique(mentor_fold):
            test = np.flatnonzero((mentor_fold == fold) & (mentee_fold == fold))
            train = np.flatnonzero((mentor_fold != fold) & (mentee_fold != fold))
            yield train, test
