"""Read a questionnaire export: XLSX, or CSV in UTF-8 / UTF-8 BOM / Windows-1251 / UTF-16 (Excel's
"Unicode text"), separated by `,` `;` or tab.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features import limits as _limits

__all__ = ["Table", "TableError", "read_table"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ENCODINGS = ("utf-8-sig", "cp1251")
_DELIMITERS = ",;\t"


class TableError(ValueError):
    """The file cannot be read as a table at all (the message is Russian)."""


@dataclass(frozen=True)
class Table:
    """Cells of an export as read, with the spreadsheet row number of each data row.

    Attributes
    ----------
    header : list of str
        Column headers as written in the file.
    cells : pandas.DataFrame
        Data rows, one column per header position (integer column labels), object dtype.
    rows : list of int
        Spreadsheet row number of each data row (the header is row 1).
    encoding, delimiter : str or None
        What was detected for a CSV file.
    """

    header: list[str]
    cells: pd.DataFrame
    rows: list[int]
    encoding: str | None = None
    delimiter: str | None = None


def read_table(data: bytes | str | Path | pd.DataFrame, filename: str | None = None) -> Table:
    """Read an export into a :class:`Table`; XLSX is recognised by content, anything else is CSV
    (but a file named ``.xlsx`` that is not a workbook is refused as one).

    Parameters
    ----------
    data : bytes, path or pandas.DataFrame
        The file's content, its path, or a table already in memory (its columns are the headers).
    filename : str, optional
        Used in messages, and to refuse a file named ``.xlsx`` that is not a workbook.

    Raises
    ------
    TableError
        The file is empty, an old XLS, a broken XLSX, or text in an unknown encoding.
    """
    if isinstance(data, pd.DataFrame):
        return _from_frame(data)
    if isinstance(data, str | Path):
        try:
            data = Path(data).read_bytes()
        except OSError as error:
            raise TableError(f"не удалось открыть файл: {error.strerror}") from None
    _limits.check_upload(data)
    if not data.strip():
        raise TableError("файл пустой")
    if data.startswith(_OLE_MAGIC):
        raise TableError("старый формат XLS не поддерживается: сохраните файл как XLSX или CSV")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        # Named a workbook but not one (a broken download, a renamed file): reading it as CSV
        # would only list every column as missing.
        raise TableError(_limits.NOT_XLSX)
    return _read_csv(data)


def _from_frame(frame: pd.DataFrame) -> Table:
    cells = frame.astype(object).where(frame.notna(), None)
    cells.columns = pd.RangeIndex(len(frame.columns))
    cells = cells.reset_index(drop=True)
    return _drop_blank(
        Table([str(c) for c in frame.columns], cells, list(range(2, len(frame) + 2)))
    )


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    _limits.check_xlsx(data)
    budget = _limits.Budget()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            values: list[tuple[Any, ...]] = []
            for row in sheet.iter_rows(values_only=True):
                budget.row(len(row))
                values.append(row)
        finally:
            workbook.close()
    except TableError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, SyntaxError):
        # ValueError includes defusedxml's refusals (entity declarations) and broken XML.
        raise TableError(_limits.NOT_XLSX) from None
    while values and all(_blank(v) for v in values[-1]):
        values.pop()
    if not values:
        raise TableError("на первом листе нет данных")
    header_at = next(i for i, row in enumerate(values) if not all(_blank(v) for v in row))
    header = ["" if v is None else str(v).strip() for v in values[header_at]]
    width = len(header)
    body = [tuple(row[:width]) + (None,) * (width - len(row)) for row in values[header_at + 1 :]]
    cells = pd.DataFrame(body, columns=pd.RangeIndex(width), dtype=object)
    rows = list(range(header_at + 2, header_at + 2 + len(body)))
    return _drop_blank(Table(header, cells, rows))


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte order mark, tab-separated.
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise TableError("файл начинается как UTF-16, но дальше не читается") from None
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding
        except UnicodeDecodeError:
            continue
    raise TableError("не удалось определить кодировку: сохраните файл в UTF-8 или Windows-1251")


def _delimiter(text: str) -> str:
    """The separator that splits the header into the most columns and every row alike.

    ``csv.Sniffer`` alone guesses ``,`` for a ``;``-separated file of one data row whose cells
    contain commas (a common form-service export), so each candidate is tried: the one whose
    rows all have as many fields as the header wins, then the one with the most columns.
    """
    sample = text[:65536]
    if len(text) > len(sample):
        sample = sample[: sample.rfind("\n") + 1] or sample  # drop the cut last line
    best, best_key = ",", (-1.0, 0)
    for candidate in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=candidate) if any(r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        alike = sum(len(r) == width for r in rows) / len(rows)
        if (alike, width) > best_key:
            best, best_key = candidate, (alike, width)
    return best


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    if not text.strip():
        raise TableError("файл пустой")
    _limits.Budget().text_rows(text)
    delimiter = _delimiter(text)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise TableError("файл пустой") from None
    except (pd.errors.ParserError, csv.Error) as error:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if ragged:
            expected, line, found = ragged.groups()
            raise TableError(
                f"в строке {line} столбцов {found}, а в заголовке {expected}: "
                "проверьте разделители и кавычки"
            ) from None
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(error))
        if unclosed:  # pandas counts rows from 0, the file's lines from 1
            line = int(unclosed.group(1)) + 1
            raise TableError(
                f"в строке {line} кавычка открыта и не закрыта до конца файла: проверьте кавычки"
            ) from None
        raise TableError(
            "файл не читается как таблица CSV: проверьте разделители и кавычки"
        ) from None
    if raw.empty:
        raise TableError("файл пустой")
    header = [str(v).strip() for v in raw.iloc[0]]
    cells = raw.iloc[1:].reset_index(drop=True).astype(object)
    cells.columns = pd.RangeIndex(len(header))
    rows = list(range(2, len(cells) + 2))
    return _drop_blank(Table(header, cells, rows, encoding, delimiter))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _drop_blank(table: Table) -> Table:
    """Drop empty rows and unnamed empty columns: spreadsheets keep them after deleted answers."""
    cells = table.cells
    filled = ~cells.map(_blank)
    keep_rows = filled.any(axis=1).to_numpy()
    keep_columns = [i for i, name in enumerate(table.header) if name or filled[i].any()]
    cells = cells.loc[keep_rows, keep_columns].reset_index(drop=True)
    cells.columns = pd.RangeIndex(len(keep_columns))
    rows = [r for r, keep in zip(table.rows, keep_rows, strict=True) if keep]
    header = [table.header[i] for i in keep_columns]
    return Table(header, cells, rows, table.encoding, table.delimiter)
