"""Commands of this part for the `nastavnik` command line (see service/cli.py): ``nastavnik evaluate``.

``nastavnik learn`` is a user command of the product: it lives in ``features/cli.py``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

EXIT_BAD_INPUT = 1


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root application."""
    app.command("evaluate")(evaluate)


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _spec(name: str) -> Any:
    from features import SpecError, load_spec

    try:
        return load_spec(name)
    except SpecError as error:
        _fail(str(error).splitlines())


def _import_lines(error: Any) -> list[str]:
    return [str(error).splitlines()[0]] + [f"  {issue}" for issue in error.issues]


def evaluate(
    out: Annotated[Path, typer.Option(help="Папка для отчёта report.md, графиков и таблиц.")],
    cohort: Annotated[
        str,
        typer.Option(
            help="school, city или groups (синтетические, со скрытой истинной совместимостью; "
            "groups — город учеников с группами и наставляемыми, которым нужны двое наставников) "
            "или папка с mentors.csv|xlsx и mentees.csv|xlsx."
        ),
    ] = "school",
    seed: Annotated[int, typer.Option(help="Зерно случайности: тот же seed — тот же отчёт.")] = 0,
    spec: Annotated[
        str | None,
        typer.Option(help="Анкеты: teacher или pupil (для папки — также путь к YAML/JSON)."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Для папки: модель из nastavnik learn для сравнения.")
    ] = None,
    mentees: Annotated[
        int | None, typer.Option(help="Для city и groups: число наставляемых.")
    ] = None,
    mentors: Annotated[
        int | None, typer.Option(help="Для city и groups: число наставников.")
    ] = None,
) -> None:
    """Оценить подбор пар: базовые методы и решатель на одной когорте; отчёт с графиками."""
    from experiments.evaluate import evaluate as run
    from experiments.evaluate import synthetic
    from experiments.report import write_report

    if cohort in ("school", "city", "groups"):
        if spec not in (None, "teacher", "pupil"):
            _fail([f"для синтетической когорты анкеты teacher или pupil, а не «{spec}»"])
        programme = synthetic(cohort, seed, spec, mentees, mentors)
    else:
        programme = _programme(Path(cohort), spec or "teacher", model)
    result = run(programme, seed)
    command = "nastavnik " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = write_report(result, out, command if sys.argv[1:2] == ["evaluate"] else None)
    _print_headline(result)
    typer.echo(f"Отчёт: {path}")


def _programme(directory: Path, spec_name: str, model_path: Path | None) -> Any:
    from experiments.evaluate import from_files
    from features import ImportFailed
    from features.model import ModelError, load_model

    if not directory.is_dir():
        _fail([f"когорта: ожидалось school, city или папка с анкетами, а «{directory}» не папка"])
    spec = _spec(spec_name)
    try:
        model = load_model(model_path) if model_path else None
    except ModelError as error:
        _fail([f"Модель не принята: {error}"])
    try:
        return from_files(directory, spec, model)
    except FileNotFoundError as error:
        _fail([str(error)])
    except ImportFailed as error:
        _fail([*_import_lines(error), "Исправьте файлы и запустите снова."])


def _print_headline(result: Any) -> None:
    from experiments.evaluate import METHODS

    table = result.table
    typer.echo(f"{'Метод':<40} {'охват':>7} {'оценка':>7} {'истина':>7} {'блок.':>9}")
    for method, row in table.iterrows():
        truth = "—" if row["truth_mean"] is None else f"{row['truth_mean']:.3f}"
        score = "—" if row["mean_score"] is None else f"{row['mean_score']:.3f}"
        typer.echo(
            f"{METHODS[method]:<40} {row['coverage']:>7.1%} {score:>7} {truth:>7} "
            f"{int(row['blocking_pairs']):>9}"
        )
