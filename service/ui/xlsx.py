"""A table as an XLSX workbook (openpyxl): a bold frozen header, an autofilter, column widths.

A cell is never a formula: text that a spreadsheet would read as one (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is stored as text, so a name typed into a questionnaire
as ``=HYPERLINK(...)`` stays a name.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["FORMULA_START", "workbook"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return the bytes of an XLSX file with one sheet ``title``: ``headers`` then ``rows``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in headers]
    for row in rows:
        sheet.append([None] * len(headers))
        r = sheet.max_row
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts like a formula
                widths[c - 1] = max(widths[c - 1], min(len(value), 60))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width + 2
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
