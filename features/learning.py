"""Learning pair success from past pairs with outcomes, validated so that no person leaks.

The input is any programme's history: the questionnaires of both sides (validated by ``features``)
and a table of past pairs with the columns ``mentor_id``, ``mentee_id`` (the values of the spec's
identifying question) and ``outcome`` (a number such as a satisfaction score, or 1/0 for finished or
not). :func:`learn` cross-validates, grouped by person, three scorings of the pairs side by side:

- ``hand``: the spec's hand weights (nothing is fitted; the baseline);
- ``weights``: a logistic regression on the component values, saved as JSON weights
  (:class:`features.WeightsModel`);
- ``linear``: a logistic regression on the component values and both sides' encoded answers, saved
  as JSON (:class:`features.model.LinearPairModel`; the mentee's own terms are fitted but not
  used for scoring, see there).

0/1 outcomes are scored by ROC-AUC, numbers by Spearman's rank correlation. A numeric outcome is
scaled to [0, 1] and fitted as a fractional logistic regression (each pair counts as a success with
weight ``y`` and a failure with weight ``1 - y``), so both kinds of outcome give a score in (0, 1).

Grouping
--------
A pair has two people, and a mentor (or a mentee with a replaced mentor) has several pairs, so
splitting pairs at random would put the same person in training and in test and overstate the
quality. :func:`person_folds` gives every *person* one fold: the connected components of the graph
of people joined by past pairs are kept whole when they are small; a large component is cut into
units of one mentor with the mentees whose most frequent mentor they are. Units are dealt to folds
by scikit-learn's ``StratifiedGroupKFold`` (0/1 outcomes) or ``GroupKFold``. A pair is tested in
fold k when both its people are in fold k, and trained on in fold k when neither is; pairs whose
people fall in different folds are never tested (none are lost when the components are small).
A person is one identifier, whichever side they were on.

The encoders of the answers (bounds and fill values of numeric answers) are fitted on all the
questionnaires, outcomes unseen: answers are known for next term's people too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from features.answers import Answers
from features.components import make_scorer
from features.importer import ImportFailed, ImportIssue, person_id
from features.model import LinearPairModel, WeightsModel, encode_answers, save_model
from features.scoring import PairModel, PairTable
from features.spec import Spec
from features.tables import TableError, read_table
from features.text import normalize

__all__ = [
    "COLUMNS",
    "KINDS",
    "History",
    "LearnError",
    "Learned",
    "PersonGroupKFold",
    "fit_model",
    "history_table",
    "learn",
    "person_folds",
    "read_history",
    "save",
]

#: Columns of a history table.
COLUMNS = ("mentor_id", "mentee_id", "outcome")
#: What can be learned (and saved), and the hand-weights baseline.
KINDS = ("weights", "linear")
LABELS = {
    "hand": "веса анкеты",
    "weights": "обученные веса составляющих",
    "linear": "составляющие и ответы наставника",
}
_YES_NO = {"да": 1.0, "нет": 0.0, "true": 1.0, "false": 0.0}
#: Fewest past pairs worth learning from.
MIN_PAIRS = 20
_C = {"weights": 1.0, "linear": 1.0}


class LearnError(ValueError):
    """History that cannot be learned from (the message is Russian: a curator may run the command)."""


@dataclass(frozen=True)
class History:
    """Past pairs with outcomes, as positions in the two sides' answers.

    Attributes
    ----------
    mentee, mentor : numpy.ndarray of int
        Positions of the people of each past pair.
    outcome : numpy.ndarray of float
        The outcome of each pair.
    rows : list of int
        Spreadsheet row of each pair (header = row 1).
    """

    mentee: npt.NDArray[np.int64]
    mentor: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.float64]
    rows: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.outcome)

    @property
    def binary(self) -> bool:
        """Whether the outcome is 0/1 (finished or not) rather than a score."""
        return bool(np.isin(self.outcome, (0.0, 1.0)).all())


def read_history(
    data: bytes | str | Path | pd.DataFrame,
    mentors: Answers,
    mentees: Answers,
    filename: str | None = None,
) -> History:
    """Read a table of past pairs (XLSX or CSV) and find its people in the questionnaires.

    Raises
    ------
    features.ImportFailed
        With every problem at once, in Russian: a missing column, an unknown person, an outcome
        that is not a number (row and column named).
    """
    try:
        table = read_table(data, filename)
    except TableError as error:
        raise ImportFailed([ImportIssue(None, None, None, str(error))], filename) from None
    position = {normalize(h): k for k, h in enumerate(table.header)}
    missing = [c for c in COLUMNS if normalize(c) not in position]
    if missing:
        absent = [ImportIssue(None, c, None, _missing_column(c)) for c in missing]
        raise ImportFailed(absent, filename)
    columns = {c: table.cells[position[normalize(c)]].tolist() for c in COLUMNS}
    headers = {c: table.header[position[normalize(c)]] for c in COLUMNS}
    issues: list[ImportIssue] = []
    found: dict[str, list[int]] = {"mentor_id": [], "mentee_id": []}
    outcome: list[float] = []
    for k, row in enumerate(table.rows):
        for column, side in (("mentor_id", mentors), ("mentee_id", mentees)):
            found[column].append(_person(columns[column][k], side, row, headers[column], issues))
        outcome.append(_outcome(columns["outcome"][k], row, headers["outcome"], issues))
    if issues:
        raise ImportFailed(issues, filename)
    return History(
        np.array(found["mentee_id"], dtype=np.int64),
        np.array(found["mentor_id"], dtype=np.int64),
        np.array(outcome, dtype=float),
        list(table.rows),
    )


def _missing_column(column: str) -> str:
    what = {
        "mentor_id": "код или e-mail наставника",
        "mentee_id": "код или e-mail наставляемого",
        "outcome": "исход пары: число (оценка удовлетворённости) или 1/0 (завершили или нет)",
    }
    return f"нет столбца «{column}» ({what[column]})"


def _person(value: Any, side: Answers, row: int, column: str, issues: list[ImportIssue]) -> int:
    text = "" if value is None else str(value).strip()
    who, file = (
        ("наставника", "наставников")
        if side.side == "mentors"
        else ("наставляемого", "наставляемых")
    )
    if not text:
        issues.append(ImportIssue(row, column, None, f"не указан код или e-mail {who}"))
        return -1
    try:
        return side.index(person_id(text))
    except KeyError:
        issues.append(ImportIssue(row, column, text, f"такого {who} нет в анкетах {file}"))
        return -1


def _outcome(value: Any, row: int, column: str, issues: list[ImportIssue]) -> float:
    text = "" if value is None else str(value).strip()
    if not text:
        issues.append(ImportIssue(row, column, None, "не указан исход пары"))
        return math.nan
    if text.casefold() in _YES_NO:
        return _YES_NO[text.casefold()]
    try:
        number = float(re.sub(r"\s", "", text).replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        issues.append(
            ImportIssue(
                row,
                column,
                text,
                "ожидалось число: оценка удовлетворённости (например 8) или 1/0 (завершили или нет)",
            )
        )
    return number


def history_table(spec: Spec, mentors: Answers, mentees: Answers, history: History) -> PairTable:
    """Component values of the past pairs, as a model receives them.

    Past pairs are scored whatever today's hard rules say of them (a mentor may have no places left
    now): the components compare the two people's answers only.
    """
    values = np.empty((len(history), len(spec.components)), dtype=np.float32)
    for k, component in enumerate(spec.components):
        scorer = make_scorer(component, mentees, mentors)
        values[:, k] = scorer.values(history.mentee, history.mentor)
    weights = np.array([c.weight for c in spec.components], dtype=float)
    components = tuple(c.key for c in spec.components)
    return PairTable(
        spec, mentees, mentors, history.mentee, history.mentor, values, components, weights
    )


# ----------------------------------------------------------------------------- grouping


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


# ----------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class _Design:
    """Model inputs of every past pair: components, then the mentor's and the mentee's answers."""

    matrix: np.ndarray
    n_components: int
    mentor_names: list[str]
    mentee_names: list[str]
    scales: dict[str, list[float]]


def _design(table: PairTable) -> _Design:
    spec = table.spec
    mentor_x, mentor_names, scales = encode_answers(spec, table.mentors, "mentors")
    mentee_x, mentee_names, _ = encode_answers(spec, table.mentees, "mentees")
    matrix = np.hstack([table.values, mentor_x[table.mentor], mentee_x[table.mentee]])
    return _Design(matrix.astype(float), len(table.components), mentor_names, mentee_names, scales)


def _target(outcome: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, 0/1 labels and weights of a (fractional) logistic regression."""
    rows = np.arange(len(outcome))
    if binary:
        return rows, outcome.astype(int), np.ones(len(outcome))
    low, high = float(outcome.min()), float(outcome.max())
    share = (outcome - low) / (high - low) if high > low else np.full(len(outcome), 0.5)
    labels = np.r_[np.ones(len(outcome), dtype=int), np.zeros(len(outcome), dtype=int)]
    return np.r_[rows, rows], labels, np.r_[share, 1.0 - share]


