"""Counts of participants for the federal statistics forms (формы федерального статистического
наблюдения: the curator "fixes the number of participants of the programmes in the statistics
forms") per school, municipality and region and per programme year,
from what is stored (docs/rules.md#statistics).

Who counts, for a school and a programme year (each person at their own school and each pair at its
mentee's school, so that a municipality is the sum of its schools; only the enterprises are counted
once however many schools they give mentors to):

- a person counts when they had a pair going on at least one day of the year; their category
  (pupil, teacher, student, specialist of an enterprise) is the one the form of their pair fixes
  (``rules.FORM_CATEGORIES``, DOMAIN.md's table of forms); a pair of a form of a school's own spec
  counts in the totals only;
- the ages and the young specialists are read from the answers, as the indicators read them
  (``indicators``): these lines are the indicators' numerators;
- a pair counts in the year it went on; started, completed (the programme finished), ended early
  (any other reason, a mentor's replacement included) and going on at the year's end are counted
  by their dates; a virtual pair has its mentor at another school;
- the denominators are what the schools entered for the year (``indicators``).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.core.models import Organisation, Pair, Person
from service.core.rules import (
    FORM_CATEGORIES,
    form_title,
    programme_year_bounds,
    programme_year_label,
)
from service.core.security import Actor
from service.monitoring.indicators import DENOMINATOR_TITLES, scope_orgs, year_counts
from service.monitoring.schemas import (
    FormStatistics,
    StatisticCount,
    StatisticsPublic,
    UnitStatistics,
)

__all__ = [
    "COUNTS",
    "MEDIA_TYPE",
    "SECTIONS",
    "StatisticsFile",
    "statistics",
    "statistics_file",
]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_PUPIL_FORMS = "«ученик – ученик», «студент – ученик», «работодатель – ученик»"
_TEACHER_FORMS = "«педагог – педагог», «руководитель ОО – педагог»"

#: Each count: key -> (section, Russian title, how it is counted). The order is the table's.
COUNTS: dict[str, tuple[str, str, str]] = {
    "mentees": (
        "mentees",
        "Наставляемых — всего",
        "Наставляемые школы, у которых в учебном году была пара (хотя бы один день).",
    ),
    "mentees_pupils": (
        "mentees",
        "в том числе обучающихся",
        f"Наставляемые в парах форм {_PUPIL_FORMS}.",
    ),
    "mentees_pupils_10_19": (
        "mentees",
        "из них в возрасте 10–19 лет",
        "Наставляемые по анкете обучающихся в возрасте от 10 до 19 лет (числитель показателя 1).",
    ),
    "mentees_teachers": (
        "mentees",
        "в том числе педагогов",
        f"Наставляемые в парах форм {_TEACHER_FORMS} (персонализированные программы "
        "наставничества педагогических работников).",
    ),
    "mentees_young_teachers": (
        "mentees",
        "из них молодых специалистов (стаж до 3 лет)",
        "Наставляемые по анкете педагогов со стажем не больше 3 лет, кроме студентов-практикантов "
        "(числитель показателя 3).",
    ),
    "mentees_students": (
        "mentees",
        "в том числе студентов педвузов и колледжей (практикантов)",
        "Наставляемые в парах формы «работодатель – студент педвуза/колледжа».",
    ),
    "mentors": (
        "mentors",
        "Наставников — всего",
        "Наставники школы, у которых в учебном году была пара (хотя бы один день).",
    ),
    "mentors_teachers": (
        "mentors",
        "в том числе педагогов и руководителей ОО",
        f"Наставники в парах форм {_TEACHER_FORMS}, «работодатель – студент педвуза/колледжа».",
    ),
    "mentors_pupils": (
        "mentors",
        "в том числе обучающихся",
        "Наставники в парах формы «ученик – ученик».",
    ),
    "mentors_pupils_15_19": (
        "mentors",
        "из них в возрасте 15–19 лет",
        "Наставники, ответившие в анкете «ученик», в возрасте от 15 до 19 лет (числитель "
        "показателя 2).",
    ),
    "mentors_students": (
        "mentors",
        "в том числе студентов колледжей и вузов",
        "Наставники в парах формы «студент – ученик».",
    ),
    "mentors_professionals": (
        "mentors",
        "в том числе специалистов предприятий и организаций",
        "Наставники в парах формы «работодатель – ученик».",
    ),
    "enterprises": (
        "mentors",
        "Предприятий (организаций), предоставивших наставников",
        "Различные предприятия, названные наставниками — специалистами предприятий; в "
        "муниципалитете и регионе каждое считается один раз (числитель показателя 4).",
    ),
    "pairs": (
        "pairs",
        "Наставнических пар — всего",
        "Пары, которые шли хотя бы один день учебного года; пара считается в школе наставляемого.",
    ),
    "pairs_started": ("pairs", "в том числе начатых в учебном году", "Дата начала в учебном году."),
    "pairs_completed": (
        "pairs",
        "завершённых в учебном году (программа выполнена)",
        "Пары, завершённые в учебном году с причиной «программа наставничества завершена».",
    ),
    "pairs_ended_early": (
        "pairs",
        "прекращённых досрочно в учебном году",
        "Пары, прекращённые в учебном году по другой причине, включая замену наставника.",
    ),
    "pairs_continuing": (
        "pairs",
        "продолжающихся на конец учебного года",
        "Пары, не завершённые до 31 августа (для текущего года — на сегодня и дальше).",
    ),
    "pairs_virtual": (
        "pairs",
        "виртуальных (наставник из другой организации)",
        "Пары, в которых наставник — участник другой школы.",
    ),
} | {
    f"total_{key}": (
        "denominators",
        f"{title} — всего в организациях",
        "Знаменатель показателей, введённый школой на учебный год; в муниципалитете и регионе — "
        "сумма по школам, которые его ввели.",
    )
    for key, title in DENOMINATOR_TITLES.items()
}

_CATEGORY_KEYS = {
    "mentees": {"pupils": "mentees_pupils", "teachers": "mentees_teachers",
                "students": "mentees_students"},
    "mentors": {"pupils": "mentors_pupils", "teachers": "mentors_teachers",
                "students": "mentors_students", "professionals": "mentors_professionals"},
}  # fmt: skip


@dataclass
class _Tally:
    """What one unit counts: people, pairs and enterprises as sets, so that units add up."""

    sets: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    forms: dict[str, dict[str, set[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    denominators: dict[str, int] = field(default_factory=dict)
    without_denominators: int = 0

    def add(self, other: _Tally) -> None:
        for key, values in other.sets.items():
            self.sets[key] |= values
        for form, metrics in other.forms.items():
            for key, ids in metrics.items():
                self.forms[form][key] |= ids
        for key, value in other.denominators.items():
            self.denominators[key] = self.denominators.get(key, 0) + value
        self.without_denominators += other.without_denominators

    def value(self, key: str) -> int | None:
        if key.startswith("total_"):
            return self.denominators.get(key.removeprefix("total_"))
        return len(self.sets.get(key, ()))


def _tallies(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo
) -> dict[int, _Tally]:
    """Return what each school of ``orgs`` counts in programme year ``year``."""
    ids = [o.id for o in orgs]
    result = {o.id: _Tally() for o in orgs}
    first, after = programme_year_bounds(year)
    start, end = datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)
    mentee, mentor = aliased(Person), aliased(Person)
    rows = session.execute(
        select(
            Pair.id,
            Pair.form,
            Pair.started_at,
            Pair.ended_at,
            Pair.end_reason,
            Pair.mentee_id,
            mentee.org_id,
            Pair.mentor_id,
            mentor.org_id,
        )
        .join(mentee, mentee.id == Pair.mentee_id)
        .join(mentor, mentor.id == Pair.mentor_id)
        .where(
            Pair.started_at < end,
            Pair.ended_at.is_(None) | (Pair.ended_at >= start),
            mentee.org_id.in_(ids) | mentor.org_id.in_(ids),
        )
    )
    for pair_id, form, started, ended, reason, mentee_id, mentee_org, mentor_id, mentor_org in rows:
        mentor_category, mentee_category = FORM_CATEGORIES.get(form, (None, None))
        if mentor_org in result:
            own = result[mentor_org].sets
            own["mentors"].add(mentor_id)
            if mentor_category:
                own[_CATEGORY_KEYS["mentors"][mentor_category]].add(mentor_id)
            result[mentor_org].forms[form]["mentors"].add(mentor_id)
        if mentee_org not in result:
            continue
        tally = result[mentee_org]
        tally.sets["mentees"].add(mentee_id)
        if mentee_category:
            tally.sets[_CATEGORY_KEYS["mentees"][mentee_category]].add(mentee_id)
        ended_in_year = ended is not None and ended < end
        kinds = {
            "pairs": True,
            "pairs_started": started >= start,
            "pairs_completed": ended_in_year and reason == "completed",
            "pairs_ended_early": ended_in_year and reason != "completed",
            "pairs_continuing": not ended_in_year,
            "pairs_virtual": mentor_org != mentee_org,
        }
        for key, counted in kinds.items():
            if counted:
                tally.sets[key].add(pair_id)
                tally.forms[form][key].add(pair_id)
        tally.forms[form]["mentees"].add(mentee_id)
    for org_id, counts in year_counts(session, orgs, year, zone).items():
        sets = result[org_id].sets
        sets["mentees_pupils_10_19"] |= counts.pupil_mentees
        sets["mentees_young_teachers"] |= counts.young_teacher_mentees
        sets["mentors_pupils_15_19"] |= counts.pupil_mentors
        sets["enterprises"] |= counts.enterprises
        result[org_id].denominators = dict(counts.denominators)
        result[org_id].without_denominators = counts.schools_without_denominators
    return result


def _counts(tally: _Tally) -> list[StatisticCount]:
    return [
        StatisticCount(
            key=key, section=section, title=title, definition=definition, value=tally.value(key)
        )
        for key, (section, title, definition) in COUNTS.items()
    ]


def _forms(tally: _Tally) -> list[FormStatistics]:
    known = list(dict.fromkeys([*FORM_CATEGORIES, *sorted(tally.forms)]))
    return [
        FormStatistics(
            form=form,
            title=form_title(form),
            pairs=len(tally.forms[form]["pairs"]),
            started=len(tally.forms[form]["pairs_started"]),
            completed=len(tally.forms[form]["pairs_completed"]),
            ended_early=len(tally.forms[form]["pairs_ended_early"]),
            continuing=len(tally.forms[form]["pairs_continuing"]),
            virtual=len(tally.forms[form]["pairs_virtual"]),
            mentees=len(tally.forms[form]["mentees"]),
            mentors=len(tally.forms[form]["mentors"]),
        )
        for form in known
        if form in tally.forms
    ]


def statistics(
    session: Session, actor: Actor, scope: str, name: str, year: int, zone: tzinfo
) -> StatisticsPublic:
    """Return the counts of a school (``name`` is its code), a municipality or a region
    (``scope``) for programme year ``year``, with each school's or municipality's."""
    orgs, _ = scope_orgs(session, actor, scope, name)
    by_school = _tallies(session, orgs, year, zone)
    total = _Tally()
    for tally in by_school.values():
        total.add(tally)
    parts: list[UnitStatistics] = []
    if scope != "school":
        units: dict[str, tuple[str, _Tally]] = {}
        for org in orgs:
            if scope == "municipality":
                key, title = org.code, org.name
            else:
                key, title = org.municipality or "—", org.municipality or "без муниципалитета"
            units.setdefault(key, (title, _Tally()))[1].add(by_school[org.id])
        parts = [
            UnitStatistics(code=key, name=title, values={k: t.value(k) for k in COUNTS})
            for key, (title, t) in sorted(units.items())
        ]
    single = orgs[0] if scope == "school" else None
    return StatisticsPublic(
        scope=scope,
        code=single.code if single else name,
        name=single.name if single else name,
        year=year,
        year_label=programme_year_label(year),
        schools=len(orgs),
        schools_without_denominators=total.without_denominators,
        counts=_counts(total),
        forms=_forms(total),
        parts=parts,
    )


# -- the counts as an XLSX workbook --------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsFile:
    """The counts as an XLSX file."""

    content: bytes
    filename: str


SECTIONS = {
    "mentees": "Наставляемые",
    "mentors": "Наставники",
    "pairs": "Наставнические пары",
    "denominators": "Для справки: знаменатели показателей",
}
_FORM_COLUMNS = (
    "Форма наставничества",
    "Пар",
    "Начато",
    "Завершено (программа выполнена)",
    "Прекращено досрочно",
    "Продолжаются на конец года",
    "Виртуальных",
    "Наставляемых",
    "Наставников",
)


def statistics_file(made: StatisticsPublic) -> StatisticsFile:
    """The counts of :func:`statistics` as a workbook: the counts, the forms, and each part."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    where = {"school": "", "municipality": "муниципалитет ", "region": "регион "}[made.scope]
    heading = (
        f"Сведения о количестве участников программ наставничества: {where}{made.name}, "
        f"{made.year_label}"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Участники"
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["№", "Показатель", "Значение", "Как считается"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    section = None
    for number, count in enumerate(made.counts, start=1):
        if count.section != section:
            section = count.section
            sheet.append(["", SECTIONS[section]])
            sheet.cell(sheet.max_row, 2).font = Font(bold=True)
        sheet.append([number, count.title, count.value, count.definition])
    if made.schools_without_denominators:
        sheet.append(
            ["", f"Школ без знаменателей на этот год: {made.schools_without_denominators}"]
        )
    for letter, width in zip("ABCD", (5, 60, 12, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=3):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    forms = book.create_sheet("По формам")
    forms.append([heading])
    forms.append(list(_FORM_COLUMNS))
    for f in made.forms:
        forms.append([f.title, f.pairs, f.started, f.completed, f.ended_early, f.continuing,
                      f.virtual, f.mentees, f.mentors])  # fmt: skip
    forms.column_dimensions["A"].width = 40
    if made.parts:
        parts = book.create_sheet(
            "По школам" if made.scope == "municipality" else "По муниципалитетам"
        )
        parts.append([heading])
        parts.append(["Школа" if made.scope == "municipality" else "Муниципалитет"]
                     + [c.title for c in made.counts])  # fmt: skip
        for part in made.parts:
            parts.append([part.name] + [part.values.get(c.key) for c in made.counts])
        parts.column_dimensions["A"].width = 40
    out = io.BytesIO()
    book.save(out)
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in made.code).strip("-")
    return StatisticsFile(out.getvalue(), f"statistics-{safe or 'area'}-{made.year}.xlsx")
