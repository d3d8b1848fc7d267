"""Commands of this part for the `nastavnik` command line (see service/cli.py): ``match`` and ``learn``."""

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
    cohesion: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Вес сплочённости групп (одинаковые класс, предметы, время у учеников одной "
            "группы); по умолчанию — из описания анкет, 0 — не учитывать.",
        ),
    ] = None,
) -> None:
    """Подобрать пары по анкетам: проверить файлы, оценить пары, найти лучший набор пар.

    Результат: пары с оценками и причинами, группы (наставник и его наставляемые в одной форме),
    загрузка наставников. Наставляемый, которому нужно несколько наставников (вопрос «Сколько
    наставников тебе нужно?»), получает разных наставников.

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
        from features.groups import mentee_similarity, solve_groups

        waited = answers["mentees"].waiting_days(when)
        result, grouped = solve_groups(
            scores,
            cohesion,
            min_score=min_score,
            priority=waiting_priority(waited),  # past 30 days: matched first
        )
        step("Запись результата")
        from features.report import proposals, write_proposals

        similarity = mentee_similarity(scores) if scores.spec.cohesion else None
        tables = proposals(scores, result.pairs, min_score, when, similarity=similarity)
        written = write_proposals(tables, out)
    _summary(scores, tables, written, result.pairs, grouped)


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


def _summary(
    scores: Any,
    tables: Any,
    written: list[Path],
    chosen: Any = (),
    grouped: dict[str, Any] | None = None,
) -> None:
    import numpy as np

    from features.numbers import number

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
        typer.echo(
            f"Оценка пар: средняя {number(np.mean(score), 2)}, "
            f"наименьшая {number(np.min(score), 2)}."
        )
    _groups_summary(scores, chosen, grouped or {})
    if any(no_consent):
        typer.echo(
            f"Без согласия (в пары не попадают): наставляемых {no_consent[0]}, "
            f"наставников {no_consent[1]}."
        )
    typer.echo("Результат: " + ", ".join(str(p) for p in written))


def _groups_summary(scores: Any, pairs: Any, grouped: dict[str, Any]) -> None:
    """Groups by form, mentees needing several mentors, the cohesion and its certified gap."""
    import numpy as np

    from features.groups import group_sizes
    from features.numbers import number, percent
    from features.text import plural

    parts = []
    for form, sizes in group_sizes(scores, pairs).items():
        groups = [size for size in sizes if size > 1]
        if groups:
            parts.append(
                f"{form} — {len(groups)} {plural(len(groups), 'группа', 'группы', 'групп')}, "
                f"в среднем {number(float(np.mean(groups)))} наставляемых (наибольшая {max(groups)})"
            )
    if parts:
        typer.echo("Группы: " + "; ".join(parts) + ".")
    several = np.flatnonzero(scores.demand > 1)
    if len(several):
        got = np.bincount([i for i, _ in pairs], minlength=len(scores.demand))
        full = int((got[several] >= scores.demand[several]).sum())
        typer.echo(
            f"Нужно несколько наставников: {len(several)} наставляемым, всех получили {full}."
        )
    if grouped:
        typer.echo(
            f"Сплочённость групп (вес {number(grouped['weight'], 3)}): "
            f"{number(grouped['cohesion'], 2)}; до лучшего возможного не больше "
            f"{number(grouped['gap'], 2)} "
            f"({percent(grouped['gap'] / max(abs(grouped['bound']), 1e-9))} верхней границы)."
        )


def learn(
    spec: Annotated[str, typer.Option(help="Анкеты: teacher, pupil или путь к YAML/JSON.")],
    mentors: Annotated[Path, typer.Option(help="Анкеты наставников прошлых пар: XLSX или CSV.")],
    mentees: Annotated[Path, typer.Option(help="Анкеты наставляемых прошлых пар: XLSX или CSV.")],
    history: Annotated[
        Path,
        typer.Option(help="Прошлые пары: столбцы mentor_id, mentee_id, outcome (число или 1/0)."),
    ],
    out: Annotated[Path, typer.Option(help="Куда сохранить модель (.json).")],
    kind: Annotated[
        str,
        typer.Option(
            help="auto (самая простая из тех, что не уступают на проверке), weights, linear, "
            "interactions или boosting; обучается только названная."
        ),
    ] = "auto",
    folds: Annotated[int, typer.Option(min=2, max=20, help="Частей перекрёстной проверки.")] = 5,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="Столбец истории (срок, событие, школа), по которому делить на части проверки.",
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="mentee: части по наставляемым (каждая пара проверяется один раз); "
            "person: ни один человек ни с какой стороны не бывает в обучении и проверке сразу."
        ),
    ] = "mentee",
    seed: Annotated[int, typer.Option(help="Зерно случайности разбиения.")] = 0,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Сколько частей проверки обучать одновременно (ядер процессора); "
            "результат тот же, памяти нужно больше.",
        ),
    ] = 1,
) -> None:
    """Обучить оценку пар на исходах прошлых пар и сравнить её с весами анкеты.

    Проверка перекрёстная: по умолчанию части делятся по наставляемым (наставляемый никогда не
    бывает одновременно в обучении и в проверке, каждая пара проверяется ровно один раз).
    Модель потом используется так: nastavnik match ... --model МОДЕЛЬ.
    """
    from features import ImportFailed, read_answers
    from features.learning import KINDS, LearnError, save
    from features.learning import learn as fit

    if out.suffix.lower() != ".json":
        _fail([f"модель сохраняется в JSON: укажите файл с расширением .json, а не «{out.name}»"])
    if kind not in ("auto", *KINDS):
        _fail([f"вид модели: auto, {', '.join(KINDS)}, а не «{kind}»"])
    if split not in ("mentee", "person"):
        _fail([f"--split: mentee или person, а не «{split}»"])
    loaded, _ = _load(spec, None)
    answers, lines = {}, []
    for side, path in (("mentors", mentors), ("mentees", mentees)):
        try:
            answers[side] = read_answers(path, loaded, side, filename=path.name)
        except ImportFailed as error:
            lines += _failure_lines(error)
    if lines:
        _fail([*lines, "Исправьте файлы и запустите снова; модель не сохранена."])
    past = _history(history, answers, group_by)
    try:
        found = fit(
            loaded,
            answers["mentors"],
            answers["mentees"],
            past,
            kind,
            folds,
            seed,
            split=split,
            references=_references(),
            jobs=jobs,
        )
    except LearnError as error:
        _fail([f"Обучение невозможно: {error}"])
    save(found.model, out)
    _print_learned(found, out)


def _references() -> list[Any]:
    """Methods other packages compare with the learned kinds (entry points, never imported here).

    A package declares them under ``[project.entry-points."nastavnik.learning_references"]``
    (``experiments`` declares its generic baselines); each entry point is a function returning a
    list of ``features.learning.Reference``.
    """
    from importlib.metadata import entry_points

    found: list[Any] = []
    for point in entry_points(group="nastavnik.learning_references"):
        found += point.load()()
    return found


def _history(path: Path, answers: dict[str, Any], group_by: str | None) -> Any:
    from features import ImportFailed
    from features.learning import read_history

    try:
        return read_history(
            path, answers["mentors"], answers["mentees"], filename=path.name, group_by=group_by
        )
    except ImportFailed as error:
        _fail([*_failure_lines(error), "Исправьте файл и запустите снова; модель не сохранена."])


_SPLITS = {
    "mentee": "по наставляемым (наставляемый не бывает сразу в обучении и проверке; "
    "другие пары его наставника могут быть в обучении)",
    "group": "по столбцу --group-by (группа не бывает сразу в обучении и проверке)",
    "person": "по людям (ни один человек не бывает сразу в обучении и проверке)",
}


def _print_learned(found: Any, out: Path) -> None:
    outcome = "1/0 (завершили или нет)" if found.binary else "число (оценка)"
    summary = found.summary()
    typer.echo(f"История: {found.n_pairs} пар, исход — {outcome}; мера качества — {found.metric}.")
    if found.conflicts:
        typer.echo(f"Внимание: у одной и той же пары разные исходы ({len(found.conflicts)}):")
        for line in found.conflicts[:10]:
            typer.echo(f"  {line}")
        if len(found.conflicts) > 10:
            typer.echo(f"  … и ещё {len(found.conflicts) - 10}")
    typer.echo(
        f"Перекрёстная проверка {_SPLITS[found.split]}, частей: "
        f"{int(found.folds['fold'].nunique())}."
    )
    once = "каждая ровно один раз" if found.tested == found.n_pairs else "остальные не проверены"
    typer.echo(f"Проверено пар: {found.tested} из {found.n_pairs} ({once}).")
    typer.echo(f"  {'метод':<44} {'по частям':>15}   по всем проверенным парам [95% ДИ]")
    for method, row in summary.iterrows():
        quality = "—" if row["count"] == 0 else f"{row['mean']:.3f} ± {_sd(row['std'])}"
        pooled = (
            "—"
            if row["quality"] != row["quality"]
            else f"{row['quality']:.3f} [{row['low']:.3f}; {row['high']:.3f}]"
        )
        saved = "  ← сохранена" if method == found.kind else ""
        typer.echo(f"  {row['label']:<44} {quality:>15}   {pooled}{saved}")
    typer.echo(f"Сохранено: {out} ({found.labels[found.kind]}).")
    if summary.loc[found.kind, "high"] <= summary.loc["hand", "quality"]:
        typer.echo("Внимание: на проверке модель не лучше весов анкеты; применяйте её осторожно.")


def _sd(value: float) -> str:
    return "0.000" if value != value else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root application."""
    app.command("match")(match)
    app.command("learn")(learn)
