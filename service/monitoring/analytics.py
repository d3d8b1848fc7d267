"""The аналитическая справка of a school, a municipality or a region for a programme year, as DOCX: the
indicators against their targets (a table and a chart), their trend over the years, the
participants and pairs of the year, satisfaction (a chart), and the schools of a municipality or the
municipalities of a region
(docs/rules.md#indicators, docs/rules.md#bases).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from features.numbers import percent, signed
from service.core.models import Side, utcnow
from service.core.security import Actor
from service.monitoring import bases, charts, indicators, statistics
from service.monitoring.schemas import IndicatorPublic, IndicatorsPublic

__all__ = ["MEDIA_TYPE", "Statement", "statement"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Statement:
    """A produced справка: its indicators and the DOCX file."""

    indicators: IndicatorsPublic
    content: bytes
    filename: str


def _percent(value: float | None) -> str:
    """An indicator's value, stored in percent (0 to 100): «20 %», «18,6 %»."""
    return "—" if value is None else percent(value / 100)


def _gap(item: IndicatorPublic) -> str:
    return "—" if item.gap is None else f"{signed(item.gap)} п. п."


def _table(document: Any, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows) + 1, cols=len(header))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for cells, row in zip((r.cells for r in table.rows[1:]), rows, strict=True):
        for cell, value in zip(cells, row, strict=True):
            cell.text = value


def statement(
    session: Any,
    actor: Actor,
    scope: str,
    name: str,
    year: int,
    zone: tzinfo,
    now: datetime | None = None,
) -> Statement:
    """Produce the справка of a school (``name`` is its code), a municipality or a region."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    result = indicators.scope_indicators(session, actor, scope, name, year, zone)
    orgs, title = indicators.scope_orgs(session, actor, scope, name)
    answers = indicators.satisfaction_answers(session, orgs, year, zone)
    mentees = bases.base(session, actor, scope, name, Side.mentee.value, year, zone).rows
    mentors = bases.base(session, actor, scope, name, Side.mentor.value, year, zone).rows
    today = (now or utcnow()).astimezone(zone).date()

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(12)
    for side in ("left_margin", "right_margin"):
        setattr(document.sections[0], side, Cm(2))
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.add_run("Аналитическая справка о реализации целевой модели наставничества").bold = True
    centred = document.add_paragraph(f"{title}, {result.year_label}")
    centred.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"Составлена {today:%d.%m.%Y}.")

    document.add_heading("1. Участники", level=2)
    paired = [r for r in mentees if r[8]]
    forms = Counter(r[8] for r in paired)
    document.add_paragraph(
        f"В базе наставляемых — {len(mentees)} строк, из них с наставником — {len(paired)}, "
        f"ждут наставника — {len(mentees) - len(paired)}; в базе наставников — {len(mentors)}."
    )
    if forms:
        _table(
            document,
            ["Форма наставничества", "Пар в учебном году"],
            [[form, str(n)] for form, n in sorted(forms.items())],
        )

    document.add_heading("2. Показатели целевой модели", level=2)
    if result.schools_without_denominators:
        document.add_paragraph(
            f"Школ без знаменателей на этот год: {result.schools_without_denominators}; "
            "их доли в сумму не вошли."
        )
    _table(
        document,
        ["Показатель", "Числитель", "Знаменатель", "Значение", "Цель", "Отклонение"],
        [
            [
                i.title,
                "—" if i.numerator is None else str(i.numerator),
                "—" if i.denominator is None else str(i.denominator),
                _percent(i.value),
                _percent(i.target),
                _gap(i),
            ]
            for i in result.indicators
        ],
    )
    document.add_picture(
        io.BytesIO(charts.indicators_chart(result.indicators, "png")), width=Cm(16)
    )

    document.add_heading("3. Динамика по учебным годам", level=2)
    _table(
        document,
        ["Показатель", *[p.label.split()[0] for p in result.indicators[0].trend]],
        [[i.title, *[_percent(p.value) for p in i.trend]] for i in result.indicators],
    )
    document.add_picture(io.BytesIO(charts.trend_chart(result.indicators, "png")), width=Cm(16))

    document.add_heading("4. Удовлетворённость участников", level=2)
    document.add_paragraph(
        f"Анкет наставляемых — {len(answers[Side.mentee.value])}, "
        f"наставников — {len(answers[Side.mentor.value])}."
    )
    series = {"наставляемые": answers[Side.mentee.value], "наставники": answers[Side.mentor.value]}
    document.add_picture(
        io.BytesIO(charts.distribution_chart(series, "png", "Оценки удовлетворённости")),
        width=Cm(16),
    )

    counted = statistics.statistics(session, actor, scope, name, year, zone)
    document.add_heading("5. Количество участников (для форм статистического наблюдения)", level=2)
    _table(
        document,
        ["Показатель", "Значение"],
        [[c.title, "не введено" if c.value is None else str(c.value)] for c in counted.counts],
    )

    if result.parts:
        unit = "Муниципалитет" if scope == "region" else "Школа"
        plural = "муниципалитетов" if scope == "region" else "школ"
        document.add_heading(f"6. Показатели {plural}", level=2)
        _table(
            document,
            [unit, *[charts.SHORT[i.key].replace("\n", " ") for i in result.indicators]],
            [[p.name, *[_percent(i.value) for i in p.indicators]] for p in result.parts],
        )
    out = io.BytesIO()
    document.save(out)
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-") or "spravka"
    return Statement(result, out.getvalue(), f"spravka-{safe}-{year}.docx")
