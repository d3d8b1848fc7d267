"""Filters of the lists by a person's current answers: a pupil's class, a subject.

The people, pairs, proposals and waiting lists all filter by class and subject
(docs/rules.md#forms: the class is a pupil's answer, the subjects a teacher's or a pupil's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, or_

from features.text import in_sentence
from service.core.errors import Invalid
from service.core.models import Answers, Person
from service.people.questionnaires import grades, subjects

__all__ = ["ANSWER_FILTERS", "answer_filters", "answered"]

#: The class and subject filters as the list pages show them: key -> (title, value -> label).
ANSWER_FILTERS = {
    "grade": ("Класс", {number: number for number in grades()}),
    "subject": ("Предмет", {key: in_sentence(label) for key, label in subjects().items()}),
}


def answered(key: str, value: str, who: Any = Person) -> Any:
    """A condition: ``who`` (the Person entity or an alias of it) has a current answer to
    question ``key`` (``grade`` or ``subjects``) that is, or for several answers includes, the
    answer chosen by ``value`` (a class number or a subject key). An unknown value is refused
    with the values allowed."""
    allowed, label = (grades(), "Класс") if key == "grade" else (subjects(), "Предмет")
    if value not in allowed and value not in allowed.values():
        names = ", ".join(allowed)
        raise Invalid(
            f"Фильтр «{label}»: неизвестное значение «{value}»; возможны: {names}.",
            [{"row": None, "column": label, "value": value, "message": f"возможны: {names}"}],
        )
    answer = allowed.get(value, value) if key == "grade" else value
    text = Answers.records[key].as_string()
    # A class is one answer; subjects are a list, stored as JSON text: match the quoted key.
    matches = text == answer if key == "grade" else text.contains(f'"{answer}"')
    return exists().where(Answers.person_id == who.id, Answers.version == who.version, matches)


def answer_filters(mentee: Any, mentor: Any) -> dict[str, Callable[[str], Any]]:
    """The class and subject filters of a list of pairs or proposals: the class is the mentee's,
    a subject either side's (asked by the mentee or offered by the mentor)."""
    return {
        "grade": lambda value: answered("grade", value, mentee),
        "subject": lambda value: or_(
            answered("subjects", value, mentee), answered("subjects", value, mentor)
        ),
    }
