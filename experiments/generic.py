"""Generic baselines ``nastavnik learn`` prints beside its own kinds: what plain ML gets.

Logistic regression and gradient boosting (LightGBM) on both sides' one-hot answers and their
overlaps (:func:`features.design.side_matrix`, :func:`features.design.agreement`), without the
spec's components: what a data scientist would try first with the same history. They are fitted
on the same folds as the learned kinds (:class:`features.learning.Reference`), never saved, so a
user sees when the spec or the model leaves quality on the table.

The product never imports this module (import-linter forbids ``features -> experiments``):
``nastavnik learn`` finds :func:`references` through the entry point group
``nastavnik.learning_references`` declared in ``pyproject.toml``.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from features import Answers, Spec
from features.design import agreement, side_matrix
from features.learning import History
from features.learning.fit import BOOSTING_ROUNDS, boosting_params, dataset_params

__all__ = ["GenericBaseline", "references"]

_LOCK = threading.Lock()
LABELS = {
    "generic_lr": "общая логистическая регрессия (ответы + совпадения)",
    "generic_gb": "общий градиентный бустинг (ответы + совпадения)",
}


class GenericBaseline:
    """One generic model: ``generic_lr`` or ``generic_gb``.

    Examples
    --------
    >>> [b.label for b in references()]  # doctest: +NORMALIZE_WHITESPACE
    ['общая логистическая регрессия (ответы + совпадения)',
     'общий градиентный бустинг (ответы + совпадения)']
    """

    def __init__(self, name: str, cache: dict[str, Any] | None = None) -> None:
        if name not in LABELS:
            raise ValueError(f"The 'name' parameter must be one of {sorted(LABELS)}. Got {name!r}.")
        self.name = name
        self.label = LABELS[name]
        # The inputs of the last history, shared by the baselines of one ``references()`` call.
        self._cache: dict[str, Any] = {} if cache is None else cache

    def inputs(
        self, spec: Spec, mentors: Answers, mentees: Answers, history: History
    ) -> sp.csr_array:
        """Both sides' answers and their overlaps for every history pair (cached per history)."""
        with _LOCK:  # learn(..., jobs=2) calls the baselines from two threads
            return self._inputs(spec, mentors, mentees, history)

    def _inputs(
        self, spec: Spec, mentors: Answers, mentees: Answers, history: History
    ) -> sp.csr_array:
        if self._cache.get("history") is history:
            return self._cache["inputs"]
        mentor_x, mentor_names, _ = side_matrix(spec, mentors, "mentors")
        mentee_x, mentee_names, _ = side_matrix(spec, mentees, "mentees")
        a, b = sp.csr_array(mentor_x[history.mentor]), sp.csr_array(mentee_x[history.mentee])
        agree, _ = agreement(spec, a, mentor_names, b, mentee_names)
        x = sp.csr_array(sp.hstack([a, b, agree], format="csr", dtype=np.float32))
        self._cache.update(history=history, inputs=x)
        return x

    def fit_predict(
        self,
        spec: Spec,
        mentors: Answers,
        mentees: Answers,
        history: History,
        train: np.ndarray,
        test: np.ndarray,
    ) -> np.ndarray:
        """Fit on the pairs ``train``, score the pairs ``test``."""
        x = self.inputs(spec, mentors, mentees, history)
        y = history.outcome
        binary = history.binary
        low, high = float(y.min()), float(y.max())
        share = (y - low) / (high - low) if high > low else np.full(len(y), 0.5)
        if self.name == "generic_gb":
            return _boosting(x, share, binary, train, test)
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        used = np.unique(x[train].indices)
        xt, xs = x[train][:, used], x[test][:, used]
        if binary:
            rows, labels, weight = np.arange(len(train)), y[train].astype(int), None
        else:
            rows = np.r_[np.arange(len(train)), np.arange(len(train))]
            labels = np.r_[np.ones(len(train), int), np.zeros(len(train), int)]
            weight = np.r_[share[train], 1.0 - share[train]]
        # Newton with conjugate gradients: lbfgs' optimum (to 3 decimals of AUC) in a fifth
        # of its time on 10,000 answer columns.
        model = LogisticRegression(C=1.0, solver="newton-cg", max_iter=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(xt[rows], labels, sample_weight=weight)
        return np.asarray(model.predict_proba(xs)[:, 1], dtype=float)


def _boosting(
    x: sp.csr_array, share: np.ndarray, binary: bool, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    import lightgbm

    params = boosting_params(len(train), binary, seed=0)
    data = lightgbm.Dataset(
        sp.csr_matrix(x[train]), label=share[train], params=dataset_params(params)
    )
    booster = lightgbm.train(params, data, num_boost_round=BOOSTING_ROUNDS)
    return np.asarray(booster.predict(sp.csr_matrix(x[test])), dtype=float)


def references() -> list[GenericBaseline]:
    """The generic baselines, for ``nastavnik learn`` (entry point) and the experiments."""
    shared: dict[str, Any] = {}  # both sides' answers are laid out once for the two
    return [GenericBaseline("generic_lr", shared), GenericBaseline("generic_gb", shared)]
