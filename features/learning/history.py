"""The history of past pairs: the file, its people, conflicting outcomes, and component values."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.answers import Answers
from features.components import make_scorer
from features.importer import ImportFailed, ImportIssue, person_id
from features.scoring import PairTable
from features.spec import Spec
from features.tables import TableError, read_table
from features.text import normalize

__all__ = ["COLUMNS", "MIN_PAIRS", "History", "LearnError", "history_table", "read_history"]

#: Columns of a history table.
COLUMNS = ("mentor_id", "mentee_id", "outcome")
_YES_NO = {"да": 1.0, "нет": 0.0, "true": 1.0, "false": 0.0}
#: Fewest past pairs worth learning from.
MIN_PAIRS = 20


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
    groups : list of str, optional
        The value of the ``--group-by`` column of each pair (a term, an event, a school): the
        folds of the cross-validation then follow it.
    """

    mentee: npt.NDArray[np.int64]
    mentor: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.float64]
    rows: list[int] = field(default_factory=list)
    groups: list[str] | None = None

    def __len__(self) -> int:
        return len(self.outcome)

    @property
    def binary(self) -> bool:
        """Whether the outcome is 0/1 (finished or not) rather than a score."""
        return bool(np.isin(self.outcome, (0.0, 1.0)).all())

    def conflicts(self, mentors: Answers, mentees: Answers) -> list[str]:
        """The same pair listed more than once with different outcomes, in Russian, rows named.

        For example ``пара «a@school.example» — «b@school.example»: разные исходы в строках
        2 (1), 5 (0)``."""
        frame = pd.DataFrame({"mentor": self.mentor, "mentee": self.mentee, "y": self.outcome})
        frame["row"] = self.rows if len(self.rows) == len(frame) else np.arange(len(frame)) + 2
        # Only pairs listed twice or more can conflict: one vectorised pass finds them.
        outcomes = frame.groupby(["mentor", "mentee"], sort=False)["y"].transform("nunique")
        frame = frame[outcomes.to_numpy() > 1]
        found = []
        for key, group in frame.groupby(["mentor", "mentee"], sort=True):
            mentor, mentee = (int(k) for k in np.asarray(key).ravel())
            cells = ", ".join(
                f"{row} ({y:g})" for row, y in zip(group["row"], group["y"], strict=True)
            )
            found.append(
                f"пара «{mentors.person_ids[mentor]}» — «{mentees.person_ids[mentee]}»: "
                f"разные исходы в строках {cells}"
            )
        return found


def read_history(
    data: bytes | str | Path | pd.DataFrame,
    mentors: Answers,
    mentees: Answers,
    filename: str | None = None,
    group_by: str | None = None,
) -> History:
    """Read a table of past pairs (XLSX or CSV) and find its people in the questionnaires.

    ``group_by`` names one more column (a term, an event, a school) whose values the folds of the
    cross-validation follow.

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
    wanted = (*COLUMNS, group_by) if group_by else COLUMNS
    missing = [c for c in wanted if normalize(c) not in position]
    if missing:
        absent = [ImportIssue(None, c, None, _missing_column(c)) for c in missing]
        raise ImportFailed(absent, filename)
    columns = {c: table.cells[position[normalize(c)]].tolist() for c in wanted}
    headers = {c: table.header[position[normalize(c)]] for c in wanted}
    issues: list[ImportIssue] = []
    found: dict[str, list[int]] = {"mentor_id": [], "mentee_id": []}
    outcome: list[float] = []
    for k, row in enumerate(table.rows):
        for column, side in (("mentor_id", mentors), ("mentee_id", mentees)):
            found[column].append(_person(columns[column][k], side, row, headers[column], issues))
        outcome.append(_outcome(columns["outcome"][k], row, headers["outcome"], issues))
        if group_by:
            value = columns[group_by][k]
            if value is None or not str(value).strip():
                issues.append(
                    ImportIssue(row, headers[group_by], None, "не указана группа (--group-by)")
                )
    if issues:
        raise ImportFailed(issues, filename)
    return History(
        np.array(found["mentee_id"], dtype=np.int64),
        np.array(found["mentor_id"], dtype=np.int64),
        np.array(outcome, dtype=float),
        list(table.rows),
        [str(v).strip() for v in columns[group_by]] if group_by else None,
    )


def _missing_column(column: str) -> str:
    what = {
        "mentor_id": "код или e-mail наставника",
        "mentee_id": "код или e-mail наставляемого",
        "outcome": "исход пары: число (оценка удовлетворённости) или 1/0 (завершили или нет)",
    }
    return f"нет столбца «{column}» ({what.get(column, 'указан в --group-by')})"


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
