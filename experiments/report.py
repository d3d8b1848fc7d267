"""The evaluation report: ``report.md`` in Russian for the analyst, PNG plots and CSV tables.

Everything but the last section (``## Время работы``) depends only on the cohort and the seed, so
two runs with the same seed write the same files apart from that section.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.evaluate import LEARN_ON, METHODS, Evaluation
from experiments.metrics import METRICS, SATISFIED, TARGETS, WAITING_DAYS
from features import PairModel
from features.learning import KINDS, LABELS, Learned
from matching import MAX_CAPACITY

__all__ = ["TIMINGS_HEADING", "write_report"]

TIMINGS_HEADING = "## Время работы"
PLOTS = ("scores.png", "load.png", "coverage.png", "learned.png")
_SHORT = {
    "random": "случайно",
    "greedy": "жадно",
    "stable": "устойчиво",
    "solver_score": "сумма",
    "solver_coverage": "охват",
    "solver_balanced": "охват + загрузка",
    "solver_waiting": "охват + ждущие",
    "solver_learned": "обученная модель",
    "solver_cohesion": "охват + сплочённость",
}
_OUTCOME_SHORT = {"finished": "завершили", "mentee_satisfaction": "удовлетворённость"}
_OUTCOME_LABELS = {
    "finished": "завершили программу (1/0)",
    "mentee_satisfaction": "удовлетворённость наставляемого (1–10)",
}


def write_report(result: Evaluation, directory: str | Path, command: str | None = None) -> Path:
    """Write ``report.md``, the plots and ``metrics.csv`` into ``directory`` (created if missing).

    Returns the path of ``report.md``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _plots(result, directory)
    result.table.to_csv(directory / "metrics.csv", index_label="key")
    if result.learned:
        folds = pd.concat(
            [learned.folds.assign(outcome=column) for column, learned in result.learned.items()]
        )
        folds.to_csv(directory / "learning.csv", index=False)
    sections = [
        _header(result, command),
        _headline(result),
        _satisfaction(result),
        _load(result),
        _scores(result),
        _coverage(result),
        _groups(result),
        _learning(result),
        _definitions(),
        _timings(result),
    ]
    path = directory / "report.md"
    path.write_text("\n\n".join(s for s in sections if s) + "\n", "utf-8")
    return path


# ----------------------------------------------------------------------------- markdown


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any, pattern: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if pattern == "{:d}":
        return f"{int(value):,}".replace(",", " ")
    return pattern.format(value)


def _header(result: Evaluation, command: str | None) -> str:
    programme, scores = result.programme, result.scores
    waiting = programme.mentees.waiting_days(programme.today)
    late = int((waiting > WAITING_DAYS).sum())
    lines = [
        "# Оценка подбора наставнических пар",
        "",
        f"Программа: {programme.name}. Наставляемых: {_cell(len(programme.mentees), '{:d}')}, "
        f"наставников: {_cell(len(programme.mentors), '{:d}')} "
        f"(мест: {_cell(int(scores.capacity.sum()), '{:d}')}), "
        f"допустимых пар: {_cell(scores.n_pairs, '{:d}')}. "
        f"Ожидание считается на {programme.today:%d.%m.%Y}; ждут дольше {WAITING_DAYS} дней: "
        f"{_cell(late, '{:d}')}.",
        "",
        "Все методы решают одну задачу: те же допустимые пары (жёсткие правила анкеты), не больше "
        f"{MAX_CAPACITY} наставляемых у наставника и не больше мест, которые он назвал. Оценки пар, "
        "блокирующие пары и загрузка считаются по весам анкеты для всех методов, в том числе для "
        "решателя с обученной моделью.",
    ]
    if programme.truth is not None:
        lines += [
            "",
            "Когорта синтетическая: у каждой пары есть скрытая истинная совместимость и "
            "смоделированные исходы (удовлетворённость обеих сторон, завершение программы). "
            "Методы их не видят; исходы одной и той же пары одинаковы у всех методов.",
        ]
    if command:
        lines += ["", f"Команда: `{command}`"]
    return "\n".join(lines)


