"""Charts of monitoring drawn on the server with matplotlib: SVG for the pages, PNG for the
аналитическая справка. Russian labels; no fonts or scripts are fetched from anywhere.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from features.numbers import number
from service.monitoring.schemas import IndicatorPublic

__all__ = [
    "bars_chart",
    "distribution_chart",
    "indicators_chart",
    "trend_chart",
]

Format = Literal["svg", "png"]

# pyplot keeps global state; one figure at a time (requests run in threads).
_LOCK = threading.Lock()

SHORT = {
    "pupil_mentees": "Наставляемые\n10–19 лет",
    "pupil_mentors": "Наставники\n15–19 лет",
    "young_teacher_mentees": "Молодые\nпедагоги",
    "enterprises": "Предприятия",
    "mentee_satisfaction": "Удовл.\nнаставляемых",
    "mentor_satisfaction": "Удовл.\nнаставников",
}


def _figure(width: float = 7.5, height: float = 3.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    return figure, figure.subplots()


def _russian_axes(figure: Any) -> None:
    """Every chart counts or shares something: its axis starts at 0 (an empty chart drew
    «−0.04 … 0.04»), and its numbers read as Russian ones («0,5», «1 000 000»)."""
    from matplotlib.ticker import FuncFormatter

    for axes in figure.axes:
        low, high = axes.get_ylim()
        if low < 0:
            axes.set_ylim(0, max(high, 1.0))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: number(value, 2)))


def _whole_counts(axes: Any) -> None:
    """A count's axis: whole ticks only (no «0,2 анкеты»)."""
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _save(figure: Any, fmt: Format, title: str) -> bytes:
    _russian_axes(figure)
    figure.tight_layout()
    out = io.BytesIO()
    metadata = {"Title": title} if fmt == "svg" else {"Title": title, "Software": "nastavnik"}
    figure.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()


def indicators_chart(items: Sequence[IndicatorPublic], fmt: Format = "svg") -> bytes:
    """Bars of each indicator's value with the year's target marked."""
    with _LOCK:
        figure, axes = _figure()
        labels = [SHORT.get(i.key, i.key) for i in items]
        values = [i.value or 0.0 for i in items]
        colours = [
            "#bbbbbb" if i.value is None else "#1e7b34" if i.meets_target else "#b3261e"
            for i in items
        ]
        axes.bar(range(len(items)), values, color=colours, label="значение")
        axes.scatter(
            range(len(items)),
            [i.target for i in items],
            marker="_",
            s=900,
            color="#1f4e79",
            linewidths=3,
            label="цель",
            zorder=3,
        )
        for x, item in enumerate(items):
            text = "нет данных" if item.value is None else number(item.value)
            axes.annotate(text, (x, values[x]), ha="center", va="bottom", fontsize=8)
        axes.set_xticks(range(len(items)), labels, fontsize=8)
        axes.set_ylabel("%")
        axes.set_ylim(0, max([100.0, *values]) * 1.05)
        axes.set_title("Показатели и целевые значения")
        axes.legend(fontsize=8, loc="upper right")
        return _save(figure, fmt, "Показатели и целевые значения")


def trend_chart(items: Sequence[IndicatorPublic], fmt: Format = "svg") -> bytes:
    """Lines of each indicator over the programme years."""
    with _LOCK:
        figure, axes = _figure()
        for item in items:
            points = [(p.year, p.value) for p in item.trend if p.value is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                axes.plot(
                    xs, ys, marker="o", label=SHORT.get(item.key, item.key).replace("\n", " ")
                )
        years = sorted({p.year for i in items for p in i.trend})
        if years:
            axes.set_xticks(years, [f"{y}/{(y + 1) % 100:02d}" for y in years], fontsize=8)
        axes.set_ylabel("%")
        axes.set_title("Показатели по учебным годам")
        if any(p.value is not None for i in items for p in i.trend):
            axes.legend(fontsize=7, loc="upper left")
        else:  # no year has data: the scale of a share, not matplotlib's 0 to 1
            axes.set_ylim(0, 100)
        return _save(figure, fmt, "Показатели по учебным годам")


def distribution_chart(
    answers: Mapping[str, Sequence[float]], fmt: Format = "svg", title: str = "Удовлетворённость"
) -> bytes:
    """How many satisfaction questionnaires gave each mark 1-10, mentees' and mentors' side by side.

    ``answers`` maps a Russian series name to the answers (1-10, rounded to the nearest mark).
    """
    with _LOCK:
        figure, axes = _figure()
        width = 0.8 / max(1, len(answers))
        for k, (name, values) in enumerate(answers.items()):
            counts = [sum(1 for v in values if round(v) == mark) for mark in range(1, 11)]
            axes.bar(
                [m + k * width - 0.4 + width / 2 for m in range(1, 11)], counts, width, label=name
            )
        axes.set_xticks(range(1, 11))
        axes.set_xlabel("оценка (1–10)")
        axes.set_ylabel("анкет")
        _whole_counts(axes)
        axes.set_title(title)
        axes.legend(fontsize=8)
        return _save(figure, fmt, title)


def bars_chart(
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Format = "svg",
    title: str = "",
    ylabel: str = "",
    limit: float | None = None,
    limit_label: str = "",
) -> bytes:
    """Plain bars (mentor load, waiting) with an optional horizontal limit line."""
    with _LOCK:
        figure, axes = _figure()
        axes.bar(range(len(values)), values, color="#1f4e79")
        axes.set_xticks(range(len(labels)), labels, fontsize=8)
        if all(float(v).is_integer() for v in values):
            _whole_counts(axes)
        if limit is not None:
            axes.axhline(limit, color="#b3261e", linestyle="--", label=limit_label)
            axes.legend(fontsize=8)
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        return _save(figure, fmt, title)
