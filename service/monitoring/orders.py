"""The order fixing mentoring pairs (приказ о закреплении наставнических пар) as a DOCX document.

The head of the school signs it (docs/rules.md#order): school, number and date, basis, a table of the
pairs (№, mentor's name and post, mentee's name and post or class, form, start and end dates) and
lines where mentors and mentees sign that they have read it. The document is built with
python-docx; producing it is recorded in the audit log (number, date and pair ids, never names).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.db import among
from service.core.errors import Invalid, NotFound
from service.core.models import Answers, Organisation, Pair, PairStatus, Person
from service.core.rules import MAX_TERM, MIN_TERM, form_title
from service.core.security import Actor, organisation_for
from service.core.text import without_control
from service.people.questionnaires import post_of

__all__ = ["MEDIA_TYPE", "Order", "OrderRequest", "OrderRow", "lines", "make_order"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class OrderRequest:
    """What the curator fills in: number, date, basis, and which active pairs (None = all)."""

    number: str
    date: dt.date
    basis: str
    end_date: dt.date | None = None
    pair_ids: Sequence[int] | None = None
    head: str | None = None


@dataclass(frozen=True)
class OrderRow:
    """One line of the order's table."""

    pair_id: int
    mentor: str
    mentor_post: str
    mentee: str
    mentee_post: str
    form: str
    start: dt.date
    end: dt.date
    group_id: int | None = None  # the members of one group are one line of the order


@dataclass(frozen=True)
class Order:
    """A produced order: its rows and the DOCX file."""

    school: str
    number: str
    date: dt.date
    rows: list[OrderRow]
    content: bytes

    @property
    def filename(self) -> str:
        """A file name for the download, e.g. ``prikaz-45-o-2024-09-01.docx``."""
        safe = "".join(c if c.isalnum() and c.isascii() else "-" for c in self.number).strip("-")
        return f"prikaz-{safe or 'bez-nomera'}-{self.date.isoformat()}.docx"

    @property
    def content_disposition(self) -> str:
        """The download header: an ASCII name, and the Russian one for browsers that read it."""
        russian = f"Приказ № {self.number} от {self.date:%d.%m.%Y}.docx"
        return (
            f"attachment; filename=\"{self.filename}\"; filename*=UTF-8''{quote(russian, safe='')}"
        )


def _records(session: Session, people: list[Person]) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(Answers.person_id, Answers.records)
        .join(Person, (Person.id == Answers.person_id) & (Answers.version == Person.version))
        .where(among(Person.id, [p.id for p in people]))
    ).all()
    return {person_id: records for person_id, records in rows}  # noqa: C416 (rows are tuples)


def _chosen(session: Session, organisation: Organisation, ids: Sequence[int] | None) -> list[Pair]:
    mentors = select(Person.id).where(Person.org_id == organisation.id)
    query = select(Pair).where((Pair.org_id == organisation.id) | Pair.mentor_id.in_(mentors))
    if ids is None:
        return list(session.scalars(query.where(Pair.status == PairStatus.active.value)))
    found = {p.id: p for p in session.scalars(query.where(among(Pair.id, ids)))}
    for pair_id in ids:
        if pair_id not in found:
            raise NotFound("pair", pair_id)
    return [found[i] for i in dict.fromkeys(ids)]


