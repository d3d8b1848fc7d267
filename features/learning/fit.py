"""Fitting each kind of model on past pairs: sparse inputs, logistic regression or LightGBM.

Kinds, simplest first (``KINDS``); each is saved as the JSON of :mod:`features.model`:

- ``weights``: logistic regression on the component values (:class:`features.WeightsModel`);
- ``linear``: + both sides' answers (:class:`features.model.LinearPairModel`; the mentee's own
  terms are fitted, then replaced by their average);
- ``interactions``: + the agreement of the two sides on shared questions and the hashed crosses of
  every mentor answer with every mentee answer (:class:`features.model.InteractionsPairModel`);
- ``boosting``: gradient-boosted trees (LightGBM) on components, both sides' answers and their
  agreement (:class:`features.model.BoostingPairModel`).

A numeric outcome is scaled to [0, 1]: the logistic regressions are fractional (each pair counts as
a success with weight ``y`` and a failure with weight ``1 - y``), LightGBM uses its
``cross_entropy`` objective, which takes labels in [0, 1]; both give a score in (0, 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from features.design import agreement, side_matrix
from features.model import (
    BoostingPairModel,
    InteractionsPairModel,
    Layout,
    LinearPairModel,
    WeightsModel,
)
from features.scoring import PairModel, PairTable

__all__ = [
    "BOOSTING",
    "BOOSTING_ROUNDS",
    "KINDS",
    "LABELS",
    "PARTS",
    "Design",
    "design",
    "fit_model",
]

#: What can be learned and saved, simplest first.
KINDS = ("weights", "linear", "interactions", "boosting")
LABELS = {
    "hand": "веса анкеты",
    "weights": "обученные веса составляющих",
    "linear": "составляющие и ответы наставника",
    "interactions": "ответы обеих сторон и их сочетания",
    "boosting": "градиентный бустинг (LightGBM)",
}
#: The input blocks of each kind (see ``features.model.Layout.matrix``).
PARTS = {
    "weights": ("components",),
    "linear": ("components", "mentors", "mentees"),
    "interactions": ("components", "mentors", "mentees", "agreement", "crosses"),
    "boosting": BoostingPairModel.PARTS,
}
#: Inverse regularisation strength of the logistic regressions.
_C = {"weights": 1.0, "linear": 1.0, "interactions": 0.1}
BOOSTING = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "num_threads": 1,  # measured: faster than 2 on small data and on a shared machine
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}
BOOSTING_ROUNDS = 200


@dataclass
class Design:
    """The model inputs of every past pair, computed once and sliced by fold.

    Attributes
    ----------
    layout : Layout
        Columns and scales (learned from every questionnaire of the history's people: answers are
        known for next term's people too, outcomes are not used).
    blocks : dict of str to scipy.sparse.csr_array
        Each input block (``components``, ``mentors``...) of every pair, rows in history order.
    """

    layout: Layout
    blocks: dict[str, sp.csr_array]

    def matrix(self, kind: str, rows: Any = None) -> sp.csr_array:
        """The inputs of a kind for the pairs ``rows`` (all by default)."""
        blocks = [self.blocks[p] for p in PARTS[kind]]
        if rows is not None:  # slice each block first: one copy of the rows, not two
            blocks = [sp.csr_array(b[np.asarray(rows)]) for b in blocks]
        return sp.csr_array(sp.hstack(blocks, format="csr"))


def design(table: PairTable, kinds: tuple[str, ...] = KINDS) -> Design:
    """Lay out and compute the inputs the ``kinds`` need for the pairs of ``table``."""
    spec = table.spec
    columns, scales = {}, {}
    for side, people, at in (
        ("mentors", table.mentors, table.mentor),
        ("mentees", table.mentees, table.mentee),
    ):
        matrix, names, used = side_matrix(spec, people, side)
        # Only answers some past pair has: others could never get a weight.
        seen = np.zeros(len(names), dtype=bool)
        seen[sp.csr_array(matrix[np.unique(at)]).indices] = True
        columns[side] = [n for n, keep in zip(names, seen, strict=True) if keep]
        scales[side] = used
    layout = Layout(
        spec.name, list(table.components), columns["mentors"], columns["mentees"], scales
    )
    parts = {p for kind in kinds for p in PARTS[kind]}
    blocks: dict[str, sp.csr_array] = {}
    if parts & {"mentors", "mentees", "agreement", "crosses"}:
        mentor_rows, mentee_rows = layout.sides(table)
        blocks["mentors"], blocks["mentees"] = mentor_rows, mentee_rows
        if "agreement" in parts:
            agree, names = agreement(
                spec, mentor_rows, layout.mentor_columns, mentee_rows, layout.mentee_columns
            )
            layout.agreement = names
            blocks["agreement"] = agree
        if "crosses" in parts:
            blocks["crosses"] = layout.crosses(spec, mentor_rows, mentee_rows)
    blocks["components"] = sp.csr_array(np.asarray(table.values, dtype=np.float32))
    return Design(layout, blocks)


def _target(outcome: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, 0/1 labels and weights of a (fractional) logistic regression."""
    rows = np.arange(len(outcome))
    if binary:
        return rows, outcome.astype(int), np.ones(len(outcome))
    share = _share(outcome)
    labels = np.r_[np.ones(len(outcome), dtype=int), np.zeros(len(outcome), dtype=int)]
    return np.r_[rows, rows], labels, np.r_[share, 1.0 - share]


def _share(outcome: np.ndarray) -> np.ndarray:
    low, high = float(outcome.min()), float(outcome.max())
    return (outcome - low) / (high - low) if high > low else np.full(len(outcome), 0.5)


def fit_model(
    kind: str,
    table: PairTable,
    outcome: np.ndarray,
    binary: bool,
    rows: np.ndarray | None = None,
    inputs: Design | None = None,
    seed: int = 0,
) -> PairModel:
    """Fit one kind of model on the past pairs ``rows`` (all by default).

    Parameters
    ----------
    kind : {"weights", "linear", "interactions", "boosting"}
    table : PairTable
        The past pairs (:func:`features.learning.history_table`).
    outcome : numpy.ndarray
    binary : bool
        0/1 outcomes or numbers (scaled to [0, 1]).
    rows : numpy.ndarray of int, optional
        The pairs to fit on.
    inputs : Design, optional
        :func:`design` of ``table``, when already computed.
    seed : int
        Seed of LightGBM.

    Returns
    -------
    PairModel
        What ``features.score_pairs(..., model=...)`` uses, with a JSON form (``to_dict``).
    """
    if kind not in KINDS:
        raise ValueError(f"The 'kind' parameter of fit_model must be one of {KINDS}. Got {kind!r}.")
    rows = np.arange(len(outcome)) if rows is None else np.asarray(rows)
    inputs = inputs or design(table, (kind,))
    x = inputs.matrix(kind, rows)
    if kind == "boosting":
        return _boosting(inputs.layout, x, outcome[rows], binary, seed)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    at, labels, weight = _target(outcome[rows], binary)
    solver = "newton-cholesky" if kind == "weights" else "lbfgs"
    regression = LogisticRegression(C=_C[kind], solver=solver, max_iter=300, tol=1e-4)
    # Only the columns some training pair has can get a weight: fit on those (hashed crosses use a
    # small part of their 2**18 columns), the others weigh 0.
    used = np.unique(x.indices)
    compact = sp.csr_array(x[:, used]) if len(used) < x.shape[1] else x
    with warnings.catch_warnings():
        # Stopping at max_iter still gives usable weights; the curator's terminal stays clean.
        warnings.simplefilter("ignore", ConvergenceWarning)
        regression.fit(compact[at], labels, sample_weight=weight)
    coef = np.zeros(x.shape[1])
    coef[used if len(used) < x.shape[1] else slice(None)] = regression.coef_.ravel()
    intercept = float(regression.intercept_[0])
    layout = inputs.layout
    n_comp = len(layout.components)
    components = dict(zip(layout.components, coef[:n_comp].tolist(), strict=True))
    if kind == "weights":
        return WeightsModel(components, intercept, link="logistic", spec=layout.spec)
    n_mentor, n_mentee = len(layout.mentor_columns), len(layout.mentee_columns)
    mentor_w = coef[n_comp : n_comp + n_mentor]
    mentee_w = coef[n_comp + n_mentor : n_comp + n_mentor + n_mentee]
    # The mentee's own terms are replaced by their average (see features.model).
    mentee_terms = np.asarray(inputs.blocks["mentees"][rows] @ mentee_w)
    intercept += float(mentee_terms.mean()) if len(mentee_terms) else 0.0
    if kind == "linear":
        return LinearPairModel(
            components,
            dict(zip(layout.mentor_columns, mentor_w.tolist(), strict=True)),
            intercept,
            layout.scales.get("mentors", {}),
            layout.spec,
        )
    rest = coef[n_comp + n_mentor + n_mentee :]
    n_agree = len(layout.agreement)
    named = dict(components)
    named |= {f"mentor:{n}": float(w) for n, w in zip(layout.mentor_columns, mentor_w, strict=True)}
    named |= dict(zip(layout.agreement, rest[:n_agree].tolist(), strict=True))
    cross_w = rest[n_agree:]
    used = np.flatnonzero(np.abs(cross_w) > 1e-6)
    return InteractionsPairModel(
        layout, named, dict(zip(used.tolist(), cross_w[used].tolist(), strict=True)), intercept
    )


def _boosting(
    layout: Layout, x: sp.csr_array, outcome: np.ndarray, binary: bool, seed: int
) -> BoostingPairModel:
    import lightgbm

    params: dict[str, Any] = dict(BOOSTING, seed=seed)
    label = outcome.astype(float) if binary else _share(outcome)
    if not binary:
        params["objective"] = "cross_entropy"
    data = lightgbm.Dataset(sp.csr_matrix(x), label=label, params={"verbose": -1})
    booster = lightgbm.train(params, data, num_boost_round=BOOSTING_ROUNDS)
    return BoostingPairModel(layout, booster)
