"""The rules of the target model of mentoring the service enforces: one source for each constant.

Each rule is written down with its source document and paragraph in ``docs/rules.md``; the numbers
themselves come from the package that applies them first (``matching`` for the capacity, ``features``
for the 30 days and the forms of mentoring) and are only re-exported here, so that the service,
its pages and its documents never write them again.
"""

from __future__ import annotations

from functools import lru_cache

from dateutil.relativedelta import relativedelta

from features.answers import ASSIGN_WITHIN_DAYS
from matching import MAX_CAPACITY

__all__ = [
    "ASSIGN_WITHIN_DAYS",
    "END_REASONS",
    "MAX_CAPACITY",
    "MAX_TERM",
    "MIN_TERM",
    "REPLACE_REASONS",
    "SATISFACTION_TARGETS",
    "SHIPPED_SPECS",
    "SUPERSEDED_REASONS",
    "UNMATCHED_REASONS",
    "form_title",
    "mentoring_forms",
    "satisfaction_target",
]

#: docs/rules.md#term — mentoring lasts from one month to one year.
MIN_TERM = relativedelta(months=1)
MAX_TERM = relativedelta(years=1)

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

#: docs/rules.md#satisfaction — the targets of satisfaction with the programme, by year.
SATISFACTION_TARGETS = {2022: 65.0, 2023: 75.0, 2024: 85.0}

#: The questionnaire specs shipped with ``features`` that a school may choose by name.
SHIPPED_SPECS = ("teacher", "pupil")


def satisfaction_target(year: int) -> float:
    """Return the target share of satisfied participants (percent) for ``year``.

    Examples
    --------
    >>> satisfaction_target(2023), satisfaction_target(2030)
    (75.0, 85.0)
    """
    years = sorted(SATISFACTION_TARGETS)
    return SATISFACTION_TARGETS[min(max(year, years[0]), years[-1])]


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
    "no_consent": "нет согласия участника",
    "archived": "участник покинул программу",
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
