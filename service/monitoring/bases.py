"""The bases of mentees, of mentors and of curators (База наставляемых, База наставников, база
кураторов) as XLSX workbooks, for a school or combined for a municipality or a region, and a
programme year (docs/rules.md#bases).

A person is in the base of a year when they had a pair during the year, or never had one and entered
the programme before the year ended (they still wait). Each pair of the year is one line
(a mentor's line names all their mentees of the year); the results of a pair that ended are written
in: the reason it ended, the satisfaction its side gave and both sides' final reports. A mentor's
category (teacher, specialist of an enterprise, pupil, student) is their questionnaire's answer (or
the form of their pairs); a specialist's place of work is their own organisation. A municipality's
or region's base of mentors has a sheet per category too (docs/rules.md#bases). The base of curators lists
each school's curator as the order appointing them named them. Text that a spreadsheet would read as a
formula (starting with ``=``, ``+``, ``-`` or ``@``) is stored as text.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from features.numbers import number
from features.text import in_sentence
from service.core.models import (
    Answers,
    CuratorAppointment,
    Feedback,
    FinalReport,
    Organisation,
    Pair,
    Person,
    Role,
    Side,
    User,
)
from service.core.rules import (
    END_REASONS,
    FORM_CATEGORIES,
    MENTOR_CATEGORIES,
    MENTOR_ROLE_CATEGORIES,
    form_title,
    programme_year_bounds,
)
from service.core.security import Actor
from service.monitoring.indicators import scope_orgs
from service.monitoring.surveys import satisfaction_value
from service.people.questionnaires import load_spec_named

__all__ = ["CURATOR_COLUMNS", "MEDIA_TYPE", "MENTEE_COLUMNS", "MENTOR_COLUMNS", "Base", "base"]

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
    "Категория наставника",
    "Образовательная организация",
)

#: docs/rules.md#bases — «база кураторов образовательных организаций» (its form is not in the sources we hold).
CURATOR_COLUMNS = (
    "№",
    "Образовательная организация",
    "Муниципалитет",
    "ФИО куратора",
    "Должность",
    "Приказ о назначении",
    "Куратор в учебном году",
    "Учётных записей кураторов в сервисе",
)

#: The sheets of a municipality's or region's base of mentors, one per category (docs/rules.md#bases).
_CATEGORY_SHEETS = {
    "teachers": "Педагоги",
    "professionals": "Предприятия и организации",
    "pupils": "Обучающиеся",
    "students": "Студенты",
}

_REQUESTS = ("goals", "subjects", "difficulties", "expectations")
_COMPETENCES = ("competences", "help", "subjects")
_WANTED = ("wanted_grades", "wanted_mentee")
_FORMULA = ("=", "+", "-", "@")
_WIDTHS = (5, 30, 28, 12, 40, 14, 30, 30, 24, 30, 14, 40, 24, 30)
_REPORT_CHARS = 300


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
        # choice labels inside a list read as in a sentence: «ИКТ; здоровьесбережение;
        # обществознание», not «…; Обществознание» (the subjects' labels are capitalised)
        if isinstance(value, dict):  # a Likert grid: item -> level
            words += [
                in_sentence(question.label_of(item))
                for item, level in value.items()
                if level not in (None, "never", 0)
            ]
        elif isinstance(value, list):
            words += [in_sentence(question.label_of(str(v))) for v in value]
        elif question.choices:
            words.append(in_sentence(question.label_of(str(value))))
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


def _result(
    pair: Pair,
    scores: dict[tuple[int, str], list[float]],
    side: str,
    reports: dict[int, dict[str, str]] | None = None,
) -> str:
    """What the pair gave its ``side``: the reason it ended, that side's satisfaction and both
    sides' final reports (000 roadmap 26: results are entered into the bases when a pair ends)."""
    if pair.ended_at is None:
        return "пара действует"
    words = [END_REASONS.get(pair.end_reason or "", pair.end_reason or "пара завершена")]
    values = scores.get((pair.id, side))
    if values:
        mean = sum(values) / len(values)
        words.append(f"удовлетворённость {number(mean)} из 10")
    written = (reports or {}).get(pair.id, {})
    for author, title in ((Side.mentee.value, "наставляемого"), (Side.mentor.value, "наставника")):
        if written.get(author):
            words.append(f"итоговый отчёт {title}: {written[author]}")
    return "; ".join(words)


