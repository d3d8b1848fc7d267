"""Three more orders of the head of a school as DOCX, like the order fixing pairs
(``service.monitoring.orders``; docs/rules.md#orders-more): appointing mentors (only those whose
written consent is recorded), appointing the curator of the programme, and replacing a mentor (the
pairs that replaced another, with the reason the earlier one ended).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Invalid, NotFound
from service.core.models import (
    CuratorAppointment,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Side,
)
from service.core.rules import END_REASONS
from service.core.security import Actor, organisation_for
from service.monitoring.orders import Order, _records
from service.people.questionnaires import post_of

__all__ = ["Heading", "appoint_curator", "appoint_mentors", "replace_mentors", "replaced_pairs"]


@dataclass(frozen=True)
class Heading:
    """What every order has: number, date, basis and the head who signs it."""

    number: str
    date: dt.date
    basis: str
    head: str | None = None


def _check_heading(heading: Heading) -> list[dict[str, Any]]:
    problems = []
    if not heading.number.strip() or len(heading.number.strip()) > 50:
        problems.append(
            {
                "row": None,
                "column": "Номер приказа",
                "value": None,
                "message": "нужен номер приказа (не длиннее 50 символов)",
            }
        )
    if not heading.basis.strip() or len(heading.basis) > 2000:
        problems.append(
            {
                "row": None,
                "column": "Основание",
                "value": None,
                "message": "нужно основание приказа (не длиннее 2000 символов)",
            }
        )
    if heading.head is not None and len(heading.head) > 200:
        problems.append(
            {"row": None, "column": "Руководитель", "value": None, "message": "не длиннее 200"}
        )
    return problems


def _document(
    school: Organisation, heading: Heading, title: str, body: Callable[[Any], None]
) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(12)

    def centred(text: str, bold: bool = False) -> None:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).bold = bold

    centred(school.name, bold=True)
    centred("ПРИКАЗ", bold=True)
    centred(f"от {heading.date:%d.%m.%Y}    № {heading.number.strip()}")
    if school.municipality:
        centred(school.municipality)
    centred(title, bold=True)
    document.add_paragraph(f"В соответствии с {heading.basis.strip()}")
    document.add_paragraph("ПРИКАЗЫВАЮ:")
    body(document)
    document.add_paragraph(f"Руководитель  ____________________  {heading.head or ''}".rstrip())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=len(rows) + 1, cols=len(header))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for cells, row in zip((r.cells for r in table.rows[1:]), rows, strict=True):
        for cell, value in zip(cells, row, strict=True):
            cell.text = value


def _signatures(document: Any, names: Sequence[str]) -> None:
    document.add_paragraph("С приказом ознакомлены:")
    table = document.add_table(rows=len(names), cols=3)
    for cells, name in zip((r.cells for r in table.rows), names, strict=True):
        cells[0].text = name
        cells[1].text = "____________________ (подпись)"
        cells[2].text = "«____» ______________ 20___ г."


def _name(person: Person) -> str:
    return person.name or f"№ {person.id}"


def _fail(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise Invalid(f"Приказ не сформирован: проблем — {len(problems)}.", problems)


# -- appointing mentors -------------------------------------------------------------------------


def appoint_mentors(
    session: Session, actor: Actor, org: str, heading: Heading, mentor_ids: Sequence[int]
) -> Order:
    """The order appointing mentors of school ``org``; every mentor needs a recorded consent.

    Raises
    ------
    NotFound
        A mentor who is not one of the school's.
    Invalid
        With every problem: no number or basis, no mentor, a mentor without written consent.
    """
    school = organisation_for(session, actor, org)
    found = {
        p.id: p
        for p in session.scalars(
            select(Person).where(
                Person.id.in_(list(mentor_ids)),
                Person.org_id == school.id,
                Person.side == Side.mentor.value,
            )
        )
    }
    for mentor_id in mentor_ids:
        if mentor_id not in found:
            raise NotFound("mentor", mentor_id)
    mentors = [found[i] for i in dict.fromkeys(mentor_ids)]
    problems = _check_heading(heading)
    if not mentors:
        problems.append(
            {"row": None, "column": "Наставники", "value": None, "message": "отметьте наставников"}
        )
    for k, mentor in enumerate(mentors, start=1):
        if not mentor.consent:
            problems.append(
                {
                    "row": k,
                    "column": "Наставники",
                    "value": mentor.name,
                    "message": f"нет письменного согласия наставника {_name(mentor)}: "
                    "назначить можно только с его согласия",
                }
            )
    _fail(problems)
    records = _records(session, mentors)
    rows = [
        [
            str(k),
            m.name or f"№ {m.id}",
            post_of(m.spec, "mentors", records.get(m.id) or {}),
            str(m.places()),
        ]
        for k, m in enumerate(mentors, start=1)
    ]

    def body(document: Any) -> None:
        document.add_paragraph(
            "1. Назначить наставниками с их письменного согласия следующих работников "
            "(обучающихся, специалистов):"
        )
        _table(document, ["№", "ФИО", "Должность (класс)", "Наставляемых не более"], rows)
        document.add_paragraph(
            "2. Наставникам разработать персонализированные программы наставничества."
        )
        document.add_paragraph("3. Контроль за исполнением приказа оставляю за собой.")
        _signatures(document, [r[1] for r in rows])

    content = _document(school, heading, "О назначении наставников", body)
    record(
        session,
        actor,
        "order",
        "organisation",
        school.id,
        school.id,
        kind="mentors",
        number=heading.number.strip(),
        date=heading.date.isoformat(),
        mentors=[m.id for m in mentors],
    )
    return Order(school.name, heading.number.strip(), heading.date, [], content)


# -- appointing the curator ---------------------------------------------------------------------


def appoint_curator(
    session: Session, actor: Actor, org: str, heading: Heading, name: str, post: str
) -> Order:
    """The order appointing the curator of the mentoring programme of school ``org``."""
    school = organisation_for(session, actor, org)
    problems = _check_heading(heading)
    for value, column in ((name, "ФИО куратора"), (post, "Должность куратора")):
        if not value.strip() or len(value) > 300:
            problems.append(
                {
                    "row": None,
                    "column": column,
                    "value": value,
                    "message": "нужно (до 300 символов)",
                }
            )
    _fail(problems)

    def body(document: Any) -> None:
        document.add_paragraph(
            f"1. Назначить куратором реализации программ наставничества {name.strip()}, "
            f"{post.strip()}."
        )
        document.add_paragraph(
            "2. Куратору организовать отбор наставников и наставляемых, формирование пар, "
            "мониторинг и оценку реализации программ наставничества."
        )
        document.add_paragraph("3. Контроль за исполнением приказа оставляю за собой.")
        _signatures(document, [name.strip()])

    content = _document(
        school, heading, "О назначении куратора реализации программ наставничества", body
    )
    session.add(  # the municipal base of curators lists them (docs/rules.md#bases)
        CuratorAppointment(
            org_id=school.id,
            name=name.strip(),
            post=post.strip(),
            order_number=heading.number.strip(),
            appointed_on=heading.date,
            user_id=actor.user_id,
        )
    )
    session.flush()
    record(
        session,
        actor,
        "order",
        "organisation",
        school.id,
        school.id,
        kind="curator",
        number=heading.number.strip(),
        date=heading.date.isoformat(),
    )
    return Order(school.name, heading.number.strip(), heading.date, [], content)


# -- replacing a mentor -------------------------------------------------------------------------


def replaced_pairs(session: Session, actor: Actor, org: str) -> list[Pair]:
    """Active pairs of school ``org`` that replaced an earlier pair's mentor, newest first."""
    school = organisation_for(session, actor, org)
    return list(
        session.scalars(
            select(Pair)
            .where(
                Pair.org_id == school.id,
                Pair.previous_pair_id.is_not(None),
                Pair.status == PairStatus.active.value,
            )
            .order_by(Pair.started_at.desc(), Pair.id.desc())
        )
    )