def fit_model(
    kind: str,
    table: PairTable,
    outcome: np.ndarray,
    binary: bool,
    rows: np.ndarray | None = None,
    design: _Design | None = None,
) -> PairModel:
    """Fit one kind of model on the past pairs ``rows`` (all by default).

    Parameters
    ----------
    kind : {"weights", "linear"}
    table : PairTable
        The past pairs (:func:`history_table`).
    outcome : numpy.ndarray
    binary : bool
        0/1 outcomes (logistic regression) or numbers (fractional logistic regression).
    rows : numpy.ndarray of int, optional
        The pairs to fit on.
    design : optional
        The model inputs of ``table`` when already computed.

    Returns
    -------
    WeightsModel or LinearPairModel
        What ``features.score_pairs(..., model=...)`` uses.
    """
    from sklearn.linear_model import LogisticRegression

    if kind not in KINDS:
        raise ValueError(f"The 'kind' parameter of fit_model must be one of {KINDS}. Got {kind!r}.")
    rows = np.arange(len(outcome)) if rows is None else rows
    design = design or _design(table)
    columns = design.n_components if kind == "weights" else design.matrix.shape[1]
    at, labels, weight = _target(outcome[rows], binary)
    inputs = design.matrix[rows][at, :columns]
    regression = LogisticRegression(C=_C[kind], solver="newton-cholesky", max_iter=200)
    regression.fit(inputs, labels, sample_weight=weight)
    coef = regression.coef_.ravel()
    intercept = float(regression.intercept_[0])
    spec_name = table.spec.name
    components = dict(zip(table.components, coef[: design.n_components].tolist(), strict=True))
    if kind == "weights":
        return WeightsModel(components, intercept, link="logistic", spec=spec_name)
    n_mentor = len(design.mentor_names)
    mentor_w = coef[design.n_components : design.n_components + n_mentor]
    mentee_w = coef[design.n_components + n_mentor :]
    # The mentee's own terms are replaced by their average: see features.model.
    mentee_terms = design.matrix[rows, design.n_components + n_mentor :] @ mentee_w
    return LinearPairModel(
        components,
        dict(zip(design.mentor_names, mentor_w.tolist(), strict=True)),
        intercept + float(mentee_terms.mean()),
        design.scales,
        spec_name,
    )