def _report_text(text: str, score: int | None) -> str:
    short = " ".join(text.split())
    if len(short) > _REPORT_CHARS:
        short = short[: _REPORT_CHARS - 1].rstrip() + "…"
    return f"«{short}»" + (f" (оценка {score} из 10)" if score else "")


def _category(part: Any, records: dict[str, Any], pairs: Sequence[Pair]) -> str | None:
    """The category of a mentor (docs/rules.md#bases): their answer, else their pairs' form."""
    role = records.get(part.fields.role) if part.fields.role else None
    if isinstance(role, str) and role in MENTOR_ROLE_CATEGORIES:
        return MENTOR_ROLE_CATEGORIES[role]
    for pair in pairs:
        if pair.form in FORM_CATEGORIES:
            return FORM_CATEGORIES[pair.form][0]
    return None


def _workplace(part: Any, records: dict[str, Any], category: str | None, school: str) -> str:
    """A mentor's place of work: an enterprise's specialist's own organisation, else the school."""
    if category == "professionals" and part.fields.organisation:
        named = records.get(part.fields.organisation)
        if isinstance(named, str) and named.strip():
            return named.strip()
    return school


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
    reports: dict[int, dict[str, str]] = defaultdict(dict)
    for pair_id, author, text, score in session.execute(
        select(FinalReport.pair_id, FinalReport.author, FinalReport.text, FinalReport.score)
        .where(FinalReport.pair_id.in_([p.id for p in pairs]))
        .order_by(FinalReport.id)
    ):
        reports[pair_id][author] = _report_text(text, score)
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
                mentor_place = ""
                if mentor is not None and line is not None:
                    theirs = load_spec_named(mentor.spec).side("mentors")
                    given = dict(records.get(mentor.id) or {})
                    mentor_place = _workplace(
                        theirs,
                        given,
                        _category(theirs, given, [line]),
                        other_orgs.get(mentor.org_id, ""),
                    )
                rows.append(
                    [
                        len(rows) + 1,
                        person.name or person.external_id,
                        _contacts(person, answers),
                        "" if age is None else age,
                        _text(part, answers, _REQUESTS),
                        entered,
                        (mentor.name or mentor.external_id) if mentor else "ждёт наставника",
                        mentor_place,
                        form_title(line.form) if line else "",
                        names[person.org_id],
                        _day(line.ended_at, zone) if line else "",
                        _result(line, scores, Side.mentee.value, reports) if line else "",
                    ]
                )
        else:
            mentees = [other_people[p.mentee_id] for p in of_year]
            category = _category(part, answers, of_year)
            rows.append(
                [
                    len(rows) + 1,
                    person.name or person.external_id,
                    _contacts(person, answers),
                    _workplace(part, answers, category, names[person.org_id]),
                    _text(part, answers, _COMPETENCES),
                    _text(part, answers, ("interests",)),
                    _text(part, answers, _WANTED),
                    entered,
                    "; ".join(m.name or m.external_id for m in mentees),
                    "; ".join(dict.fromkeys(form_title(p.form) for p in of_year)),
                    "; ".join(
                        f"{m.name or m.external_id}: "
                        f"{_result(p, scores, Side.mentor.value, reports)}"
                        for p, m in zip(of_year, mentees, strict=True)
                    ),
                    MENTOR_CATEGORIES.get(category or "", ""),
                    names[person.org_id],
                    category,  # not a column: the sheet of the category (removed on writing)
                ]
            )
    return rows


