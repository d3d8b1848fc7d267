"""Limits on what reading one questionnaire export may cost, checked before the work is done.

A 1 MB XLSX can unpack to gigabytes of XML; a CSV can hold a hundred thousand rows. Reading stops
with a Russian message (:class:`~features.tables.TableError`) as soon as a file passes a limit:
its size, the unpacked size of an XLSX (read from the archive's directory before any XML is
parsed), the number of cells and rows, and the time spent. XML is parsed by ``defusedxml``
(openpyxl uses it when installed): entity declarations are refused, never expanded.

The limits in force are set for a block of code with :func:`applied` (the service from its
settings, the command line from its options); without it, :data:`DEFAULT` applies.

Examples
--------
>>> with applied(Limits(rows=2)):
...     current().rows
2
>>> current().rows == DEFAULT.rows
True
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from features.numbers import number, size

__all__ = [
    "DEFAULT",
    "UNLIMITED",
    "Budget",
    "Limits",
    "applied",
    "check_upload",
    "check_xlsx",
    "current",
]

_MB = 2**20
# A file that is not a readable workbook (not a zip, a broken part, XML that defusedxml refuses):
# the library's own English reason would tell a curator nothing.
NOT_XLSX = "файл не читается как XLSX: он повреждён или это не книга Excel; сохраните его заново"


@dataclass(frozen=True)
class Limits:
    """How much one file may cost (bytes, unpacked bytes, cells, data rows, seconds)."""

    upload_bytes: int = 20 * _MB
    unpacked_bytes: int = 200 * _MB
    cells: int = 2_000_000
    rows: int = 20_000
    seconds: float = 60.0


DEFAULT = Limits()
UNLIMITED = Limits(2**62, 2**62, 2**62, 2**62, float("inf"))
_current: ContextVar[Limits] = ContextVar("nastavnik_limits", default=DEFAULT)


def current() -> Limits:
    """The limits in force here."""
    return _current.get()


@contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """Apply ``limits`` to the files read inside the block."""
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def _refuse(message: str) -> Exception:
    from features.tables import TableError

    return TableError(message)


def check_upload(data: bytes, limits: Limits | None = None) -> None:
    """Refuse a file larger than ``upload_bytes``."""
    limits = limits or current()
    if len(data) > limits.upload_bytes:
        raise _refuse(
            f"файл слишком большой: {size(len(data))}, а принимается не больше "
            f"{size(limits.upload_bytes)}; разделите выгрузку на части"
        )


def check_xlsx(data: bytes, limits: Limits | None = None) -> None:
    """Refuse an XLSX whose parts unpack to more than ``unpacked_bytes`` (a "zip bomb").

    The archive's directory gives each part's unpacked size; Python's ``zipfile`` never inflates a
    part beyond it, so the sum bounds the work of reading the workbook.
    """
    limits = limits or current()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(NOT_XLSX) from None
    if unpacked > limits.unpacked_bytes:
        raise _refuse(
            f"XLSX распаковывается в {size(unpacked)}, а допускается не больше "
            f"{size(limits.unpacked_bytes)}: сохраните таблицу заново или как CSV"
        )


@dataclass
class Budget:
    """Counts rows and cells as a file is read, and the time spent; stops past a limit."""

    limits: Limits = field(default_factory=current)
    started: float = field(default_factory=time.monotonic)
    rows: int = 0
    cells: int = 0

    def row(self, width: int) -> None:
        """Count one more row of ``width`` cells; raise past a limit."""
        self.rows += 1
        self.cells += width
        if self.rows > self.limits.rows + 1:  # the header is not a questionnaire
            raise _refuse(
                f"в файле больше {number(self.limits.rows)} строк: столько анкет за раз не принимается; "
                "разделите файл на части"
            )
        if self.cells > self.limits.cells:
            raise _refuse(
                f"в таблице больше {number(self.limits.cells)} ячеек: удалите лишние столбцы и строки "
                "или разделите файл"
            )
        if self.rows % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        """Raise when reading has taken longer than ``seconds``."""
        spent = time.monotonic() - self.started
        if spent > self.limits.seconds:
            raise _refuse(
                f"файл читается слишком долго (больше {number(self.limits.seconds)} с): чтение "
                "остановлено; разделите файл на части или сохраните как CSV"
            )

    def text_rows(self, text: str) -> None:
        """Refuse a CSV text with more lines than ``rows`` (+ the header) before parsing it."""
        lines = text.count("\n") + 1
        if lines > self.limits.rows + 1 and len(text.strip().splitlines()) > self.limits.rows + 1:
            raise _refuse(
                f"в файле больше {number(self.limits.rows)} строк: столько анкет за раз не принимается; "
                "разделите файл на части"
            )
