"""Reading an export stops at its limits, before the work is done, with a Russian message."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from features.limits import Limits, applied
from features.tables import TableError, read_table


def _xlsx(rows: int, width: int = 3) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([f"Вопрос {j}" for j in range(width)])
    for i in range(rows):
        sheet.append([f"ответ {i}-{j}" for j in range(width)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace(data: bytes, name: str, content: bytes | None) -> bytes:
    """The XLSX ``data`` with the part ``name`` replaced (or truncated when ``content`` is None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == name:
                part = content if content is not None else part[: len(part) // 2]
            target.writestr(info.filename, part)
    return buffer.getvalue()


def _bomb(unpacked: int) -> bytes:
    """A workbook whose sheet unpacks to ``unpacked`` bytes of XML (a few hundred KB packed)."""
    data = _xlsx(1)
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    chunk = b"<row><c t='inlineStr'><is><t>x</t></is></c></row>" * 20_000
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>"
            )
            for _ in range(unpacked // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def test_an_xlsx_that_unpacks_too_big_is_refused_before_parsing() -> None:
    bomb = _bomb(30 * 2**20)
    assert len(bomb) < 2**20
    with applied(Limits(unpacked_bytes=10 * 2**20)), pytest.raises(TableError) as refused:
        read_table(bomb)
    assert "XLSX распаковывается в 29,9 МБ, а допускается не больше 10 МБ" in str(refused.value)


def test_entity_declarations_and_broken_sheets_are_named_not_expanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'>"
        b"<sheetData><row><c t='inlineStr'><is><t>&b;</t></is></c></row></sheetData></worksheet>"
    )
    with pytest.raises(TableError, match="не читается как XLSX"):
        read_table(_replace(_xlsx(2), "xl/worksheets/sheet1.xml", laughs))
    with pytest.raises(TableError, match="не читается как XLSX"):
        read_table(_replace(_xlsx(50), "xl/worksheets/sheet1.xml", None))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_too_many_rows_or_cells_are_refused(kind: str) -> None:
    if kind == "csv":
        data = ("a;b;c\n" + "".join(f"{i};x;y\n" for i in range(101))).encode()
    else:
        data = _xlsx(101)
    with applied(Limits(rows=100)), pytest.raises(TableError, match="больше 100 строк"):
        read_table(data)
    with applied(Limits(rows=101)):
        assert len(read_table(data).rows) == 101
    if kind == "xlsx":
        with applied(Limits(cells=200)), pytest.raises(TableError, match="больше 200 ячеек"):
            read_table(data)


def test_a_file_too_large_or_too_slow_is_refused() -> None:
    data = _xlsx(600)
    with applied(Limits(upload_bytes=1000)), pytest.raises(TableError, match="слишком большой"):
        read_table(data)
    with applied(Limits(seconds=1e-9)), pytest.raises(TableError, match="слишком долго"):
        read_table(data)