def _sheet(sheet: Any, title: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

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
    for k, width in enumerate(_WIDTHS[: len(columns)], start=1):
        sheet.column_dimensions[get_column_letter(k)].width = width
    sheet.freeze_panes = "A3"


def _xlsx(
    title: str,
    columns: Sequence[str],
    rows: list[list[Any]],
    more: Sequence[tuple[str, list[list[Any]]]] = (),
) -> bytes:
    """A workbook: the sheet «База» with every line, then a sheet for each of ``more``."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "База"
    _sheet(sheet, title, columns, rows)
    for name, lines in more:
        _sheet(book.create_sheet(name), f"{title}: {name.lower()}", columns, lines)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _curators(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo
) -> list[list[Any]]:
    """One line per curator of each school in the year (the one appointed before it and those
    appointed during it), or a line saying none was appointed."""
    first, after = programme_year_bounds(year)
    ids = [o.id for o in orgs]
    appointed: dict[int, list[CuratorAppointment]] = defaultdict(list)
    for made in session.scalars(
        select(CuratorAppointment)
        .where(CuratorAppointment.org_id.in_(ids), CuratorAppointment.appointed_on < after)
        .order_by(CuratorAppointment.appointed_on, CuratorAppointment.id)
    ):
        appointed[made.org_id].append(made)
    accounts = dict(
        session.execute(
            select(User.org_id, func.count(User.id))
            .where(User.org_id.in_(ids), User.role == Role.curator.value, User.active.is_(True))
            .group_by(User.org_id)
        ).all()
    )
    rows: list[list[Any]] = []
    for org in sorted(orgs, key=lambda o: (o.municipality or "", o.name)):
        history = appointed.get(org.id, [])
        # the curator on the year's first day, and everyone appointed during the year
        since = [k for k, a in enumerate(history) if a.appointed_on <= first]
        start = since[-1] if since else 0
        lines = history[start:]
        if not lines:
            rows.append([len(rows) + 1, org.name, org.municipality or "", "не назначен приказом",
                         "", "", "", accounts.get(org.id, 0)])  # fmt: skip
            continue
        successors = [*(later.appointed_on for later in lines[1:]), None]
        for made, successor in zip(lines, successors, strict=True):
            period = f"с {made.appointed_on:%d.%m.%Y}"
            if successor is not None:
                period += f" по {successor:%d.%m.%Y}"
            rows.append([len(rows) + 1, org.name, org.municipality or "", made.name, made.post,
                         f"№ {made.order_number} от {made.appointed_on:%d.%m.%Y}", period,
                         accounts.get(org.id, 0)])  # fmt: skip
    return rows


_HEADINGS = {
    Side.mentee.value: ("База наставляемых", "mentees", MENTEE_COLUMNS),
    Side.mentor.value: ("База наставников", "mentors", MENTOR_COLUMNS),
    "curator": ("База кураторов", "curators", CURATOR_COLUMNS),
}


def base(
    session: Session, actor: Actor, scope: str, name: str, side: str, year: int, zone: tzinfo
) -> Base:
    """Return the base of mentees, mentors or curators (``side``: ``mentee``, ``mentor``,
    ``curator``) of a school, a municipality or a region (``scope``; for a school ``name`` is its
    code) for a programme year.

    A municipality's or region's base of mentors has a sheet per category of mentors as well
    (docs/rules.md#bases: teachers, enterprises and organisations, pupils).
    """
    from service.core.rules import programme_year_label

    orgs, title = scope_orgs(session, actor, scope, name)
    heading, english, columns = _HEADINGS[side]
    more: list[tuple[str, list[list[Any]]]] = []
    if side == "curator":
        rows = _curators(session, orgs, year, zone)
    else:
        rows = _read(session, orgs, year, zone, side)
    if side == Side.mentor.value:
        categories = [row.pop() for row in rows]
        if scope != "school":
            for key, sheet in _CATEGORY_SHEETS.items():
                lines = [[*row] for row, c in zip(rows, categories, strict=True) if c == key]
                for k, line in enumerate(lines, start=1):
                    line[0] = k
                more.append((sheet, lines))
    full = f"{heading}: {title}, {programme_year_label(year)}"
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-") or "base"
    return Base(full, rows, _xlsx(full, columns, rows, more), f"base-{english}-{safe}-{year}.xlsx")