def _headline(result: Evaluation) -> str:
    header = ["Метод", *(m.label for m in METRICS)]
    rows = [
        [METHODS[str(method)], *(_cell(row[m.key], m.format) for m in METRICS)]
        for method, row in result.table.iterrows()
    ]
    return "## Главная таблица\n\n" + _table(header, rows)


def _satisfaction(result: Evaluation) -> str:
    table = result.table
    if table["mentee_satisfied"].isna().all():
        return ""
    header = ["Метод", "Наставляемые", "Наставники"]
    header += [f"{year} ({share:.0%})" for year, share in TARGETS.items()]
    rows = []
    for method, row in table.iterrows():
        both = min(row["mentee_satisfied"], row["mentor_satisfied"])
        reached = ["да" if both >= share else "нет" for share in TARGETS.values()]
        rows.append(
            [
                METHODS[str(method)],
                f"{row['mentee_satisfied']:.1%}",
                f"{row['mentor_satisfied']:.1%}",
                *reached,
            ]
        )
    return (
        "## Удовлетворённость и целевые показатели\n\n"
        f"Доля довольных (ответ не ниже {SATISFIED} из 10) среди подобранных пар; «да» — обе "
        "стороны достигают целевого показателя года (65 / 75 / 85 %).\n\n" + _table(header, rows)
    )


def _top_load(result: Evaluation) -> int:
    """The largest load shown: 3, or the largest group of the answers (issue 11)."""
    return max([MAX_CAPACITY, *(int(result.loads(m).max(initial=0)) for m in result.pairs)])


def _load(result: Evaluation) -> str:
    top = _top_load(result)
    header = ["Метод", *(f"{k} наставл." for k in range(top + 1)), "Джини"]
    rows = []
    for method in result.pairs:
        counts = np.bincount(result.loads(method), minlength=top + 1)
        rows.append(
            [
                METHODS[method],
                *(_cell(c, "{:d}") for c in counts),
                _cell(result.table.loc[method, "load_gini"], "{:.3f}"),
            ]
        )
    return (
        "## Загрузка наставников\n\n"
        "Сколько наставников (из давших согласие и места) получили 0–3 наставляемых; "
        "индекс Джини 0 — у всех поровну.\n\n" + _table(header, rows) + "\n\n![Загрузка](load.png)"
    )


def _groups(result: Evaluation) -> str:
    """Groups and co-mentors (issue 11): demand covered, group sizes by form, cohesion."""
    found = result.groups
    if not found:
        return ""
    header = [
        "Метод",
        "Покрыто потребности",
        "Нужно нескольких: получили всех",
        "Групп (2+)",
        "Средний размер",
        "Наибольшая",
        "Сплочённость",
    ]
    rows = [
        [
            METHODS[str(method)],
            _cell(row["demand_covered"], "{:.1%}"),
            f"{int(row['several_full'])} из {int(row['several'])}",
            _cell(int(row["groups"]), "{:d}"),
            _cell(row["group_mean"], "{:.2f}"),
            _cell(int(row["group_max"]), "{:d}"),
            _cell(row["cohesion"], "{:.3f}"),
        ]
        for method, row in found["methods"].iterrows()
    ]
    parts = [
        "## Группы и несколько наставников",
        "Группа — наставник и его наставляемые в одной форме; у формы свой наибольший размер "
        "группы (`max_group` в описании анкет). Покрыто потребности — доля нужных наставляемым "
        "наставников, которых они получили (наставляемому может быть нужно двое разных). "
        "Сплочённость — средняя похожесть двух наставляемых одной группы (класс, предметы, "
        "свободное время; от 0 до 1).",
        _table(header, rows),
    ]
    for method, by_form in found["sizes"].items():
        size_rows = []
        for form, sizes in by_form.items():
            groups = [size for size in sizes if size > 1]
            counts = np.bincount(sizes, minlength=2) if sizes else np.zeros(2, dtype=int)
            spread = ", ".join(f"{k}: {int(c)}" for k, c in enumerate(counts) if k and c)
            size_rows.append(
                [
                    form,
                    str(found["limits"][form]),
                    str(len(groups)),
                    _cell(float(np.mean(groups)) if groups else None, "{:.2f}"),
                    str(max(sizes, default=0)),
                    spread or "—",
                ]
            )
        parts.append(
            f"Размеры групп по формам — {METHODS[method]}:\n\n"
            + _table(
                [
                    "Форма",
                    "Наибольшая по форме",
                    "Групп (2+)",
                    "Средний размер",
                    "Наибольшая",
                    "Размер: число",
                ],
                size_rows,
            )
        )
    cohesion = found["cohesion"]
    if cohesion:
        share = cohesion["gap"] / max(abs(cohesion["bound"]), 1e-9)
        parts.append(
            f"Сплочённость (вес {cohesion['weight']:g}) делает задачу квадратичной; решатель "
            "ищет группы итерированной линеаризацией и обменами (`matching.cohesion`). Значение "
            f"цели {cohesion['value']:.2f}, верхняя граница {cohesion['bound']:.2f}: до лучшего "
            f"возможного не больше {cohesion['gap']:.2f} ({share:.1%}); точных решений: "
            f"{cohesion['rounds']}."
        )
    return "\n\n".join(parts)


