"""The sample exports under ``examples/``: ``python -m experiments.cohorts examples``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from experiments.cohorts.make import make_school

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write_examples(root: str | Path = EXAMPLES) -> list[Path]:
    """Write the sample exports.

    ``teachers/``: one school's teacher questionnaires, UTF-8 CSV with commas as Google Forms exports
    them; ``pupils/``: one school's pupil questionnaires, Windows-1251 CSV with semicolons as Excel
    saves them in a Russian locale.
    """
    root = Path(root)
    written = list(make_school(seed=2024, spec="teacher", teachers=90).write(root / "teachers"))
    pupils = make_school(seed=2024, spec="pupil", pupils=450)
    written += pupils.write(root / "pupils", encoding="cp1251", delimiter=";")
    return written


def main(argv: Sequence[str] = ()) -> None:
    """``python -m experiments.cohorts examples [DIR]`` rewrites the sample files."""
    args = list(argv)
    if not args or args[0] != "examples":
        raise SystemExit("usage: python -m experiments.cohorts examples [DIR]")
    for path in write_examples(args[1] if len(args) > 1 else EXAMPLES):
        print(path)