def replace_mentors(
    session: Session,
    actor: Actor,
    org: str,
    heading: Heading,
    pair_ids: Sequence[int] | None,
    zone: dt.tzinfo = dt.UTC,
) -> Order:
    """The order replacing mentors: each chosen pair (all replaced pairs when None) with the
    earlier mentor, the new one, the reason and the date (docs/rules.md#replacement).

    Raises
    ------
    NotFound
        A pair that is not one of the school's.
    Invalid
        With every problem: no number or basis, no pair, a pair that replaced no one.
    """
    school = organisation_for(session, actor, org)
    if pair_ids is None:
        pairs = replaced_pairs(session, actor, org)
    else:
        found = {
            p.id: p
            for p in session.scalars(
                select(Pair).where(Pair.id.in_(list(pair_ids)), Pair.org_id == school.id)
            )
        }
        for pair_id in pair_ids:
            if pair_id not in found:
                raise NotFound("pair", pair_id)
        pairs = [found[i] for i in dict.fromkeys(pair_ids)]
    problems = _check_heading(heading)
    if not pairs:
        problems.append(
            {
                "row": None,
                "column": "Пары",
                "value": None,
                "message": "нет пар с заменой наставника",
            }
        )
    for k, pair in enumerate(pairs, start=1):
        if pair.previous_pair_id is None:
            problems.append(
                {
                    "row": k,
                    "column": "Пары",
                    "value": pair.id,
                    "message": f"у наставляемого {pair.mentee.name} в паре № {pair.id} наставник "
                    "не заменялся",
                }
            )
    _fail(problems)
    earlier = {
        p.id: p
        for p in session.scalars(
            select(Pair).where(Pair.id.in_([p.previous_pair_id for p in pairs]))
        )
    }
    rows = []
    for k, pair in enumerate(pairs, start=1):
        old = earlier[pair.previous_pair_id or 0]
        rows.append(
            [
                str(k),
                pair.mentee.name or f"№ {pair.mentee_id}",
                old.mentor.name or f"№ {old.mentor_id}",
                pair.mentor.name or f"№ {pair.mentor_id}",
                END_REASONS.get(old.end_reason or "", old.end_reason or ""),
                f"{pair.started_at.astimezone(zone):%d.%m.%Y}",
            ]
        )

    def body(document: Any) -> None:
        document.add_paragraph("1. Произвести замену наставников в следующих парах:")
        _table(
            document,
            ["№", "Наставляемый", "Прежний наставник", "Новый наставник", "Причина", "С даты"],
            rows,
        )
        document.add_paragraph("2. Контроль за исполнением приказа оставляю за собой.")
        _signatures(document, list(dict.fromkeys([r[1] for r in rows] + [r[3] for r in rows])))

    content = _document(school, heading, "О замене наставника", body)
    record(
        session,
        actor,
        "order",
        "organisation",
        school.id,
        school.id,
        kind="replacement",
        number=heading.number.strip(),
        date=heading.date.isoformat(),
        pairs=[p.id for p in pairs],
    )
    return Order(school.name, heading.number.strip(), heading.date, [], content)
