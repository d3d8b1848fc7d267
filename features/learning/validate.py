"""Cross-validation of every kind on the same folds, pooled quality with a confidence interval.

Every tested pair gets one out-of-fold score per method (the hand weights, each kind fitted, and
any *reference* method given, such as the generic baselines of ``experiments``). The quality is
reported twice: the mean ± sd over the folds, and pooled over all tested pairs with a 95 %
bootstrap interval (pairs resampled, 200 times). ``kind="auto"`` starts from the simplest kind and
takes a more complex one only when it beats the current choice beyond noise: the 2.5 % quantile of
the paired bootstrap difference of the pooled quality is above zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from features.answers import Answers
from features.learning.fit import KINDS, LABELS, design, fit_model, predict
from features.learning.folds import group_folds, person_folds
from features.learning.history import MIN_PAIRS, History, LearnError, history_table
from features.model import WeightsModel
from features.scoring import PairModel, PairTable
from features.spec import Spec

__all__ = ["BOOTSTRAP", "Learned", "Reference", "learn", "pooled_quality", "quality"]

#: Bootstrap resamples of the pooled quality.
BOOTSTRAP = 200
SPLITS = ("mentee", "person")


class Reference(Protocol):
    """A method compared with the learned kinds on the same folds, never saved.

    ``fit_predict`` fits on the history pairs ``train`` and returns a score for each pair of
    ``test`` (higher = better).
    """

    name: str
    label: str

    def fit_predict(
        self,
        spec: Spec,
        mentors: Answers,
        mentees: Answers,
        history: History,
        train: np.ndarray,
        test: np.ndarray,
    ) -> np.ndarray: ...


def quality(score: np.ndarray, outcome: np.ndarray, binary: bool) -> float:
    """ROC-AUC of 0/1 outcomes, Spearman's rank correlation of numbers (NaN with one outcome).

    Both from ranks (ties share their mean rank), as ``roc_auc_score`` and ``spearmanr`` compute
    them, without their checks: the bootstrap calls this thousands of times.

    >>> quality(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]), True)
    0.75
    """
    from scipy.stats import rankdata

    score, outcome = np.asarray(score, dtype=float), np.asarray(outcome, dtype=float)
    if len(outcome) == 0 or outcome.min() == outcome.max():
        return math.nan
    ranks = rankdata(score)
    if binary:
        positive = outcome == 1
        n1 = int(positive.sum())
        n0 = len(outcome) - n1
        return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    other = rankdata(outcome)
    if ranks.min() == ranks.max():
        return 0.0
    return float(np.corrcoef(ranks, other)[0, 1])


def pooled_quality(
    scores: dict[str, np.ndarray], outcome: np.ndarray, binary: bool, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Quality of each method over all tested pairs, with a 95 % bootstrap interval.

    Returns the table (index: method; columns ``quality``, ``low``, ``high``, ``tested``) and the
    bootstrap replicates of each method (the same resamples for all: differences are paired).
    """
    rng = np.random.default_rng([seed, 404])
    n = len(outcome)
    samples = [rng.integers(0, n, n) for _ in range(BOOTSTRAP)]
    rows, replicates = [], {}
    for method, score in scores.items():
        if binary:
            values = _resampled_auc(np.asarray(score, dtype=float), outcome, samples)
        else:
            values = np.array([quality(score[k], outcome[k], binary) for k in samples])
        replicates[method] = values
        low, high = np.nanquantile(values, [0.025, 0.975]) if n else (math.nan, math.nan)
        rows.append((method, quality(score, outcome, binary), float(low), float(high), n))
    table = pd.DataFrame(rows, columns=["method", "quality", "low", "high", "tested"])
    return table.set_index("method"), replicates


