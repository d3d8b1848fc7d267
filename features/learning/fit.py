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

import threading
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
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
    "LEAF_SHARE",
    "MIN_DATA_IN_LEAF",
    "PARTS",
    "Design",
    "boosting_params",
    "dataset_params",
    "design",
    "fit_model",
    "predict",
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
    "learning_rate": 0.1,  # and 100 rounds: as good as 0.05 and 200 (experiments/README.md)
    "num_leaves": 15,
    "min_data_in_leaf": 20,  # raised with the training pairs: see boosting_params
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "num_threads": 1,  # measured: faster than 2 on small data and on a shared machine
    "deterministic": True,
    "force_row_wise": True,  # measured: 1.8 s a fold at 50,000 pairs against 3.2 s column-wise
    "verbose": -1,
}
BOOSTING_ROUNDS = 100
#: A LightGBM leaf holds at least ``MIN_DATA_IN_LEAF`` training pairs and this share of them.
MIN_DATA_IN_LEAF = 20
LEAF_SHARE = 1 / 500


def boosting_params(n_rows: int, binary: bool, seed: int = 0) -> dict[str, Any]:
    """LightGBM's parameters for ``n_rows`` training pairs (ours and the generic baseline's).

    A leaf holds at least 20 pairs or 0.2 % of them, whichever is more: 20 up to 10,000 pairs (the
    recovery cohort's trees are unchanged), 80 of 40,000. An answer fewer pairs than that have can
    never split a leaf, so LightGBM drops its column before building any tree
    (``feature_pre_filter``): a 5,000-answer question, ticked by a few dozen pairs each, no longer
    costs a histogram every round (7 s -> 1.8 s a fold at 50,000 pairs, pooled AUC unchanged to
    3 decimals; experiments/README.md).
    """
    params: dict[str, Any] = dict(BOOSTING, seed=seed)
    params["min_data_in_leaf"] = max(MIN_DATA_IN_LEAF, round(n_rows * LEAF_SHARE))
    if not binary:
        params["objective"] = "cross_entropy"
    return params


