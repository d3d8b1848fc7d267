"""The indicators of the target model (docs/rules.md#indicators) per school, municipality and region and per
programme year, and the denominators a school enters for them (docs/rules.md#indicators).

A programme year (cohort) is a school year from 1 September (docs/rules.md#programme-year),
named by the calendar year it starts in; nothing stores it: a pair belongs to every programme year
its dates overlap, a satisfaction questionnaire to the year it was filled in, so last year's results
stay readable without copying anything.

Who counts, for a school and a year (each person at their own school, so that a municipality is
the sum of its schools):

- ``pupil_mentees``: mentees of a pupils' questionnaire aged 10 to 19 with a pair in the year,
  out of the school's pupils aged 10 to 19;
- ``pupil_mentors``: mentors who answered «ученик», aged 15 to 19, with a pair in the year, out of
  the pupils aged 15 to 19;
- ``young_teacher_mentees``: mentees of the teachers' questionnaire with at most 3 years of
  experience (not students on practice) with a pair in the year, out of the young teachers;
- ``enterprises``: the distinct employers named by mentors who answered «специалист предприятия»
  with a pair in the year, out of the enterprises of the territory;
- ``mentee_satisfaction``, ``mentor_satisfaction``: ten times the mean answer (1-10) of the
  satisfaction questionnaires filled in during the year by each side (docs/rules.md#satisfaction).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from features.limits import NOT_XLSX, Budget, Limits, check_xlsx
from features.limits import current as current_limits
from features.numbers import percent
from features.tables import TableError
from service.core.errors import Invalid, NotFound
from service.core.models import (
    Answers,
    Denominators,
    Feedback,
    Organisation,
    Pair,
    Person,
    Side,
    utcnow,
)
from service.core.rules import (
    INDICATORS,
    PUPIL_MENTEE_AGES,
    PUPIL_MENTOR_AGES,
    YOUNG_TEACHER_YEARS,
    indicator_target,
    programme_year,
    programme_year_bounds,
    programme_year_label,
)
from service.core.security import Actor, organisation_for, visible_organisations
from service.monitoring.schemas import (
    DenominatorsCreate,
    DenominatorsPublic,
    IndicatorPublic,
    IndicatorsPublic,
    TrendPoint,
    UnitIndicators,
)
from service.monitoring.surveys import satisfaction_value
from service.people.questionnaires import load_spec_named

__all__ = [
    "DEFINITIONS",
    "DENOMINATOR_TITLES",
    "denominators",
    "municipality_indicators",
    "region_indicators",
    "satisfaction_answers",
    "save_denominators",
    "school_indicators",
    "scope_indicators",
    "scope_orgs",
    "year_counts",
]

#: The denominators a school enters: field -> Russian name.
DENOMINATOR_TITLES = {
    "pupils_10_19": "Обучающихся 10–19 лет",
    "pupils_15_19": "Обучающихся 15–19 лет",
    "young_teachers": "Молодых педагогов (стаж до 3 лет)",
    "enterprises": "Предприятий (организаций) территории",
}

#: Which denominator each share indicator divides by, and what its numerator counts.
_SHARES = {
    "pupil_mentees": ("pupils_10_19", "наставляемых-обучающихся 10–19 лет"),
    "pupil_mentors": ("pupils_15_19", "наставников-обучающихся 15–19 лет"),
    "young_teacher_mentees": ("young_teachers", "наставляемых — молодых педагогов"),
    "enterprises": ("enterprises", "предприятий, предоставивших наставников"),
}

#: What each indicator counts, in the words of the page (docs/rules.md#indicators).
DEFINITIONS = {
    "pupil_mentees": "Наставляемые по анкете обучающихся в возрасте от 10 до 19 лет, у которых в "
    "учебном году была пара, делённые на число обучающихся 10–19 лет школы (показатель 1 целевой модели).",
    "pupil_mentors": "Наставники, ответившие в анкете «ученик», в возрасте от 15 до 19 лет, у "
    "которых в учебном году была пара, делённые на число обучающихся 15–19 лет (показатель 2 целевой модели).",
    "young_teacher_mentees": "Наставляемые по анкете педагогов со стажем не больше 3 лет (кроме "
    "студентов-практикантов), у которых в учебном году была пара, делённые на число молодых "
    "педагогов (показатель 3 целевой модели).",
    "enterprises": "Различные предприятия, названные наставниками — специалистами предприятий, у "
    "которых в учебном году была пара, делённые на число предприятий территории (показатель 4 целевой модели).",
    "mentee_satisfaction": "Десять средних оценок (1–10) анкет удовлетворённости наставляемых, "
    "заполненных в учебном году, в процентах (показатель 5 целевой модели).",
    "mentor_satisfaction": "Десять средних оценок (1–10) анкет удовлетворённости наставников, "
    "заполненных в учебном году, в процентах (показатель 6 целевой модели).",
}

#: How many earlier years the trend shows.
TREND_YEARS = 5


@dataclass
class _Counts:
    """What the indicators of one unit (school, municipality, region) and one year add up."""

    pupil_mentees: set[int] = field(default_factory=set)
    pupil_mentors: set[int] = field(default_factory=set)
    young_teacher_mentees: set[int] = field(default_factory=set)
    enterprises: set[str] = field(default_factory=set)
    satisfaction: dict[str, list[float]] = field(
        default_factory=lambda: {Side.mentee.value: [], Side.mentor.value: []}
    )
    denominators: dict[str, int] = field(default_factory=dict)
    schools_without_denominators: int = 0

    def add(self, other: _Counts) -> None:
        self.pupil_mentees |= other.pupil_mentees
        self.pupil_mentors |= other.pupil_mentors
        self.young_teacher_mentees |= other.young_teacher_mentees
        self.enterprises |= other.enterprises
        for side, values in other.satisfaction.items():
            self.satisfaction[side] += values
        for key, value in other.denominators.items():
            self.denominators[key] = self.denominators.get(key, 0) + value
        self.schools_without_denominators += other.schools_without_denominators

    def numerator(self, key: str) -> int:
        return len(getattr(self, key))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _between(value: float | None, bounds: tuple[int, int]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def _employer(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.replace("«", '"').replace("»", '"').split()).casefold()


def _classify(person: Person, records: dict[str, Any], counts: _Counts) -> None:
    """Add ``person`` (who had a pair in the year) to what they count for."""
    try:
        part = load_spec_named(person.spec).side(f"{person.side}s")
    except Invalid:
        return
    fields = part.fields
    age = _number(records.get(fields.age)) if fields.age else None
    role = records.get(fields.role) if fields.role else None
    if person.side == Side.mentee.value:
        if part.has("grade") and _between(age, PUPIL_MENTEE_AGES):
            counts.pupil_mentees.add(person.id)
        experience = _number(records.get("experience")) if part.has("experience") else None
        if experience is not None and experience <= YOUNG_TEACHER_YEARS and role != "student":
            counts.young_teacher_mentees.add(person.id)
    else:
        if role == "pupil" and _between(age, PUPIL_MENTOR_AGES):
            counts.pupil_mentors.add(person.id)
        if role == "professional" and fields.organisation:
            employer = _employer(records.get(fields.organisation))
            if employer:
                counts.enterprises.add(employer)


def _bounds(year: int, zone: tzinfo) -> tuple[datetime, datetime]:
    first, after = programme_year_bounds(year)
    return datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)


def _counts(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo
) -> dict[int, _Counts]:
    """Return what each school of ``orgs`` counts in programme year ``year``."""
    ids = [o.id for o in orgs]
    result = {o.id: _Counts() for o in orgs}
    start, end = _bounds(year, zone)
    overlapping = (Pair.started_at < end) & (Pair.ended_at.is_(None) | (Pair.ended_at >= start))
    in_pairs = (
        select(Pair.mentee_id).where(overlapping).union(select(Pair.mentor_id).where(overlapping))
    )
    rows = session.execute(
        select(Person, Answers.records)
        .outerjoin(Answers, (Answers.person_id == Person.id) & (Answers.version == Person.version))
        .where(Person.org_id.in_(ids), Person.id.in_(in_pairs))
    )
    for person, records in rows:
        _classify(person, dict(records or {}), result[person.org_id])
    mentee = select(Person.org_id).where(Person.id == Pair.mentee_id).scalar_subquery()
    mentor = select(Person.org_id).where(Person.id == Pair.mentor_id).scalar_subquery()
    answers = session.execute(
        select(Feedback.author, Feedback.score, Feedback.answers, mentee, mentor)
        .join(Pair, Pair.id == Feedback.pair_id)
        .where(
            Feedback.kind == "satisfaction",
            Feedback.created_at >= start,
            Feedback.created_at < end,
            or_(mentee.in_(ids), mentor.in_(ids)),
        )
    )
    for author, score, extra, mentee_org, mentor_org in answers:
        own = mentee_org if author == Side.mentee.value else mentor_org
        value = satisfaction_value(score, extra)
        if own in result and value is not None:
            result[own].satisfaction[author].append(value)
    stored = session.scalars(
        select(Denominators).where(Denominators.org_id.in_(ids), Denominators.year == year)
    )
    for row in stored:
        result[row.org_id].denominators = {k: getattr(row, k) for k in DENOMINATOR_TITLES}
    for counts in result.values():
        counts.schools_without_denominators = 0 if counts.denominators else 1
    return result


def year_counts(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo
) -> dict[int, _Counts]:
    """Return what each school of ``orgs`` counts for the indicators in programme year ``year``:
    the people by id, the enterprises by name, the satisfaction answers, the denominators."""
    return _counts(session, orgs, year, zone)


def _indicators(counts: _Counts, year: int, trend: dict[str, list[TrendPoint]]) -> list[Any]:
    items = []
    for key, title in INDICATORS.items():
        target = indicator_target(key, year)
        numerator: int | None
        if key in _SHARES:
            base, _ = _SHARES[key]
            numerator = counts.numerator(key)
            denominator = counts.denominators.get(base)
            value = round(100.0 * numerator / denominator, 1) if denominator else None
        else:
            scores = counts.satisfaction[key.removesuffix("_satisfaction")]
            numerator, denominator = len(scores), None
            value = round(10.0 * statistics.fmean(scores), 1) if scores else None
        items.append(
            IndicatorPublic(
                key=key,
                title=title,
                definition=DEFINITIONS[key],
                numerator=numerator,
                denominator=denominator,
                value=value,
                target=target,
                gap=None if value is None else round(value - target, 1),
                meets_target=None if value is None else value >= target,
                above_hundred=value is not None and value > 100.0,
                trend=trend.get(key, []),
            )
        )
    return items


def _trend(per_year: dict[int, _Counts]) -> dict[str, list[TrendPoint]]:
    trend: dict[str, list[TrendPoint]] = defaultdict(list)
    for year, counts in sorted(per_year.items()):
        for item in _indicators(counts, year, {}):
            trend[item.key].append(
                TrendPoint(year=year, label=programme_year_label(year), value=item.value)
            )
    return trend


def _report(
    session: Session,
    orgs: Sequence[Organisation],
    year: int,
    zone: tzinfo,
    scope: str,
    code: str,
    name: str,
    group: Any = None,
) -> IndicatorsPublic:
    """Indicators of ``orgs`` together for ``year`` with a trend, and of each unit of ``group``."""
    per_year: dict[int, _Counts] = {}
    by_school: dict[int, _Counts] = {}
    for y in range(year - TREND_YEARS + 1, year + 1):
        schools = _counts(session, orgs, y, zone)
        total = _Counts()
        for counts in schools.values():
            total.add(counts)
        per_year[y] = total
        if y == year:
            by_school = schools
    trend = _trend(per_year)
    parts: list[UnitIndicators] = []
    if group is not None:
        units: dict[str, tuple[str, _Counts]] = {}
        for org in orgs:
            key, title = group(org)
            units.setdefault(key, (title, _Counts()))[1].add(by_school[org.id])
        parts = [
            UnitIndicators(code=key, name=title, indicators=_indicators(counts, year, {}))
            for key, (title, counts) in sorted(units.items())
        ]
    total = per_year[year]
    return IndicatorsPublic(
        scope=scope,
        code=code,
        name=name,
        year=year,
        year_label=programme_year_label(year),
        schools=len(orgs),
        schools_without_denominators=total.schools_without_denominators,
        denominators=total.denominators or None,
        indicators=_indicators(total, year, trend),
        parts=parts,
    )


def scope_orgs(
    session: Session, actor: Actor, scope: str, name: str
) -> tuple[list[Organisation], str]:
    """Return the schools of a school (``name`` is its code), a municipality or a region, and a
    title."""
    if scope == "school":
        school = organisation_for(session, actor, name)
        return [school], school.name
    if scope == "region":
        actor.require_region(name)
        orgs = list(
            session.scalars(visible_organisations(actor).where(Organisation.region == name))
        )
        if not orgs:
            raise NotFound("region", name)
        return orgs, f"регион {name}"
    actor.require_municipality(name)
    orgs = list(
        session.scalars(visible_organisations(actor).where(Organisation.municipality == name))
    )
    if not orgs:
        raise NotFound("municipality", name)
    return orgs, f"муниципалитет {name}"


def scope_indicators(
    session: Session, actor: Actor, scope: str, name: str, year: int, zone: tzinfo
) -> IndicatorsPublic:
    """Return the indicators of a school or a municipality (``scope``) for ``year``."""
    if scope == "school":
        return school_indicators(session, actor, name, year, zone)
    if scope == "region":
        return region_indicators(session, actor, name, year, zone)
    return municipality_indicators(session, actor, name, year, zone)


def satisfaction_answers(
    session: Session, orgs: Sequence[Organisation], year: int, zone: tzinfo
) -> dict[str, list[float]]:
    """Return the satisfaction answers (1-10) of mentees and of mentors of ``orgs`` in ``year``."""
    total = _Counts()
    for counts in _counts(session, orgs, year, zone).values():
        total.add(counts)
    return total.satisfaction


def current_year(zone: tzinfo, now: datetime | None = None) -> int:
    """Return the programme year of today in ``zone``."""
    return programme_year((now or utcnow()).astimezone(zone).date())


def school_indicators(
    session: Session, actor: Actor, org: str, year: int, zone: tzinfo
) -> IndicatorsPublic:
    """Return the indicators of school ``org`` for programme year ``year``, with their trend."""
    school = organisation_for(session, actor, org)
    return _report(session, [school], year, zone, "school", school.code, school.name)


def municipality_indicators(
    session: Session, actor: Actor, name: str, year: int, zone: tzinfo
) -> IndicatorsPublic:
    """Return the indicators of a municipality (its schools added up) and of each of its schools."""
    actor.require_municipality(name)
    orgs = session.scalars(
        visible_organisations(actor).where(Organisation.municipality == name)
    ).all()
    if not orgs:
        raise NotFound("municipality", name)
    return _report(
        session, orgs, year, zone, "municipality", name, name, group=lambda o: (o.code, o.name)
    )


def region_indicators(
    session: Session, actor: Actor, name: str, year: int, zone: tzinfo
) -> IndicatorsPublic:
    """Return the indicators of a region (its schools added up) and of each of its municipalities."""
    orgs, _ = scope_orgs(session, actor, "region", name)
    return _report(
        session,
        orgs,
        year,
        zone,
        "region",
        name,
        name,
        group=lambda o: (o.municipality or "—", o.municipality or "без муниципалитета"),
    )


# -- denominators -----------------------------------------------------------------------------


def _public(org: Organisation, row: Denominators) -> DenominatorsPublic:
    return DenominatorsPublic(
        org=org.code,
        year=row.year,
        year_label=programme_year_label(row.year),
        updated_at=row.updated_at,
        **{k: getattr(row, k) for k in DENOMINATOR_TITLES},
    )


def denominators(session: Session, actor: Actor, org: str) -> list[DenominatorsPublic]:
    """Return the denominators school ``org`` entered, newest year first."""
    school = organisation_for(session, actor, org)
    rows = session.scalars(
        select(Denominators)
        .where(Denominators.org_id == school.id)
        .order_by(Denominators.year.desc())
    )
    return [_public(school, row) for row in rows]


def check_denominators(
    school: Organisation, year: int, values: DenominatorsCreate, counts: _Counts, row: int | None
) -> list[dict[str, Any]]:
    """Return every problem of ``values`` for ``school`` (a share above 100 %, 15-19 > 10-19)."""
    where = f"{school.name}, {programme_year_label(year)}"
    problems = []
    if values.pupils_15_19 > values.pupils_10_19:
        problems.append(
            {
                "row": row,
                "column": DENOMINATOR_TITLES["pupils_15_19"],
                "value": values.pupils_15_19,
                "message": f"{where}: обучающихся 15–19 лет ({values.pupils_15_19}) больше, чем "
                f"обучающихся 10–19 лет ({values.pupils_10_19}), а они входят в их число",
            }
        )
    for key, (base, what) in _SHARES.items():
        numerator, denominator = counts.numerator(key), getattr(values, base)
        if numerator > denominator:
            share = "бесконечность" if not denominator else percent(numerator / denominator)
            problems.append(
                {
                    "row": row,
                    "column": DENOMINATOR_TITLES[base],
                    "value": denominator,
                    "message": f"{where}: {what} в программе уже {numerator}, а указано всего "
                    f"{denominator}; доля была бы {share} — больше 100 %",
                }
            )
    return problems


def save_denominators(
    session: Session,
    actor: Actor,
    org: str,
    year: int,
    values: DenominatorsCreate,
    zone: tzinfo,
) -> DenominatorsPublic:
    """Store the denominators of school ``org`` for ``year``; refuse a share above 100 %."""
    school = organisation_for(session, actor, org)
    counts = _counts(session, [school], year, zone)[school.id]
    problems = check_denominators(school, year, values, counts, None)
    if problems:
        raise Invalid("Знаменатели не сохранены: " + problems[0]["message"], errors=problems)
    return _store(session, actor, school, year, values)


def _store(
    session: Session, actor: Actor, school: Organisation, year: int, values: DenominatorsCreate
) -> DenominatorsPublic:
    row = session.scalar(
        select(Denominators).where(Denominators.org_id == school.id, Denominators.year == year)
    )
    if row is None:
        row = Denominators(org_id=school.id, year=year)
        session.add(row)
    for key in DENOMINATOR_TITLES:
        setattr(row, key, getattr(values, key))
    row.user_id = actor.user_id
    row.updated_at = utcnow()
    session.flush()
    return _public(school, row)


def save_many(
    session: Session,
    actor: Actor,
    rows: Iterable[tuple[int, str, int, DenominatorsCreate]],
    zone: tzinfo,
    problems: Sequence[dict[str, Any]] = (),
) -> list[DenominatorsPublic]:
    """Store imported rows ``(row number, school code, year, values)``, all or none.

    Raises
    ------
    Invalid
        With every problem of every row (``problems`` found on reading, an unknown school, a share
        above 100 %), sorted by row.
    """
    problems = list(problems)
    checked = []
    for number, code, year, values in rows:
        try:
            school = organisation_for(session, actor, code)
        except NotFound:
            problems.append(
                {
                    "row": number,
                    "column": "Код школы",
                    "value": code,
                    "message": f"школа «{code}» не найдена или вам не видна",
                }
            )
            continue
        counts = _counts(session, [school], year, zone)[school.id]
        problems += check_denominators(school, year, values, counts, number)
        checked.append((school, year, values))
    if problems:
        problems.sort(key=lambda p: p["row"] or 0)
        raise Invalid(f"Файл не загружен: ошибок {len(problems)}.", errors=problems)
    return [_store(session, actor, school, year, values) for school, year, values in checked]


# -- an XLSX file of denominators ---------------------------------------------------------------

#: The columns of a file of denominators, in order: header -> field.
FILE_COLUMNS = {"Код школы": "org", "Учебный год": "year"} | {
    title: key for key, title in DENOMINATOR_TITLES.items()
}


def _year_of(value: Any) -> int | None:
    """Read a programme year written as 2023, "2023", "2023/24" or "2023/2024"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 2000 <= value <= 2100 else None
    if isinstance(value, float) and value.is_integer():
        return _year_of(int(value))
    text = str(value or "").strip().split("/")[0].split("-")[0].split("–")[0].strip()
    return _year_of(int(text)) if text.isdigit() else None


