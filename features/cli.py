"""Commands of this part for the `nastavnik` command line (see service/cli.py): ``nastavnik match``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from features import Answers, ImportFailed

EXIT_BAD_INPUT = 1


def _date(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"ожидалась дата ДД.ММ.ГГГГ, получено «{text}»", param_hint="--today")


def _fail(lines: list[str]) -> NoReturn:
    # Plain lines, never wrapped: a curator may copy them or a script may read them.
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _failure_lines(error: ImportFailed) -> list[str]:
    return [str(error).splitlines()[0]] + [f"  {issue}" for issue in error.issues]


def match(
    mentors: Annotated[Path, typer.Option(help="Анкеты наставников: XLSX или CSV.")],
    mentees: Annotated[Path, typer.Option(help="Анкеты наставляемых: XLSX или CSV.")],
    spec: Annotated[
        str, typer.Option(help="Описание анкет: teacher, pupil или путь к файлу YAML/JSON.")
    ] = "teacher",
    out: Annotated[
        Path, typer.Option(help="Куда записать предложения пар: .xlsx или .csv.")
    ] = Path("proposals.xlsx"),
    model: Annotated[
        Path | None,
        typer.Option(help="Обученная модель оценки пар (nastavnik learn) вместо весов анкеты."),
    ] = None,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Пары с оценкой ниже этой не предлагаются.")
    ] = 0.0,
    today: Annotated[
        str | None,
        typer.Option(help="Дата, на которую считать ожидание (ДД.ММ.ГГГГ); по умолчанию сегодня."),
    ] = None,
    no_limits: Annotated[
        bool,
        typer.Option(
            "--no-limits",
            help="Снять ограничения на размер файлов (строки, ячейки, время чтения) — для аналитиков.",
        ),
    ] = False,
) -> None:
    """Подобрать пары по анкетам: проверить файлы, оценить пары, найти лучший набор пар.

    Результат: пары с оценками и причинами, загрузка наставников.

    Наставляемые без пары перечислены отдельно: первыми — кто ждёт дольше.

    Файл с ошибками не принимается: печатается список всех ошибок, код выхода 1.
    """
    from rich.console import Console

    console = Console(stderr=True)
    when = _date(today)
    with _Steps(console) as step:
        step("Чтение описания анкет")
        loaded_spec, loaded_model = _load(spec, model)
        step("Проверка анкет")
        from features.limits import DEFAULT, UNLIMITED, applied

        with applied(UNLIMITED if no_limits else DEFAULT):
            answers = _read_both(loaded_spec, mentors, mentees)
        step("Оценка допустимых пар")
        from features import score_pairs

        scores = score_pairs(
            loaded_spec, answers["mentors"], answers["mentees"], model=loaded_model
        )
        step("Подбор пар")
        from features import waiting_priority
        from matching import Problem, solve

        waited = answers["mentees"].waiting_days(when)
        result = solve(
            Problem(
                scores.scores,
                scores.capacity,
                min_score=min_score,
                priority=waiting_priority(waited),  # past 30 days: matched first
            )
        )
        step("Запись результата")
        from features.report import proposals, write_proposals

        tables = proposals(scores, result.pairs, min_score, when)
        written = write_proposals(tables, out)
    _summary(scores, tables, written)


def _load(spec: str, model: Path | None) -> tuple[Any, Any]:
    from features import SpecError, load_spec
    from features.model import ModelError, load_model

    try:
        loaded_spec = load_spec(spec)
    except SpecError as error:
        _fail(str(error).splitlines())
    try:
        return loaded_spec, (load_model(model) if model else None)
    except ModelError as error:
        _fail([f"Модель не принята: {error}"])


def _read_both(spec: Any, mentors: Path, mentees: Path) -> dict[str, Answers]:
    from features import ImportFailed, read_answers

    answers, lines = {}, []
    for side, path in (("mentors", mentors), ("mentees", mentees)):
        try:
            answers[side] = read_answers(path, spec, side, filename=path.name)
        except ImportFailed as error:
            lines += _failure_lines(error)
    if lines:
        _fail([*lines, "Исправьте файлы и запустите снова; ничего не записано."])
    return answers


class _Steps:
    """Named steps with a progress bar on a terminal (silent when the output is a file or a test)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("", total=5)
        self.started = False

    def __enter__(self) -> _Steps:
        self.progress.__enter__()
        return self

    def __call__(self, description: str) -> None:
        if self.started:
            self.progress.advance(self.task)
        self.started = True
        self.progress.update(self.task, description=description)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def _summary(scores: Any, tables: Any, written: list[Path]) -> None:
    import numpy as np

    pairs, unmatched = tables.pairs, tables.unmatched
    late = int((unmatched["Дней ожидания"].fillna(0) > 30).sum()) if len(unmatched) else 0
    no_consent = int((~scores.mentees.consent).sum()), int((~scores.mentors.consent).sum())
    typer.echo(
        f"Наставников: {len(scores.mentors)} (мест: {int(scores.capacity.sum())}), "
        f"наставляемых: {len(scores.mentees)}; допустимых пар: {scores.n_pairs}."
    )
    typer.echo(
        f"Предложено пар: {len(pairs)}; без пары: {len(unmatched)}, "
        f"из них ждут больше 30 дней: {late}."
    )
    if len(pairs):
        score = pairs["Оценка"].to_numpy(dtype=float)
        typer.echo(f"Оценка пар: средняя {np.mean(score):.2f}, наименьшая {np.min(score):.2f}.")
    if any(no_consent):
        typer.echo(
            f"Без согласия (в пары не попадают): наставляемых {no_consent[0]}, "
            f"наставников {no_consent[1]}."
        )
    typer.echo("Результат: " + ", ".join(str(p) for p in written))


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root application."""
    app.command("match")(match)