def _rows(
    session: Session, pairs: list[Pair], end_date: dt.date | None, zone: dt.tzinfo
) -> list[OrderRow]:
    people = [p.mentee for p in pairs] + [p.mentor for p in pairs]
    records = _records(session, people)
    rows = []
    first: dict[int | None, tuple[dt.datetime, int]] = {}
    for pair in sorted(pairs, key=lambda p: (p.started_at, p.id)):
        first.setdefault(pair.group_id, (pair.started_at, pair.id))
    # a group's members together, at its first member's place (docs/rules.md#order)
    for pair in sorted(
        pairs,
        key=lambda p: (
            first[p.group_id] if p.group_id is not None else (p.started_at, p.id),
            p.started_at,
            p.id,
        ),
    ):
        # the planned start (stored as the school's date), else the school's date of the start
        start = pair.planned_start or pair.started_at.astimezone(zone).date()
        # An imported name or post may hold a character a Word document cannot: it is dropped.
        rows.append(
            OrderRow(
                pair.id,
                without_control(pair.mentor.name or f"№ {pair.mentor_id}"),
                without_control(
                    post_of(pair.mentor.spec, "mentors", records.get(pair.mentor_id) or {})
                ),
                without_control(pair.mentee.name or f"№ {pair.mentee_id}"),
                without_control(
                    post_of(pair.mentee.spec, "mentees", records.get(pair.mentee_id) or {})
                ),
                form_title(pair.form),
                start,
                end_date or pair.planned_end or start + MAX_TERM - dt.timedelta(days=1),
                pair.group_id,
            )
        )
    return rows


def _problems(
    request: OrderRequest, pairs: list[Pair], rows: list[OrderRow]
) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []

    def problem(column: str, message: str, row: int | None = None, value: Any = None) -> None:
        problems.append({"row": row, "column": column, "value": value, "message": message})

    if not request.number.strip() or len(request.number.strip()) > 50:
        problem("Номер приказа", "нужен номер приказа (не длиннее 50 символов)", None, None)
    if not request.basis.strip() or len(request.basis) > 2000:
        problem("Основание", "нужно основание приказа (не длиннее 2000 символов)")
    if request.head is not None and len(request.head) > 200:
        problem("Руководитель", "не длиннее 200 символов")
    if not pairs:
        problem("Пары", "нет ни одной действующей пары для приказа")
    for pair in pairs:
        if pair.status != PairStatus.active.value:
            problem("Пары", f"пара № {pair.id} уже не действует", None, pair.id)
        # The head fixes pairs «с письменного согласия их участников» (docs/rules.md#order):
        # a pair whose consent is missing or withdrawn is not put into the order.
        missing = [
            f"{'наставника' if side == 'mentor' else 'наставляемого'} {person.name or 'без имени'}"
            for side, person in (("mentor", pair.mentor), ("mentee", pair.mentee))
            if not person.consent
        ]
        if missing:
            problem(
                "Пары",
                f"пара {pair.mentor.name or 'наставник'} — {pair.mentee.name or 'наставляемый'}: "
                f"нет согласия {' и '.join(missing)} (не записано или отозвано); такую пару "
                "нельзя закрепить приказом — снимите с неё отметку или запишите согласие",
                None,
                pair.id,
            )
    for k, row in enumerate(rows, start=1):
        if request.end_date is not None and not (
            row.start + MIN_TERM <= request.end_date <= row.start + MAX_TERM
        ):
            problem(
                "Дата окончания",
                f"пара начата {row.start:%d.%m.%Y}: наставничество длится от 1 месяца до 1 года, "
                f"окончание — с {row.start + MIN_TERM:%d.%m.%Y} по {row.start + MAX_TERM:%d.%m.%Y}",
                k,
                f"{request.end_date:%d.%m.%Y}",
            )
    return problems


def make_order(
    session: Session, actor: Actor, org: str, request: OrderRequest, zone: dt.tzinfo = dt.UTC
) -> Order:
    """Produce the order fixing the chosen active pairs of school ``org``; record it in the audit log.

    ``zone`` is the schools' time zone: a pair confirmed at 23:30 in Moscow starts that day.

    Raises
    ------
    NotFound
        When the school, or a chosen pair, is not one the actor may see.
    Invalid
        With every problem: no number or basis, no active pair, a pair no longer active, a pair
        whose mentor's or mentee's consent is missing or withdrawn, an end date outside 1 month
        to 1 year of a pair's start (``row`` is the line of the table).
    """
    organisation = organisation_for(session, actor, org)
    pairs = _chosen(session, organisation, request.pair_ids)
    rows = _rows(session, pairs, request.end_date, zone)
    problems = _problems(request, pairs, rows)
    if problems:
        raise Invalid(f"Приказ не сформирован: проблем — {len(problems)}.", problems)
    content = render(organisation.name, organisation.municipality, request, rows)
    record(
        session,
        actor,
        "order",
        "organisation",
        organisation.id,
        organisation.id,
        number=request.number.strip(),
        date=request.date.isoformat(),
        pairs=[row.pair_id for row in rows],
    )
    return Order(organisation.name, request.number.strip(), request.date, rows, content)