def _resampled_auc(score: np.ndarray, outcome: np.ndarray, samples: list[np.ndarray]) -> np.ndarray:
    """ROC-AUC of each resample (pair positions drawn with replacement), from one sort of the pairs.

    The AUC of a resample is the share of its (positive, negative) pairs ordered right, a tie
    counting one half: with each pair weighted by the times it was drawn, that is a sum over the
    pairs sorted once by score (ties grouped) of the positives' weight times the negatives' weight
    below them. The same values as ranking each resample (:func:`quality`), 20 times faster: the
    bootstrap of 7 methods over 50,000 pairs took 13 s.
    """
    n = len(outcome)
    if n == 0:
        return np.full(len(samples), math.nan)
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # groups of equal scores
    positive = np.asarray(outcome, dtype=float)[order] == 1
    values = []
    for chunk in range(0, len(samples), 25):  # 25 resamples at a time: 25 rows of n counts
        counts = np.stack([np.bincount(k, minlength=n) for k in samples[chunk : chunk + 25]])
        counts = counts[:, order].astype(float)
        pos = np.add.reduceat(np.where(positive, counts, 0.0), starts, axis=1)
        neg = np.add.reduceat(np.where(positive, 0.0, counts), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        n1, n0 = pos.sum(axis=1), neg.sum(axis=1)
        right = (pos * (below + 0.5 * neg)).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            values.append(np.where(n1 * n0 > 0, right / (n1 * n0), math.nan))
    return np.concatenate(values)


@dataclass
class Learned:
    """What :func:`learn` found.

    Attributes
    ----------
    model : PairModel
        The model chosen to be saved, fitted on the whole history.
    kind : str
        Its kind.
    models : dict of str to PairModel
        The kinds fitted on the whole history (only the chosen one).
    folds : pandas.DataFrame
        Columns ``fold``, ``method``, ``quality``, ``train``, ``test``.
    binary : bool
        0/1 outcomes (quality = ROC-AUC) or numbers (quality = Spearman's rank correlation).
    pooled : pandas.DataFrame
        Quality over all tested pairs with its 95 % interval (:func:`pooled_quality`).
    tested : int
        Pairs tested (each once); ``n_pairs`` pairs in the history.
    n_pairs : int
    split : str
        ``mentee``, ``person`` or ``group``.
    conflicts : list of str
        The same pair listed with different outcomes (Russian, rows named).
    labels : dict of str to str
        Russian name of each method.
    """

    model: PairModel
    kind: str
    models: dict[str, PairModel]
    folds: pd.DataFrame
    binary: bool
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)
    tested: int = 0
    n_pairs: int = 0
    split: str = "mentee"
    conflicts: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=lambda: dict(LABELS))

    @property
    def metric(self) -> str:
        """Name of the quality measure."""
        return "ROC-AUC" if self.binary else "корреляция Спирмена"

    @property
    def methods(self) -> list[str]:
        """Methods cross-validated, in the order they are shown."""
        return list(dict.fromkeys(self.folds["method"]))

    def summary(self) -> pd.DataFrame:
        """Per method: mean, sd and count over the folds, pooled quality with its interval."""
        grouped = self.folds.dropna(subset=["quality"]).groupby("method", sort=False)["quality"]
        table = grouped.agg(["mean", "std", "count"]).reindex(self.methods)
        table.insert(0, "label", [self.labels.get(m, m) for m in table.index])
        return table.join(self.pooled[["quality", "low", "high", "tested"]], how="left")