_LIBLINEAR = threading.Lock()


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
        The ``crosses`` block is dropped once the ``interactions`` inputs are laid out (no other
        kind reads it; it is the biggest).
    """

    layout: Layout
    blocks: dict[str, sp.csr_array]
    _inputs: dict[str, tuple[sp.csr_array, np.ndarray]] = field(default_factory=dict, repr=False)

    def has(self, kind: str) -> bool:
        """Whether the inputs of a kind were computed (:func:`design` of that kind)."""
        return kind in self._inputs or all(p in self.blocks for p in PARTS[kind])

    def inputs(self, kind: str) -> tuple[sp.csr_array, np.ndarray]:
        """The inputs of a kind for every pair, on the columns some pair has, and those columns.

        Built once per kind (the blocks side by side, float32 with 32-bit indices) and sliced by
        rows for each fold: a column no pair has would get a weight of 0 in any fold, so the
        regressions fit on ``columns`` only (hashed crosses use a part of their ``2**18``).
        """
        if kind not in self._inputs:
            full = sp.hstack([self.blocks[p] for p in PARTS[kind]], format="csr")
            width = full.shape[1]
            columns = np.arange(width)
            indices = np.asarray(full.indices)
            if kind != "boosting":  # trees read the layout's columns: kept whole
                columns = np.flatnonzero(np.bincount(indices, minlength=width))
                where = np.zeros(width, dtype=np.int32)
                where[columns] = np.arange(len(columns), dtype=np.int32)
                indices = where[indices]
            self._inputs[kind] = (
                sp.csr_array(
                    (
                        np.asarray(full.data, dtype=np.float32),
                        indices.astype(np.int32, copy=False),
                        np.asarray(full.indptr).astype(np.int32, copy=False),
                    ),
                    shape=(full.shape[0], len(columns)),
                ),
                columns,
            )
            del full
            if kind == "interactions":
                self.blocks.pop("crosses", None)
        return self._inputs[kind]

    def matrix(self, kind: str, rows: Any = None) -> sp.csr_array:
        """The inputs of a kind for the pairs ``rows`` (all by default), every layout column."""
        x, columns = self.inputs(kind)
        if rows is not None:
            x = x[np.asarray(rows)]
        width = _width(self.layout, kind)
        if len(columns) == width:
            return sp.csr_array(x)
        return sp.csr_array(
            (x.data, columns[x.indices], x.indptr), shape=(x.shape[0], width), dtype=np.float32
        )


def _width(layout: Layout, kind: str) -> int:
    """Columns of a kind's inputs (``Layout.names`` without building the names)."""
    widths = {
        "components": len(layout.components),
        "mentors": len(layout.mentor_columns),
        "mentees": len(layout.mentee_columns),
        "agreement": len(layout.agreement),
        "crosses": 1 << layout.bits,
    }
    return sum(widths[p] for p in PARTS[kind])


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
        Seed of LightGBM and of liblinear's order of coordinates.

    Returns
    -------
    PairModel
        What ``features.score_pairs(..., model=...)`` uses, with a JSON form (``to_dict``).
    """
    if kind not in KINDS:
        raise ValueError(f"The 'kind' parameter of fit_model must be one of {KINDS}. Got {kind!r}.")
    rows = np.arange(len(outcome)) if rows is None else np.asarray(rows)
    inputs = inputs or design(table, (kind,))
    x, columns = inputs.inputs(kind)
    x = x[rows] if len(rows) < x.shape[0] else x
    if kind == "boosting":
        return _boosting(inputs.layout, x, outcome[rows], binary, seed)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    at, labels, weight = _target(outcome[rows], binary)
    if kind == "interactions":
        # Far more columns than pairs, sparse: liblinear's dual coordinate descent minimises the
        # same L2 logistic loss as lbfgs (the intercept is a column of 10, so that its penalty is
        # negligible) about 4 times faster on hashed crosses. 15 passes: the pooled AUC of the
        # recovery cohort is that of lbfgs to 3 decimals (0.792 with 10, 15, 20 or 30 passes; on
        # a fold of the benchmark 0.615-0.616 with 15 or 30 passes, 2.2 s against 4.1 s; measured in
        # experiments/README.md). At C = 1 with few columns (``linear``) it converges slowly.
        regression = LogisticRegression(
            C=_C[kind],
            solver="liblinear",
            dual=True,
            intercept_scaling=10.0,
            max_iter=15,
            random_state=seed,  # the order of its coordinates: the same weights every run
        )
    else:
        # Newton's method on the few components for ``weights``; for ``linear`` (thousands of
        # answer columns) Newton with conjugate gradients: the optimum lbfgs reached in 250-300
        # iterations (pooled AUC the same to 3 decimals), in 5-6 Newton steps, 1 s a fold at
        # 50,000 pairs instead of 5 s.
        solver = "newton-cholesky" if kind == "weights" else "newton-cg"
        regression = LogisticRegression(C=_C[kind], solver=solver, max_iter=100, tol=1e-4)
    with warnings.catch_warnings():
        # Stopping at max_iter still gives usable weights; the curator's terminal stays clean.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # liblinear orders its coordinates with the C library's global rand(): two fits at once
        # (learn --jobs 2) would draw from each other's sequence; one at a time, they are
        # the same as in a sequential run.
        with _LIBLINEAR if kind == "interactions" else nullcontext():
            regression.fit(x[at] if len(at) > x.shape[0] else x, labels, sample_weight=weight)
    coef = np.zeros(_width(inputs.layout, kind))
    coef[columns] = regression.coef_.ravel()
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


def predict(model: PairModel, inputs: Design, rows: np.ndarray) -> np.ndarray | None:
    """Scores of the past pairs ``rows`` from the inputs already laid out, or None.

    What ``model.score`` gives for those pairs (a test checks it), without rebuilding both sides'
    answers and the crosses from the questionnaires for every fold: ``linear``, ``interactions``
    and ``boosting`` models; None for ``weights`` (its ``score`` reads the components only).
    """
    rows = np.asarray(rows)
    if isinstance(model, LinearPairModel) and inputs.has("linear"):
        x, columns = inputs.inputs("linear")
        layout = inputs.layout
        w = np.concatenate(
            [
                [model.components.get(k, 0.0) for k in layout.components],
                [model.mentor_answers.get(n, 0.0) for n in layout.mentor_columns],
                np.zeros(len(layout.mentee_columns)),  # replaced by their average
            ]
        )[columns]
        return 1.0 / (1.0 + np.exp(-(model.intercept + np.asarray(x[rows] @ w, dtype=float))))
    if isinstance(model, BoostingPairModel):
        x, _ = inputs.inputs("boosting")
        if len(rows) == 0:
            return np.zeros(0)
        return np.asarray(model.booster.predict(sp.csr_matrix(x[rows])), dtype=float)
    if isinstance(model, InteractionsPairModel):
        x, columns = inputs.inputs("interactions")
        w = model.coefficients()  # components, mentors, agreement, crosses
        head = len(inputs.layout.components) + len(inputs.layout.mentor_columns)
        mentees = np.zeros(len(inputs.layout.mentee_columns))  # replaced by their average
        w = np.concatenate([w[:head], mentees, w[head:]])[columns]
        return 1.0 / (1.0 + np.exp(-(model.intercept + np.asarray(x[rows] @ w, dtype=float))))
    return None


def _boosting(
    layout: Layout, x: sp.csr_array, outcome: np.ndarray, binary: bool, seed: int
) -> BoostingPairModel:
    import lightgbm

    params = boosting_params(x.shape[0], binary, seed)
    label = outcome.astype(float) if binary else _share(outcome)
    data = lightgbm.Dataset(sp.csr_matrix(x), label=label, params=dataset_params(params))
    booster = lightgbm.train(params, data, num_boost_round=BOOSTING_ROUNDS)
    return BoostingPairModel(layout, booster)


def dataset_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters LightGBM reads when it bins a ``Dataset`` (the leaf size prunes columns)."""
    return {"verbose": -1, "min_data_in_leaf": params["min_data_in_leaf"]}