def _scores(result: Evaluation) -> str:
    return (
        "## Оценки выбранных пар\n\n"
        "Распределение оценок пар (веса анкеты) и, для синтетической когорты, истинной "
        "совместимости по методам.\n\n![Оценки](scores.png)"
    )


def _coverage(result: Evaluation) -> str:
    curve = result.coverage_curve
    rows = [[f"{t:.1f}", f"{c:.1%}"] for t, c in curve.itertuples(index=False)]
    return (
        "## Охват и минимальная оценка\n\n"
        "Наибольшая доля наставляемых, которых можно подобрать, если не предлагать пары с "
        "оценкой ниже порога (`nastavnik match --min-score`).\n\n"
        + _table(["Порог", "Наибольший охват"], rows)
        + "\n\n![Охват](coverage.png)"
    )


def _learning(result: Evaluation) -> str:
    parts = ["## Обучение на исходах"]
    if result.learned:
        parts.append(_past(result))
        parts.append(_cross_validation(result.learned))
    elif result.model is not None:
        parts.append("Модель задана файлом (`nastavnik learn`); перекрёстной проверки здесь нет.")
    else:
        return ""
    if result.model is not None:
        parts.append(_weights(result))
    if result.truth_correlation:
        corr = result.truth_correlation
        text = f"оценки по весам анкеты {corr['hand']:.3f}"
        if "learned" in corr:
            text += f", обученной модели {corr['learned']:.3f}"
        parts.append(
            "Корреляция Спирмена с истинной совместимостью по допустимым парам этой когорты: "
            + text
            + "."
        )
    parts.append("![Обученные и заданные веса](learned.png)")
    return "\n\n".join(parts)


def _past(result: Evaluation) -> str:
    assert result.programme.past is not None
    mentors, mentees, past = result.programme.past
    return (
        f"Прошлая программа (другие люди): {_cell(len(mentors), '{:d}')} наставников, "
        f"{_cell(len(mentees), '{:d}')} наставляемых, {_cell(len(past), '{:d}')} пар, "
        "подобранных случайно (как вручную), с исходами. Проверка перекрёстная, по людям: "
        "ни один человек не попадает одновременно в обучение и в проверку. Решатель с обученной "
        f"моделью использует модель, обученную на исходе «{_OUTCOME_LABELS[LEARN_ON]}»."
    )


def _cross_validation(learned: dict[str, Learned]) -> str:
    header = ["Исход", "Мера", *(LABELS[k] for k in ("hand", *KINDS)), "Сохраняется"]
    rows = []
    for column, found in learned.items():
        cells = []
        for method in ("hand", *KINDS):
            mean, sd = _quality(found, method)
            cells.append("—" if np.isnan(mean) else f"{mean:.3f} ± {sd:.3f}")
        rows.append([_OUTCOME_LABELS.get(column, column), found.metric, *cells, LABELS[found.kind]])
    return _table(header, rows)