def read_denominators_file(
    content: bytes, limits: Limits | None = None
) -> tuple[list[tuple[int, str, int, DenominatorsCreate]], list[dict[str, Any]]]:
    """Read an XLSX file of denominators: one row per school and programme year.

    Returns the rows that could be read and the problems of the others (row, column, value,
    message), for :func:`save_many` to report together with its own. Reading stops at
    ``limits`` as a questionnaire's does (the unpacked size of the XLSX checked before any XML
    is read, then rows, cells and seconds; the limits in force when None).

    Raises
    ------
    Invalid
        When the file is not XLSX, is over a limit, lacks a column or has no row.
    """
    try:
        return _read_denominators(content, Budget(limits or current_limits()))
    except TableError as exc:  # a limit's Russian reason
        raise Invalid(f"Файл не загружен: {exc}.") from None


def _read_denominators(
    content: bytes, budget: Budget
) -> tuple[list[tuple[int, str, int, DenominatorsCreate]], list[dict[str, Any]]]:
    import io
    import zipfile

    from openpyxl import load_workbook
    from pydantic import ValidationError

    check_xlsx(content, budget.limits)  # a "zip bomb" is refused before openpyxl inflates it
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, IndexError) as exc:
        # the library's own English reason («File is not a zip file») tells a curator nothing
        raise Invalid(f"Файл не загружен: {NOT_XLSX}.") from exc
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    budget.row(len(header))
    missing = [title for title in FILE_COLUMNS if title not in header]
    if missing:
        raise Invalid(
            "В файле нет столбцов: " + ", ".join(f"«{m}»" for m in missing),
            errors=[
                {"row": 1, "column": m, "value": None, "message": "нет такого столбца"}
                for m in missing
            ],
        )
    where = {FILE_COLUMNS[title]: header.index(title) for title in FILE_COLUMNS}
    problems: list[dict[str, Any]] = []
    result = []
    titles = {v: k for k, v in FILE_COLUMNS.items()}
    for number, cells in enumerate(rows, start=2):
        budget.row(len(cells))
        record = {key: cells[i] if i < len(cells) else None for key, i in where.items()}
        if all(v in (None, "") for v in record.values()):
            continue
        code = str(record.pop("org") or "").strip()
        year = _year_of(record.pop("year"))
        if not code:
            problems.append(
                {"row": number, "column": "Код школы", "value": None, "message": "не указан"}
            )
        if year is None:
            problems.append(
                {
                    "row": number,
                    "column": "Учебный год",
                    "value": str(cells[where["year"]]),
                    "message": "ожидался год начала учебного года, например 2024 или 2024/25",
                }
            )
        try:
            values = DenominatorsCreate.model_validate(record)
        except ValidationError as exc:
            for error in exc.errors():
                key = str(error["loc"][0])
                problems.append(
                    {
                        "row": number,
                        "column": titles.get(key, key),
                        "value": record.get(key),
                        "message": "ожидалось целое число не меньше 0",
                    }
                )
            continue
        if code and year is not None:
            result.append((number, code, year, values))
    if not result and not problems:
        raise Invalid("В файле нет ни одной строки со знаменателями.")
    return result, problems
