"""Validate a questionnaire export, or stored records, into :class:`features.Answers`.

A bad file is rejected whole: every problem is collected first, then :class:`ImportFailed` lists them
all with the spreadsheet row, the column header, the value found and what was expected, in Russian.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from features.answers import Answers
from features.parse import BadAnswer, QuestionParser, cell_text, is_blank
from features.spec import Question, Side, Spec, load_spec
from features.tables import Table, TableError, read_table
from features.text import normalize

__all__ = ["ImportFailed", "ImportIssue", "answers_from_records", "read_answers"]


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem of an imported file.

    Attributes
    ----------
    row : int or None
        Spreadsheet row number as the curator sees it (the header is row 1); None for the whole file.
    column : str or None
        Column header as written in the file (or the spec's header of a missing column).
    value : str or None
        The value found in the cell.
    message : str
        What is wrong and what was expected, in Russian.
    """

    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        place = []
        if self.row is not None:
            place.append(f"строка {self.row}")
        if self.column is not None:
            place.append(f"столбец «{self.column}»")
        found = f"значение «{self.value}»: " if self.value is not None else ""
        prefix = ", ".join(place)
        return f"{prefix}: {found}{self.message}" if prefix else f"{found}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The issue as JSON: ``{row, column, value, message}``."""
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class ImportFailed(ValueError):
    """A file (or a set of records) rejected whole; ``issues`` lists every problem.

    Attributes
    ----------
    issues : list of ImportIssue
        Sorted by row, then by column position.
    filename : str or None
        The file's name, for messages.
    """

    def __init__(self, issues: Sequence[ImportIssue], filename: str | None = None) -> None:
        self.issues = list(issues)
        self.filename = filename
        name = f"«{filename}» " if filename else ""
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        count = len(self.issues)
        super().__init__(f"Файл {name}не принят, ошибок: {count}.\n{lines}")


def read_answers(
    data: bytes | str | Path | pd.DataFrame,
    spec: Spec | str | Path,
    side: str = "mentors",
    filename: str | None = None,
) -> Answers:
    """Read and validate one questionnaire export.

    Parameters
    ----------
    data : bytes, str, Path or pandas.DataFrame
        The file's content or path (XLSX, or CSV in UTF-8, UTF-8 with BOM or Windows-1251 with ``,``,
        ``;`` or tab between columns, all detected), or a table whose columns are the headers.
    spec : Spec, str or Path
        The questionnaire spec, or what :func:`features.load_spec` accepts.
    side : {"mentors", "mentees"}
        Which questionnaire the file holds.
    filename : str, optional
        The file's name for messages (defaults to the path's name).

    Returns
    -------
    Answers

    Raises
    ------
    ImportFailed
        With every problem of the file; nothing is returned for a partly good file.

    Examples
    --------
    >>> data = "ФИО;Адрес электронной почты;Должность\\nИванов;ivanov@school.ru;учитель\\n".encode("cp1251")
    >>> read_answers(data, "teacher", "mentors", "mentors.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.importer.ImportFailed: Файл «mentors.csv» не принят, ошибок: 5.
      - строка 1, столбец «Преподаваемые предметы»: в файле нет обязательного столбца
    ...
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    side_spec = spec.side(side)
    if filename is None and isinstance(data, str | Path):
        filename = Path(data).name
    try:
        table = read_table(data, filename)
    except TableError as error:
        raise ImportFailed([ImportIssue(None, None, None, str(error))], filename) from None
    issues: list[ImportIssue] = []
    located = _locate_columns(table.header, side_spec, issues)
    columns = {
        question.key: _read_question(question, table, located.get(question.key, {}), issues)
        for question in side_spec.questions
    }
    if not table.rows:
        issues.append(ImportIssue(None, None, None, "в файле нет ни одной анкеты"))
    _check_ids(columns, side_spec, table.rows, _id_header(table, located, side_spec), issues)
    if issues:
        positions = {name: i for i, name in enumerate(table.header)}
        issues.sort(key=lambda i: (i.row or 0, positions.get(i.column or "", -1)))
        raise ImportFailed(issues, filename)
    return Answers(spec, side, columns, table.rows)


def answers_from_records(
    spec: Spec | str | Path, side: str, records: Iterable[Mapping[str, Any]]
) -> Answers:
    """Rebuild :class:`Answers` from stored records (``answers.records``), validating them again.

    Parameters
    ----------
    spec : Spec, str or Path
        The spec the records follow.
    side : {"mentors", "mentees"}
    records : iterable of mapping
        Answers by question key; canonical values (choice keys, ISO dates) or the form's own words.

    Returns
    -------
    Answers

    Raises
    ------
    ImportFailed
        With every problem; ``row`` is the record's position from 1 and ``column`` the question's header.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    side_spec = spec.side(side)
    records = list(records)
    questions = {q.key: q for q in side_spec.questions}
    issues: list[ImportIssue] = []
    for position, record in enumerate(records, start=1):
        for key in record:
            if key not in questions:
                issues.append(ImportIssue(position, key, None, "такого вопроса нет в анкете"))
    columns: dict[str, list[Any]] = {}
    rows = list(range(1, len(records) + 1))
    for question in side_spec.questions:
        source = question.same_column_as
        raw = [
            record.get(question.key, record.get(source) if source else None) for record in records
        ]
        columns[question.key] = _parse_cells(question, raw, rows, question.header, issues)
    _check_ids(columns, side_spec, rows, side_spec.question(side_spec.fields.id).header, issues)
    if issues:
        raise ImportFailed(sorted(issues, key=lambda i: i.row or 0))
    return Answers(spec, side, columns, rows)