def _quality(score: np.ndarray, outcome: np.ndarray, binary: bool) -> float:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    if len(np.unique(outcome)) < 2:
        return math.nan
    if binary:
        return float(roc_auc_score(outcome, score))
    return float(spearmanr(score, outcome).statistic)


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


@dataclass
class Learned:
    """What :func:`learn` found.

    Attributes
    ----------
    model : PairModel
        The model chosen to be saved, fitted on the whole history.
    kind : str
        Its kind (``"weights"`` or ``"linear"``).
    models : dict of str to PairModel
        Every kind, fitted on the whole history.
    folds : pandas.DataFrame
        Columns ``fold``, ``method`` (``hand`` and the kinds), ``quality``, ``train``, ``test``.
    binary : bool
        0/1 outcomes (quality = ROC-AUC) or numbers (quality = Spearman's rank correlation).
    """

    model: PairModel
    kind: str
    models: dict[str, PairModel]
    folds: pd.DataFrame
    binary: bool

    @property
    def metric(self) -> str:
        """Name of the quality measure."""
        return "ROC-AUC" if self.binary else "корреляция Спирмена"

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of the quality over the folds, one row per method."""
        grouped = self.folds.dropna(subset=["quality"]).groupby("method", sort=False)["quality"]
        table = grouped.agg(["mean", "std", "count"]).reindex(["hand", *KINDS])
        table.insert(0, "label", [LABELS[m] for m in table.index])
        return table


def learn(
    spec: Spec,
    mentors: Answers,
    mentees: Answers,
    history: History,
    kind: str = "auto",
    n_splits: int = 5,
    seed: int = 0,
    table: PairTable | None = None,
) -> Learned:
    """Cross-validate the hand weights and every kind of model by person, then fit on everything.

    Parameters
    ----------
    spec : Spec
    mentors, mentees : Answers
        The questionnaires of the people of the history.
    history : History
    kind : {"auto", "weights", "linear"}
        What to save; ``"auto"`` takes the kind with the best mean quality (the simpler on a tie).
    n_splits : int
        Folds of the cross-validation.
    seed : int
    table : PairTable, optional
        :func:`history_table` of the history, when already computed (several outcomes of the same
        pairs).

    Raises
    ------
    LearnError
        Too few pairs, one outcome for all, or people so linked that no fold can be held out.
    """
    if kind not in ("auto", *KINDS):
        raise ValueError(f"The 'kind' parameter of learn must be 'auto' or one of {KINDS}.")
    _check_history(history)
    if table is None:
        table = history_table(spec, mentors, mentees, history)
    design = _design(table)
    outcome, binary = history.outcome, history.binary
    mentor_fold, mentee_fold = person_folds(
        [mentors.person_ids[j] for j in history.mentor],
        [mentees.person_ids[i] for i in history.mentee],
        n_splits,
        outcome if binary else None,
        seed,
    )
    rows = []
    hand = WeightsModel(dict(zip(table.components, table.weights.tolist(), strict=True)))
    for fold in np.unique(mentor_fold):
        test = np.flatnonzero((mentor_fold == fold) & (mentee_fold == fold))
        train = np.flatnonzero((mentor_fold != fold) & (mentee_fold != fold))
        if len(test) == 0 or len(np.unique(outcome[train])) < 2:
            continue
        models: dict[str, PairModel] = {"hand": hand}
        for name in KINDS:
            models[name] = fit_model(name, table, outcome, binary, train, design)
        for name, model in models.items():
            score = np.asarray(model.score(_subset(table, test)), dtype=float)
            quality = _quality(score, outcome[test], binary)
            rows.append((int(fold), name, quality, len(train), len(test)))
    folds = pd.DataFrame(rows, columns=["fold", "method", "quality", "train", "test"])
    if folds["quality"].isna().all():
        raise LearnError("ни в одной части проверки нет разных исходов: истории слишком мало")
    fitted = {name: fit_model(name, table, outcome, binary, None, design) for name in KINDS}
    chosen = kind if kind != "auto" else _best(folds)
    return Learned(fitted[chosen], chosen, fitted, folds, binary)


def _check_history(history: History) -> None:
    if len(history) < MIN_PAIRS:
        raise LearnError(
            f"в истории {len(history)} пар: чтобы учиться, нужно хотя бы {MIN_PAIRS} пар с исходами"
        )
    if len(np.unique(history.outcome)) < 2:
        raise LearnError("у всех пар истории один и тот же исход: учиться не на чем")


def _best(folds: pd.DataFrame) -> str:
    means = folds[folds["method"].isin(KINDS)].groupby("method")["quality"].mean()
    best = max(KINDS, key=lambda k: (round(float(means.get(k, -math.inf)), 3), -KINDS.index(k)))
    return best


def save(model: PairModel, path: str | Path) -> Path:
    """Write a learned model as JSON, for :func:`features.model.load_model`."""
    return save_model(model, path)
