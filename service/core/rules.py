"""The rules of the target model of mentoring the service enforces: one source for each constant.

Each rule is written down with its source document and paragraph in ``docs/rules.md``; the numbers
themselves come from the package that applies them first (``matching`` for the capacity, ``features``
for the 30 days and the forms of mentoring) and are only re-exported here, so that the service,
its pages and its documents never write them again.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from features.answers import ASSIGN_WITHIN_DAYS
from features.targets import SATISFACTION_TARGETS
from matching import MAX_CAPACITY

__all__ = [
    "ASSIGN_WITHIN_DAYS",
    "DEFAULT_TERM",
    "END_REASONS",
    "FORM_CATEGORIES",
    "GROUP_SIZE_DEFAULTS",
    "INDICATORS",
    "INDICATOR_TARGETS",
    "MAX_CAPACITY",
    "MAX_DEMAND",
    "MAX_GROUP_SIZE",
    "MAX_TERM",
    "MENTOR_CATEGORIES",
    "MENTOR_ROLE_CATEGORIES",
    "MIN_TERM",
    "ORG_KINDS",
    "PROGRAMME_YEAR_STARTS",
    "PUPIL_MENTEE_AGES",
    "PUPIL_MENTOR_AGES",
    "REPLACE_REASONS",
    "SATISFACTION_TARGETS",
    "SERVICE_MODES",
    "SHIPPED_SPECS",
    "SUPERSEDED_REASONS",
    "TEACHER_FORMS",
    "TERM_ENDING_DAYS",
    "UNMATCHED_REASONS",
    "YOUNG_TEACHER_YEARS",
    "default_group_size",
    "form_title",
    "indicator_target",
    "mentoring_forms",
    "programme_year",
    "programme_year_bounds",
    "programme_year_label",
    "satisfaction_target",
]

#: docs/rules.md#term — mentoring lasts from one month to one year.
MIN_TERM = relativedelta(months=1)
MAX_TERM = relativedelta(years=1)

#: docs/rules.md#term — a pair's planned end when the curator gives none: the longest term.
DEFAULT_TERM = MAX_TERM
#: docs/rules.md#term — an active pair whose planned end is this near (days) is flagged.
TERM_ENDING_DAYS = 14

#: docs/rules.md#group — the forms of mentoring of pedagogical workers (the teacher spec), bound by
#: the regulation's «не может превышать трех»: a school may lower their group size, never raise it.
TEACHER_FORMS = frozenset({"teacher_teacher", "head_teacher", "employer_student"})
#: docs/rules.md#group — the largest group of a form a school may set (a class), the code's bound.
MAX_GROUP_SIZE = 30
#: docs/rules.md#group — a form's largest group unless the school set its own: three for the
#: teacher forms, ten for the pupil forms (the documents give no number for pupils).
GROUP_SIZE_DEFAULTS = {
    "teacher_teacher": MAX_CAPACITY,
    "head_teacher": MAX_CAPACITY,
    "employer_student": MAX_CAPACITY,
    "pupil_pupil": 10,
    "student_pupil": 10,
    "employer_pupil": 10,
}

#: docs/rules.md#co-mentors — how many distinct mentors one mentee may have at once (the documents
#: allow several; the code bounds it).
MAX_DEMAND = 3

#: docs/rules.md#external-mentors — what an organisation is: a school, or the home of external
#: mentors (a college or university, an enterprise, another organisation).
ORG_KINDS = {
    "school": "образовательная организация",
    "college": "колледж или вуз",
    "enterprise": "предприятие",
    "other": "иная организация",
}
#: docs/rules.md#external-mentors — how an external mentor serves a school.
SERVICE_MODES = {"in_person": "очно", "remote": "дистанционно"}

#: docs/rules.md#replacement — why a pair ends or its mentor is replaced; ``completed`` is the
#: regular end of the programme, the others are the regulation's reasons for a replacement.
END_REASONS = {
    "completed": "программа наставничества завершена",
    "contract_ended": "прекращение трудовых отношений",
    "transfer": "перевод на другую работу или в другую организацию",
    "mentor_request": "по просьбе наставника",
    "mentee_request": "по просьбе наставляемого",
    "non_performance": "неисполнение обязанностей наставника",
    "incompatibility": "психологическая несовместимость",
    "other": "иные обстоятельства",
}
REPLACE_REASONS = {k: v for k, v in END_REASONS.items() if k != "completed"}

#: docs/rules.md#indicators — the six indicators of the target model: key -> Russian name.
INDICATORS = {
    "pupil_mentees": "Доля обучающихся 10–19 лет, вошедших в программы в роли наставляемого",
    "pupil_mentors": "Доля обучающихся 15–19 лет, вошедших в программы в роли наставника",
    "young_teacher_mentees": "Доля молодых педагогов (стаж до 3 лет), вошедших в программы "
    "в роли наставляемого",
    "enterprises": "Доля предприятий территории, предоставивших своих наставников",
    "mentee_satisfaction": "Уровень удовлетворённости наставляемых",
    "mentor_satisfaction": "Уровень удовлетворённости наставников",
}

#: docs/rules.md#indicators — the target of each indicator (percent) by calendar year; the
#: satisfaction targets are features' (docs/rules.md#satisfaction).
INDICATOR_TARGETS = {
    "pupil_mentees": {2022: 35.0, 2023: 50.0, 2024: 70.0},
    "pupil_mentors": {2022: 2.0, 2023: 6.0, 2024: 10.0},
    "young_teacher_mentees": {2022: 30.0, 2023: 50.0, 2024: 70.0},
    "enterprises": {2022: 10.0, 2023: 20.0, 2024: 30.0},
    "mentee_satisfaction": SATISFACTION_TARGETS,
    "mentor_satisfaction": SATISFACTION_TARGETS,
}

#: docs/rules.md#indicators — the ages of the pupils counted as mentees and as mentors, and the
#: years of experience of a young teacher (молодой специалист).
PUPIL_MENTEE_AGES = (10, 19)
PUPIL_MENTOR_AGES = (15, 19)
YOUNG_TEACHER_YEARS = 3

#: docs/rules.md#statistics — whom each form of mentoring pairs (docs/rules.md#forms): form key -> (the mentor's category, the mentee's category).
FORM_CATEGORIES = {
    "teacher_teacher": ("teachers", "teachers"),
    "head_teacher": ("teachers", "teachers"),
    "employer_student": ("teachers", "students"),
    "pupil_pupil": ("pupils", "pupils"),
    "student_pupil": ("students", "pupils"),
    "employer_pupil": ("professionals", "pupils"),
}

#: docs/rules.md#bases — the municipal bases of mentors by category («наставников из
#: числа педагогов; наставников из числа предприятий и других организаций; наставников из числа
#: обучающихся»): category -> Russian name; and the category of a mentor's questionnaire answer
#: (the shipped specs' «Кто вы?» and «Должность»).
MENTOR_CATEGORIES = {
    "teachers": "педагог",
    "professionals": "специалист предприятия (организации)",
    "pupils": "обучающийся",
    "students": "студент",
}
MENTOR_ROLE_CATEGORIES = {
    "teacher": "teachers",
    "specialist": "teachers",
    "head": "teachers",
    "pupil": "pupils",
    "student": "students",
    "professional": "professionals",
}

#: docs/rules.md#programme-year — a programme year (cohort) is a school year from 1 September.
PROGRAMME_YEAR_STARTS = (9, 1)


#: The questionnaire specs shipped with ``features`` that a school may choose by name.
SHIPPED_SPECS = ("teacher", "pupil")


def default_group_size(form: str) -> int:
    """Return a form's largest group when the school set none (docs/rules.md#group).

    Examples
    --------
    >>> default_group_size("teacher_teacher"), default_group_size("pupil_pupil")
    (3, 10)
    >>> default_group_size("a_school_form")
    3
    """
    return GROUP_SIZE_DEFAULTS.get(form, MAX_CAPACITY)


def satisfaction_target(year: int) -> float:
    """Return the target share of satisfied participants (percent) for ``year``.

    Examples
    --------
    >>> satisfaction_target(2023), satisfaction_target(2030)
    (75.0, 85.0)
    """
    years = sorted(SATISFACTION_TARGETS)
    return SATISFACTION_TARGETS[min(max(year, years[0]), years[-1])]


def indicator_target(key: str, year: int) -> float:
    """Return the target (percent) of indicator ``key`` for the programme year ``year``.

    A programme year takes the target of the calendar year it starts in: the year's end
    (31 December), when the indicators are reported, falls inside it. Before 2022 the 2022 target holds,
    after 2024 the 2024 one (docs/rules.md#indicators).

    Examples
    --------
    >>> indicator_target("pupil_mentees", 2023), indicator_target("enterprises", 2030)
    (50.0, 30.0)
    """
    targets = INDICATOR_TARGETS[key]
    years = sorted(targets)
    return targets[min(max(year, years[0]), years[-1])]


def programme_year(day: date) -> int:
    """Return the programme year of a local date: the year its school year starts in.

    Examples
    --------
    >>> programme_year(date(2024, 8, 31)), programme_year(date(2024, 9, 1))
    (2023, 2024)
    """
    return day.year if (day.month, day.day) >= PROGRAMME_YEAR_STARTS else day.year - 1


def programme_year_bounds(year: int) -> tuple[date, date]:
    """Return the first day of programme year ``year`` and the first day of the next one."""
    month, day = PROGRAMME_YEAR_STARTS
    return date(year, month, day), date(year + 1, month, day)


def programme_year_label(year: int) -> str:
    """Return the Russian name of a programme year.

    Examples
    --------
    >>> programme_year_label(2023)
    '2023/24 учебный год'
    """
    return f"{year}/{(year + 1) % 100:02d} учебный год"


@lru_cache(maxsize=1)
def _form_titles() -> dict[str, str]:
    from features import load_spec

    titles: dict[str, str] = {}
    for name in SHIPPED_SPECS:
        spec = load_spec(name)
        titles.setdefault(name, spec.forms[0].label)
        titles.update({f.key: f.label for f in spec.forms})
    return titles


def form_title(form: str) -> str:
    """Return the Russian name of a form of mentoring: a form key of a shipped spec.

    The form of a pair is chosen by ``features`` (the first form of the spec both people fit,
    its conditions included); this only names it.

    Examples
    --------
    >>> form_title("teacher_teacher")
    'педагог – педагог'
    """
    return _form_titles().get(form, form)


def mentoring_forms() -> dict[str, str]:
    """The forms of mentoring of the shipped specs: key -> Russian name (for a filter)."""
    return {k: v for k, v in _form_titles().items() if k not in SHIPPED_SPECS}


# Why an open proposal can no longer be confirmed, and was superseded (shown to the curator).
SUPERSEDED_REASONS = {
    "new_run": "заменено новым подбором",
    "mentee_paired": "у наставляемого уже есть пара",
    "mentor_full": "у наставника не осталось свободных мест",
    "group_full": "группа наставника в этой форме заполнена",
    "no_consent": "нет согласия участника",
    "archived": "участник покинул программу",
    "answers_changed": "анкета участника исправлена после подбора",
}

# Why a matching run left a mentee without a pair (the run's result page).
UNMATCHED_REASONS = {
    "no_consent": "нет записанного согласия: в подбор не попадает",
    "no_mentors": "нет наставников, ответивших на анкету той же формы",
    "no_allowed_mentor": "ни один наставник не подходит по правилам формы и минимальной оценке",
    "only_rejected": "подходящие наставники уже отклонены куратором",
    "places_taken": "места подходящих наставников заняты парами с лучшей совместимостью "
    "или наставляемыми, которые ждут дольше",
}