def _quality(found: Learned, method: str) -> tuple[float, float]:
    """Mean and standard deviation (0 for one fold) of a method's cross-validated quality."""
    summary = found.summary().astype({"mean": float, "std": float})
    mean, sd = summary["mean"].get(method, np.nan), summary["std"].get(method, np.nan)
    return float(mean), 0.0 if np.isnan(sd) else float(sd)


def _weights(result: Evaluation) -> str:
    spec = result.programme.spec
    hand = np.array([c.weight for c in spec.components], dtype=float)
    learned = _model_weights(result.model, [c.key for c in spec.components])
    rows = [
        [c.label, f"{h:.3f}", "—" if np.isnan(w) else f"{w:+.3f}"]
        for c, h, w in zip(spec.components, hand / hand.sum(), learned, strict=True)
    ]
    note = ""
    if result.model is not None and getattr(result.model, "mentor_answers", None):
        note = "\n\nМодель учитывает и ответы наставника; в таблице только веса составляющих."
    return (
        "Веса составляющих: заданные в анкете (доли) и обученные (логистическая регрессия; знак — "
        "направление влияния)."
        + note
        + "\n\n"
        + _table(["Составляющая", "Вес анкеты", "Обученный вес"], rows)
    )


def _model_weights(model: PairModel | None, keys: Sequence[str]) -> np.ndarray:
    weights = getattr(model, "weights", None)
    if not isinstance(weights, dict):
        return np.full(len(keys), np.nan)
    return np.array([float(weights.get(k, 0.0)) for k in keys], dtype=float)


def _definitions() -> str:
    items = [
        "Охват — доля наставляемых, получивших наставника.",
        "Средняя и низшая оценка — оценки выбранных пар по весам анкеты, от 0 до 1.",
        "Истинная совместимость — скрытая совместимость пар синтетической когорты, от 0 до 1; "
        "сумма растёт и с охватом.",
        f"Довольны — ответ не ниже {SATISFIED} из 10 в смоделированной анкете удовлетворённости.",
        f"Наставников с {MAX_CAPACITY} — столько наставников получили наибольшую нагрузку.",
        "Блокирующая пара — наставляемый и наставник, которые оба предпочли бы друг друга "
        "тому, что получили (у наставника есть место или его худший наставляемый хуже); "
        "0 — подбор устойчив.",
        f"Ждавших > {WAITING_DAYS} дн. подобрано — сколько наставляемых, ждущих дольше "
        f"{WAITING_DAYS} дней, получили наставника.",
        "Устойчивые пары с общими для обеих сторон оценками совпадают с жадным подбором: "
        "при одной оценке на пару устойчивый подбор единственный.",
    ]
    return "## Определения\n\n" + "\n".join(f"- {item}" for item in items)


def _timings(result: Evaluation) -> str:
    names = {
        "scoring": "Оценка пар по анкете",
        "learning": "Обучение с перекрёстной проверкой",
        "learned_scoring": "Оценка пар обученной моделью",
        "coverage_curve": "Кривая охвата (наибольший поток)",
    }
    rows = [[names.get(k, METHODS.get(k, k)), f"{v:.2f}"] for k, v in result.timings.items()]
    return (
        f"{TIMINGS_HEADING}\n\nСекунды на этой машине (не входят в сравнение прогонов).\n\n"
        + _table(["Шаг", "Секунд"], rows)
    )


# ----------------------------------------------------------------------------- plots


def _plots(result: Evaluation, directory: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"font.size": 9}):
        for name, draw in (
            ("scores.png", _plot_scores),
            ("load.png", _plot_load),
            ("coverage.png", _plot_coverage),
            ("learned.png", _plot_learned),
        ):
            if name == "learned.png" and not result.learned and result.model is None:
                continue
            figure = draw(result, plt)
            figure.savefig(directory / name, dpi=110, metadata={"Software": None})
            plt.close(figure)