def _header_lookup(side: Side) -> dict[str, list[tuple[str, str | None]]]:
    """Normalised header -> every (question, item) reading that column (``same_column_as`` shares one)."""
    lookup: dict[str, list[tuple[str, str | None]]] = {}
    for question in side.questions:
        for item, header in question.headers():
            lookup.setdefault(normalize(header), []).append((question.key, item))
    return lookup


def _locate_columns(
    header: list[str], side: Side, issues: list[ImportIssue]
) -> dict[str, dict[str | None, int]]:
    """Column position of each question (of each item of a Likert grid)."""
    lookup = _header_lookup(side)
    located: dict[str, dict[str | None, int]] = {}
    for position, name in enumerate(header):
        for rank, (key, item) in enumerate(lookup.get(normalize(name), [])):
            taken = located.setdefault(key, {})
            if item in taken:
                if rank == 0:
                    first = get_column_letter(taken[item] + 1)
                    issues.append(
                        ImportIssue(
                            1,
                            name,
                            None,
                            f"столбец повторяется: тот же вопрос уже в столбце {first} "
                            f"(«{header[taken[item]]}»); оставьте один",
                        )
                    )
                continue
            taken[item] = position
    for question in side.questions:
        shared = question.same_column_as
        if not question.required or (shared and side.question(shared).required):
            continue
        wanted = [item.key for item in question.items] if question.is_grid else [None]
        for item in wanted:
            if item not in located.get(question.key, {}):
                title = question.header
                if item is not None:
                    title = question.item_header.format(
                        header=title, item=question.choice(item).label
                    )
                issues.append(ImportIssue(1, title, None, "в файле нет обязательного столбца"))
    return located


def _read_question(
    question: Question, table: Table, located: dict[str | None, int], issues: list[ImportIssue]
) -> list[Any]:
    size = len(table.rows)
    if not question.is_grid:
        if None not in located:
            return [None] * size
        position = located[None]
        raw = table.cells[position].tolist()
        return _parse_cells(question, raw, table.rows, table.header[position], issues)
    grid: list[dict[str, float]] = [{} for _ in range(size)]
    level_parser = QuestionParser(question.model_copy(update={"items": ()}))
    for item, position in located.items():
        raw = table.cells[position].tolist()
        header = table.header[position]
        levels = _parse_cells(question, raw, table.rows, header, issues, level_parser)
        for answer, level in zip(grid, levels, strict=True):
            if level is not None and item is not None:
                answer[item] = level
    return [answer or None for answer in grid]


def _parse_cells(
    question: Question,
    raw: list[Any],
    rows: Sequence[int],
    header: str,
    issues: list[ImportIssue],
    parser: QuestionParser | None = None,
) -> list[Any]:
    """Parse one column; each distinct value once, since most columns repeat a few answers."""
    parser = parser or QuestionParser(question)
    parsed: dict[Any, Any] = {}
    values: list[Any] = []
    for row, cell in zip(rows, raw, strict=True):
        if is_blank(cell):
            if question.required:
                issues.append(ImportIssue(row, header, None, "нет ответа на обязательный вопрос"))
            values.append(None)
            continue
        cacheable = isinstance(cell, str | int | float)
        result = parsed.get(cell) if cacheable else None
        if result is None:
            try:
                result = parser.parse(cell)
            except BadAnswer as error:
                result = error
            if cacheable:
                parsed[cell] = result
        if isinstance(result, BadAnswer):
            issues.append(ImportIssue(row, header, cell_text(cell), str(result)))
            values.append(None)
        else:
            values.append(result)
    return values


def _id_header(table: Table, located: dict[str, dict[str | None, int]], side: Side) -> str:
    position = located.get(side.fields.id, {}).get(None)
    return table.header[position] if position is not None else side.question(side.fields.id).header


def person_id(value: str) -> str:
    """Canonical identifier: e-mails are compared in lower case."""
    value = value.strip()
    return value.casefold() if "@" in value else value


def _check_ids(
    columns: dict[str, list[Any]],
    side: Side,
    rows: Sequence[int],
    header: str,
    issues: list[ImportIssue],
) -> None:
    ids = columns[side.fields.id]
    first_row: dict[str, int] = {}
    for index, (row, value) in enumerate(zip(rows, ids, strict=True)):
        if value is None:
            continue
        canonical = person_id(str(value))
        ids[index] = canonical
        if canonical in first_row:
            issues.append(
                ImportIssue(
                    row,
                    header,
                    str(value),
                    f"этот человек уже есть в строке {first_row[canonical]}: "
                    "код или e-mail должен встречаться в файле один раз",
                )
            )
        else:
            first_row[canonical] = row
