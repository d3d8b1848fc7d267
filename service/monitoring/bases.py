"""The bases of mentees and of mentors (База наставляемых, База наставников) as XLSX workbooks, for
a school or combined for a municipality, and a programme year (docs/rules.md#bases).

A person is in the base of a year when they had a pair during the year, or never had one and entered
the programme before the year ended (they still wait). Each pair of the year is one line
(a mentor's line names all their mentees of the year); the results of a pair that ended are written
in: the reason it ended and the satisfaction its side gave. Text that a spreadsheet would read as a
formula (starting with ``=``, ``+``, ``-`` or ``@``) is stored as text.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import Answers, Feedback, Organisation, Pair, Person, Side
from service.core.rules import END_REASONS, form_title, programme_year_bounds
from service.core.security import Actor
from service.monitoring.indicators import scope_orgs
from service.monitoring.surveys import satisfaction_value
from service.people.questionnaires import load_spec_named

__all__ = ["MEDIA_TYPE", "MENTEE_COLUMNS", "MENTOR_COLUMNS", "Base", "base"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: DOMAIN.md «База наставляемых».
MENTEE_COLUMNS = (
    "№",
    "ФИО наставляемого",
    "Контакты",
    "Возраст",
    "Ключевые запросы",
    "Дата вхождения в программу",
    "ФИО наставника",
    "Место работы наставника",
    "Форма наставничества",
    "Место работы/учёбы наставляемого",
    "Дата завершения",
    "Результаты",
)

#: DOMAIN.md «База наставников».
MENTOR_COLUMNS = (
    "№",
    "ФИО наставника",
    "Контакты",
    "Место работы",
    "Ключевые компетенции",
    "Интересы",
    "Желаемый возраст (класс) наставляемых",
    "Дата вхождения в программу",
    "ФИО наставляемых",
    "Форма наставничества",
    "Результаты",
)

_REQUESTS = ("goals", "subjects", "difficulties", "expectations")
_COMPETENCES = ("competences", "help", "subjects")
_WANTED = ("wanted_grades", "wanted_mentee")
_FORMULA = ("=", "+", "-", "@")
_WIDTHS = (5, 30, 28, 12, 40, 14, 30, 30, 24, 30, 14, 40)


@dataclass(frozen=True)
class Base:
    """A produced base: its title, lines and the XLSX file."""

    title: str
    rows: list[list[Any]]
    content: bytes
    filename: str


def _text(part: Any, records: dict[str, Any], keys: Sequence[str]) -> str:
    """Return the answers of ``keys`` in words: choice labels, Likert items answered above 0."""
    words: list[str] = []
    for key in keys:
        value = records.get(key)
        if value in (None, "", [], {}) or not part.has(key):
            continue
        question = part.question(key)
        if isinstance(value, dict):  # a Likert grid: item -> level
            words += [
                question.label_of(item)
                for item, level in value.items()
                if level not in (None, "never", 0)
            ]
        elif isinstance(value, list):
            words += [question.label_of(str(v)) for v in value]
        elif question.choices:
            words.append(question.label_of(str(value)))
        else:
            words.append(str(value))
    return "; ".join(dict.fromkeys(w for w in words if w))


def _contacts(person: Person, records: dict[str, Any]) -> str:
    found = [person.external_id] if "@" in person.external_id else []
    if records.get("parent_contact"):
        found.append(f"родитель: {records['parent_contact']}")
    return "; ".join(found)


def _day(moment: datetime | None, zone: tzinfo) -> str:
    return "" if moment is None else f"{moment.astimezone(zone):%d.%m.%Y}"


def _result(pair: Pair, scores: dict[tuple[int, str], list[float]], side: str) -> str:
    if pair.ended_at is None:
        return "пара действует"
    words = [END_REASONS.get(pair.end_reason or "", pair.end_reason or "пара завершена")]
    values = scores.get((pair.id, side))
    if values:
        mean = sum(values) / len(values)
        words.append(f"удовлетворённость {mean:.1f} из 10".replace(".", ","))
    return "; ".join(words)


def _read(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo, side: str
) -> list[list[Any]]:
    first, after = programme_year_bounds(year)
    start, end = datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)
    ids = [o.id for o in orgs]
    names = {o.id: o.name for o in orgs}
    people = session.scalars(
        select(Person)
        .where(Person.org_id.in_(ids), Person.side == side)
        .order_by(Person.org_id, Person.name, Person.id)
    ).all()
    own = Pair.mentee_id if side == Side.mentee.value else Pair.mentor_id
    pairs = session.scalars(
        select(Pair).where(own.in_([p.id for p in people])).order_by(Pair.started_at, Pair.id)
    ).all()
    by_person: dict[int, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_person[getattr(pair, own.key)].append(pair)
    others = {p.mentor_id if side == Side.mentee.value else p.mentee_id for p in pairs}
    everyone = {*others, *(p.id for p in people)}
    records: dict[int, dict[str, Any]] = dict(
        session.execute(
            select(Answers.person_id, Answers.records)
            .join(Person, (Person.id == Answers.person_id) & (Answers.version == Person.version))
            .where(Person.id.in_(everyone))
        ).all()
    )
    other_people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(others)))}
    other_orgs = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_({p.org_id for p in other_people.values()})
            )
        ).all()
    )
    scores: dict[tuple[int, str], list[float]] = defaultdict(list)
    for pair_id, author, score, answers in session.execute(
        select(Feedback.pair_id, Feedback.author, Feedback.score, Feedback.answers).where(
            Feedback.kind == "satisfaction", Feedback.pair_id.in_([p.id for p in pairs])
        )
    ):
        value = satisfaction_value(score, answers)
        if value is not None:
            scores[(pair_id, author)].append(value)
    rows: list[list[Any]] = []
    for person in people:
        mine = by_person.get(person.id, [])
        of_year = [
            p for p in mine if p.started_at < end and (p.ended_at is None or p.ended_at >= start)
        ]
        if (mine and not of_year) or (not mine and person.entered_at >= end):
            continue  # their pairs belong to other years, or they came later
        answers = dict(records.get(person.id) or {})
        part = load_spec_named(person.spec).side(f"{side}s")
        age = answers.get(part.fields.age) if part.fields.age else None
        entered = _day(person.entered_at, zone)
        if side == Side.mentee.value:
            lines: list[Pair | None] = [*of_year] or [None]
            for line in lines:
                mentor = other_people.get(line.mentor_id) if line else None
                rows.append(
                    [
                        len(rows) + 1,
                        person.name or person.external_id,
                        _contacts(person, answers),
                        "" if age is None else age,
                        _text(part, answers, _REQUESTS),
                        entered,
                        (mentor.name or mentor.external_id) if mentor else "ждёт наставника",
                        other_orgs.get(mentor.org_id, "") if mentor else "",
                        form_title(line.form) if line else "",
                        names[person.org_id],
                        _day(line.ended_at, zone) if line else "",
                        _result(line, scores, Side.mentee.value) if line else "",
                    ]
                )
        else:
            mentees = [other_people[p.mentee_id] for p in of_year]
            rows.append(
                [
                    len(rows) + 1,
                    person.name or person.external_id,
                    _contacts(person, answers),
                    names[person.org_id],
                    _text(part, answers, _COMPETENCES),
                    _text(part, answers, ("interests",)),
                    _text(part, answers, _WANTED),
                    entered,
                    "; ".join(m.name or m.external_id for m in mentees),
                    "; ".join(dict.fromkeys(form_title(p.form) for p in of_year)),
                    "; ".join(
                        f"{m.name or m.external_id}: {_result(p, scores, Side.mentor.value)}"
                        for p, m in zip(of_year, mentees, strict=True)
                    ),
                ]
            )
    return rows


def _xlsx(title: str, columns: Sequence[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "База"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(columns))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA):
                cell.data_type = "s"  # text, never a formula
    for letter, width in zip("ABCDEFGHIJKL", _WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def base(
    session: Session, actor: Actor, scope: str, name: str, side: str, year: int, zone: tzinfo
) -> Base:
    """Return the base of mentees or mentors (``side``) of a school or a municipality for a year.

    ``scope`` is ``"school"`` (``name`` is its code) or ``"municipality"``.
    """
    from service.core.rules import programme_year_label

    orgs, title = scope_orgs(session, actor, scope, name)
    rows = _read(session, orgs, year, zone, side)
    heading = "База наставляемых" if side == Side.mentee.value else "База наставников"
    columns = MENTEE_COLUMNS if side == Side.mentee.value else MENTOR_COLUMNS
    full = f"{heading}: {title}, {programme_year_label(year)}"
    english = "mentees" if side == Side.mentee.value else "mentors"
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-") or "base"
    return Base(full, rows, _xlsx(full, columns, rows), f"base-{english}-{safe}-{year}.xlsx")