def learn(
    spec: Spec,
    mentors: Answers,
    mentees: Answers,
    history: History,
    kind: str = "auto",
    n_splits: int = 5,
    seed: int = 0,
    table: PairTable | None = None,
    split: str = "mentee",
    references: Sequence[Reference] = (),
    jobs: int = 1,
) -> Learned:
    """Cross-validate the hand weights, the kinds asked for and the references, then fit on all.

    Parameters
    ----------
    spec : Spec
    mentors, mentees : Answers
        The questionnaires of the people of the history.
    history : History
        With ``groups`` the folds follow them (``--group-by``); else ``split`` says how.
    kind : {"auto", "weights", "linear", "interactions", "boosting"}
        What to fit and save. ``"auto"`` cross-validates every kind and saves the simplest one that
        no more complex kind beats beyond noise; a named kind is the only one fitted.
    n_splits : int
        Folds of the cross-validation.
    seed : int
    table : PairTable, optional
        :func:`history_table` of the history, when already computed.
    split : {"mentee", "person"}
        Folds by mentee (every pair tested once) or by person (see :mod:`features.learning.folds`).
    references : sequence of Reference
        Other methods to compare on the same folds (not saved); with ``jobs`` > 1 their
        ``fit_predict`` is called from several threads at once.
    jobs : int
        Folds fitted at the same time (threads sharing the inputs: memory grows by one fold's
        fitting, not by a copy of the inputs). The scores are the same whatever ``jobs``.

    Raises
    ------
    LearnError
        Too few pairs, one outcome for all, or one group only.
    """
    if kind not in ("auto", *KINDS):
        raise ValueError(f"The 'kind' parameter of learn must be 'auto' or one of {KINDS}.")
    if split not in SPLITS:
        raise ValueError(f"The 'split' parameter of learn must be one of {SPLITS}.")
    _check_history(history)
    if table is None:
        table = history_table(spec, mentors, mentees, history)
    kinds = KINDS if kind == "auto" else (kind,)
    inputs = design(table, kinds)
    outcome, binary = history.outcome, history.binary
    test_fold, train_fold, used_split = _folds(mentors, mentees, history, n_splits, seed, split)
    methods = ["hand", *kinds, *(r.name for r in references)]
    scores = {m: np.full(len(history), np.nan) for m in methods}
    hand = WeightsModel(dict(zip(table.components, table.weights.tolist(), strict=True)))
    scores["hand"] = np.asarray(hand.score(table), dtype=float)

    def run(fold: int) -> tuple[int, np.ndarray, int, dict[str, np.ndarray]] | None:
        """Fit every method on the pairs out of ``fold`` and score the pairs in it."""
        test = np.flatnonzero(test_fold == fold)
        train = np.flatnonzero((train_fold != fold).all(axis=1))
        if len(test) == 0 or len(np.unique(outcome[train])) < 2:
            return None
        found: dict[str, np.ndarray] = {}
        for name in kinds:
            model = fit_model(name, table, outcome, binary, train, inputs, seed)
            predicted = predict(model, inputs, test)
            if predicted is None:
                predicted = model.score(_subset(table, test))
            found[name] = np.asarray(predicted, dtype=float)
        for reference in references:
            predicted = reference.fit_predict(spec, mentors, mentees, history, train, test)
            found[reference.name] = np.asarray(predicted, dtype=float)
        return int(fold), test, len(train), found

    fold_ids = [int(f) for f in np.unique(test_fold[test_fold >= 0])]
    if jobs > 1:
        for name in kinds:  # laid out once, before the threads share them
            inputs.inputs(name)
        # The heavy parts (liblinear, LightGBM, sparse products) release the GIL: folds run side
        # by side in threads sharing the inputs, each fit as in a sequential run.
        # Warning filters are global, not per thread: the ones fit_model sets around each fit
        # could be undone by another thread's, so they are set here once for all.
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=jobs) as pool:
            warnings.simplefilter("ignore", ConvergenceWarning)
            done = list(pool.map(run, fold_ids))
    else:
        done = [run(fold) for fold in fold_ids]
    rows = []
    for result in done:
        if result is None:
            continue
        fold, test, n_train, found = result
        for name, predicted in found.items():
            scores[name][test] = predicted
        for name in methods:
            quality_of_fold = quality(scores[name][test], outcome[test], binary)
            rows.append((fold, name, quality_of_fold, n_train, len(test)))
    folds = pd.DataFrame(rows, columns=["fold", "method", "quality", "train", "test"])
    if folds.empty or folds["quality"].isna().all():
        raise LearnError("ни в одной части проверки нет разных исходов: истории слишком мало")
    tested = np.flatnonzero(np.isfinite(scores[kinds[0]]))
    pooled, replicates = pooled_quality(
        {m: s[tested] for m, s in scores.items()}, outcome[tested], binary, seed
    )
    chosen = kind if kind != "auto" else _choose(pooled, replicates)
    model = fit_model(chosen, table, outcome, binary, None, inputs, seed)
    labels = dict(LABELS) | {r.name: r.label for r in references}
    return Learned(
        model,
        chosen,
        {chosen: model},
        folds,
        binary,
        pooled,
        len(tested),
        len(history),
        used_split,
        history.conflicts(mentors, mentees),
        labels,
    )


def _folds(
    mentors: Answers, mentees: Answers, history: History, n_splits: int, seed: int, split: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """The fold each pair is tested in (-1: never) and its people's folds (columns).

    A pair is trained on in fold k when none of its columns is k.
    """
    y = history.outcome if history.binary else None
    if history.groups is not None:
        fold = group_folds(history.groups, n_splits, y, seed)
        return fold, fold[:, None], "group"
    mentee_ids = [mentees.person_ids[i] for i in history.mentee]
    if split == "mentee":
        fold = group_folds(mentee_ids, n_splits, y, seed)
        return fold, fold[:, None], "mentee"
    mentor_fold, mentee_fold = person_folds(
        [mentors.person_ids[j] for j in history.mentor], mentee_ids, n_splits, y, seed
    )
    # Tested in fold k when both people are in k; trained on when neither is.
    test = np.where(mentor_fold == mentee_fold, mentor_fold, -1)
    return test, np.c_[mentor_fold, mentee_fold], "person"


def _choose(pooled: pd.DataFrame, replicates: dict[str, np.ndarray]) -> str:
    chosen = KINDS[0]
    for candidate in KINDS[1:]:
        gain = replicates[candidate] - replicates[chosen]
        if np.isfinite(gain).any() and float(np.nanquantile(gain, 0.025)) > 0:
            chosen = candidate
    return chosen


def _check_history(history: History) -> None:
    if len(history) < MIN_PAIRS:
        raise LearnError(
            f"в истории {len(history)} пар: чтобы учиться, нужно хотя бы {MIN_PAIRS} пар с исходами"
        )
    if len(np.unique(history.outcome)) < 2:
        raise LearnError("у всех пар истории один и тот же исход: учиться не на чем")


def _subset(table: PairTable, rows: np.ndarray) -> PairTable:
    return PairTable(
        table.spec,
        table.mentees,
        table.mentors,
        table.mentee[rows],
        table.mentor[rows],
        table.values[rows],
        table.components,
        table.weights,
    )
