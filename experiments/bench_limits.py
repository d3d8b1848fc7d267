"""How fast and how cheaply an XLSX "zip bomb" is refused: a workbook of a few MB whose sheet unpacks
to more than 1 GB of XML goes to :func:`features.tables.read_table` with the default limits.

    python -m experiments.bench_limits [--gigabytes 1.2]

Prints the packed and unpacked sizes, the seconds to the refusal and the growth of the process's
peak memory (ru_maxrss) while refusing it.
"""

from __future__ import annotations

import argparse
import io
import resource
import time
import zipfile

from features.tables import TableError, read_table

_SHEET = "xl/worksheets/sheet1.xml"


def bomb(unpacked: int) -> bytes:
    """A minimal workbook whose one sheet unpacks to ``unpacked`` bytes."""
    from openpyxl import Workbook

    workbook = Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    chunk = b"<row><c t='inlineStr'><is><t>x</t></is></c></row>" * 100_000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != _SHEET:
                target.writestr(info.filename, source.read(info.filename))
        with target.open(_SHEET, "w", force_zip64=True) as sheet:
            sheet.write(b"<worksheet><sheetData>")
            for _ in range(unpacked // len(chunk) + 1):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gigabytes", type=float, default=1.2)
    args = parser.parse_args()
    data = bomb(int(args.gigabytes * 2**30))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        read_table(data, "bomb.xlsx")
        outcome = "ACCEPTED (limit not applied!)"
    except TableError as error:
        outcome = f"refused: {error}"
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"packed {len(data) / 2**20:.1f} MB, unpacked {unpacked / 2**30:.2f} GB")
    print(f"{outcome}")
    print(f"time to answer {seconds:.3f} s, peak memory growth {grown:.1f} MB")


if __name__ == "__main__":
    main()