def _plot_scores(result: Evaluation, plt: Any) -> Any:
    methods = list(result.pairs)
    problem = result.problem()
    truth = result.programme.truth
    panels = 2 if truth is not None else 1
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8), squeeze=False)
    score_sets, truth_sets = [], []
    for method in methods:
        chosen = np.array(result.pairs[method], dtype=np.int64).reshape(-1, 2)
        score_sets.append(problem.lookup(chosen[:, 0], chosen[:, 1])[1])
        if truth is not None:
            truth_sets.append(truth(chosen[:, 0], chosen[:, 1]))
    labels = [_SHORT[m] for m in methods]
    axes[0, 0].boxplot(score_sets, tick_labels=labels, showfliers=False, **_horizontal())
    axes[0, 0].set_xlabel("оценка пары (веса анкеты)")
    axes[0, 0].invert_yaxis()
    if truth is not None:
        axes[0, 1].boxplot(truth_sets, tick_labels=labels, showfliers=False, **_horizontal())
        axes[0, 1].set_xlabel("истинная совместимость")
        axes[0, 1].invert_yaxis()
    figure.suptitle("Оценки выбранных пар по методам")
    figure.tight_layout()
    return figure


def _horizontal() -> dict[str, Any]:
    import matplotlib

    # ``orientation`` replaced ``vert`` in Matplotlib 3.10; the project allows 3.9.
    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def _plot_load(result: Evaluation, plt: Any) -> Any:
    methods = list(result.pairs)
    figure, axis = plt.subplots(figsize=(7.5, 3.8))
    width = 0.8 / len(methods)
    top = _top_load(result)
    levels = np.arange(top + 1)
    for k, method in enumerate(methods):
        loads = result.loads(method)
        share = np.bincount(loads, minlength=top + 1) / max(len(loads), 1)
        axis.bar(levels + (k - (len(methods) - 1) / 2) * width, share, width, label=_SHORT[method])
    axis.set_xticks(levels)
    axis.set_xlabel("наставляемых у наставника")
    axis.set_ylabel("доля наставников")
    axis.set_title("Загрузка наставников")
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure


def _plot_coverage(result: Evaluation, plt: Any) -> Any:
    curve = result.coverage_curve
    figure, axis = plt.subplots(figsize=(5.2, 3.6))
    axis.plot(curve["min_score"], curve["coverage"] * 100, marker="o")
    axis.set_xlabel("минимальная оценка пары")
    axis.set_ylabel("наибольший охват, %")
    axis.set_ylim(0, 100)
    axis.set_title("Охват и минимальная оценка")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def _plot_learned(result: Evaluation, plt: Any) -> Any:
    spec = result.programme.spec
    keys = [c.key for c in spec.components]
    hand = np.array([c.weight for c in spec.components], dtype=float)
    learned = _model_weights(result.model, keys)
    panels = 2 if result.learned else 1
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8), squeeze=False)
    axis = axes[0, 0]
    rows = np.arange(len(keys))
    axis.barh(rows - 0.2, hand / np.abs(hand).sum(), 0.4, label="веса анкеты")
    if not np.isnan(learned).all():
        axis.barh(rows + 0.2, learned / max(np.abs(learned).sum(), 1e-12), 0.4, label="обученные")
    axis.set_yticks(rows, [c.label for c in spec.components])
    axis.invert_yaxis()
    axis.axvline(0, color="black", linewidth=0.5)
    axis.set_xlabel("доля в сумме |весов|")
    axis.set_title("Веса составляющих")
    axis.legend(fontsize=7, loc="best")
    if result.learned:
        _plot_quality(axes[0, 1], result.learned)
    figure.tight_layout()
    return figure


def _plot_quality(axis: Any, learned: dict[str, Learned]) -> None:
    methods = ("hand", *KINDS)
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        means, sds = zip(*(_quality(found, method) for found in learned.values()), strict=True)
        at = np.arange(len(learned)) + (k - (len(methods) - 1) / 2) * width
        axis.bar(at, means, width, yerr=sds, label=LABELS[method], capsize=2)
    axis.set_xticks(
        np.arange(len(learned)),
        [f"{_OUTCOME_SHORT.get(c, c)}\n({found.metric})" for c, found in learned.items()],
        fontsize=7,
    )
    top = max(float(np.nanmax(found.summary()["mean"])) for found in learned.values())
    axis.set_ylim(min(0.0, axis.get_ylim()[0]), max(top, 0.1) * 1.45)
    axis.set_title("Перекрёстная проверка по людям")
    axis.legend(fontsize=7, loc="upper right")