def render(
    school: str, municipality: str | None, request: OrderRequest, rows: list[OrderRow]
) -> bytes:
    """Return the DOCX file of the order."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(12)

    def centred(text: str, bold: bool = False) -> None:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).bold = bold

    school = without_control(school)
    municipality = without_control(municipality) if municipality else None
    centred(school, bold=True)
    centred("ПРИКАЗ", bold=True)
    centred(f"от {request.date:%d.%m.%Y}    № {request.number.strip()}")
    if municipality:
        centred(municipality)
    groups = any(len(line) > 1 for line in lines(rows))
    what = "наставнических пар и групп" if groups else "наставнических пар"
    centred(f"О закреплении {what}", bold=True)
    document.add_paragraph(f"В соответствии с {request.basis.strip()}")
    document.add_paragraph("ПРИКАЗЫВАЮ:")
    document.add_paragraph(
        f"1. Закрепить наставнические {'пары и группы' if groups else 'пары'} в следующем составе:"
    )
    _pairs_table(document, rows)
    document.add_paragraph(
        "2. Наставникам и наставляемым организовать работу по индивидуальным планам развития."
    )
    document.add_paragraph("3. Контроль за исполнением приказа оставляю за собой.")
    document.add_paragraph(f"Руководитель  ____________________  {request.head or ''}".rstrip())
    document.add_paragraph("С приказом ознакомлены:")
    _acquaintance_table(document, rows)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


ORDER_COLUMNS = (
    "№",
    "Наставник (ФИО, должность)",
    "Наставляемый (ФИО, должность или класс)",
    "Форма наставничества",
    "Дата начала",
    "Дата окончания",
)


def lines(rows: list[OrderRow]) -> list[list[OrderRow]]:
    """The lines of the order's table: a pair alone, or all members of one group together."""
    found: list[list[OrderRow]] = []
    at: dict[int, int] = {}
    for row in rows:
        if row.group_id is not None and row.group_id in at:
            found[at[row.group_id]].append(row)
            continue
        if row.group_id is not None:
            at[row.group_id] = len(found)
        found.append([row])
    return found


def _pairs_table(document: Any, rows: list[OrderRow]) -> None:
    grouped = lines(rows)
    table = document.add_table(rows=len(grouped) + 1, cols=len(ORDER_COLUMNS))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, ORDER_COLUMNS, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for k, members in enumerate(grouped, start=1):
        row = members[0]
        cells = table.rows[k].cells
        cells[0].text = str(k)
        cells[1].text = row.mentor
        cells[1].add_paragraph(row.mentor_post)
        if len(members) == 1:
            cells[2].text = row.mentee
            cells[2].add_paragraph(row.mentee_post)
            cells[3].text = row.form
        else:  # a group: every mentee on a line of their own
            cells[2].text = f"Группа ({len(members)} чел.):"
            for n, member in enumerate(members, start=1):
                cells[2].add_paragraph(f"{n}. {member.mentee}, {member.mentee_post}")
            cells[3].text = f"{row.form} (в группе)"
        starts = {m.start for m in members}
        ends = {m.end for m in members}
        cells[4].text = ", ".join(f"{d:%d.%m.%Y}" for d in sorted(starts))
        cells[5].text = ", ".join(f"{d:%d.%m.%Y}" for d in sorted(ends))


def _acquaintance_table(document: Any, rows: list[OrderRow]) -> None:
    names = list(dict.fromkeys([r.mentor for r in rows] + [r.mentee for r in rows]))
    table = document.add_table(rows=len(names), cols=3)
    for cells, name in zip((r.cells for r in table.rows), names, strict=True):
        cells[0].text = name
        cells[1].text = "____________________ (подпись)"
        cells[2].text = "«____» ______________ 20___ г."
