"""The questionnaire specs a school's people answered: loading a spec by name, and reading answers.

All questionnaire logic is in ``features``; this module only looks up the shipped specs by name
(a file path is refused: it would read the server's files) and reads what a page or a document
needs from stored answers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from features.text import in_sentence
from service.core.errors import Invalid

__all__ = ["forms_of", "grades", "load_spec_named", "post_of", "subjects", "with_consent"]


@lru_cache(maxsize=32)
def load_spec_named(name: str) -> Any:
    """Load a shipped questionnaire spec by name.

    Raises
    ------
    Invalid
        When ``name`` is not the name of a shipped spec.
    """
    from features import SpecError, load_spec

    if not name.replace("_", "").replace("-", "").isalnum() or not name.isascii():
        raise Invalid(f"Неизвестная анкета {name!r}: укажите имя, например 'teacher' или 'pupil'.")
    try:
        return load_spec(name)
    except (SpecError, FileNotFoundError, OSError) as exc:
        raise Invalid(f"Неизвестная анкета {name!r}: {exc}") from exc


def with_consent(spec_name: str, side: str, records: dict[str, Any], given: bool) -> dict[str, Any]:
    """Return ``records`` with every consent question of the spec answered ``given``.

    The consents the service recorded decide (a questionnaire's answer, or a later one on paper:
    see ``service.people.consents``), not the questionnaire's answer alone; without this a consent
    given on paper would still leave the person's pairs disallowed by the hard rules of
    ``features``. ``side`` is ``"mentor"`` or ``"mentee"``.
    """
    fields = load_spec_named(spec_name).side(f"{side}s").fields
    keys = [*fields.consents, *([fields.parent_consent] if fields.parent_consent else [])]
    return records | dict.fromkeys(keys, given)


def post_of(spec_name: str, side: str, records: dict[str, Any]) -> str:
    """Return a person's post (a teacher's role and subjects) or class (a pupil's), in Russian.

    ``side`` is ``"mentors"`` or ``"mentees"``.

    Examples
    --------
    >>> post_of("teacher", "mentors", {"position": "teacher", "subjects": ["physics"]})
    'Учитель; физика'
    >>> post_of("pupil", "mentees", {"grade": "g8", "subjects": ["math"]})
    '8 класс'
    >>> post_of("teacher", "mentees", {"status": "newcomer", "subjects": ["math", "obzr"]})
    'Педагог; математика, ОБЗР'
    """
    part = load_spec_named(spec_name).side(side)
    words = []
    # The post is the questionnaire's «Должность» (``position``); a side without one (a teacher
    # mentee answers only the programme's category, ``status``) is a teacher of its subjects:
    # the category is not a post (issue 10: the order's «должность» column).
    role = "position" if part.has("position") else part.fields.role
    if role == "status":
        words.append("Педагог")
    elif role and records.get(role):
        words.append(part.question(role).choice(records[role]).label)
    if part.has("grade"):
        if records.get("grade"):
            words.append(f"{part.question('grade').label_of(records['grade'])} класс")
    elif part.has("subjects") and records.get("subjects"):
        question = part.question("subjects")
        words.append(", ".join(in_sentence(question.choice(s).label) for s in records["subjects"]))
    return "; ".join(words) or "—"


def forms_of(spec_name: str, side: str, records: dict[str, Any]) -> tuple[str, ...]:
    """Keys of the forms of mentoring a person fits by their role (and the forms they accept),
    from their answers: a college student is «работодатель – студент», a head teacher
    «руководитель ОО – педагог» (docs/rules.md#forms). ``side`` is ``"mentors"`` or
    ``"mentees"``.

    Examples
    --------
    >>> forms_of("teacher", "mentees", {"status": "student"})
    ('employer_student',)
    >>> forms_of("teacher", "mentors", {"position": "head"})
    ('head_teacher', 'employer_student')
    >>> forms_of("pupil", "mentors", {"role": "professional"})
    ('employer_pupil',)
    """
    from features.answers import person_forms

    spec = load_spec_named(spec_name)
    fields = spec.side(side).fields
    role = records.get(fields.role) if fields.role else None
    accepted = records.get(fields.forms) if fields.forms else None
    return person_forms(spec, side, None if role is None else str(role), accepted)


@lru_cache(maxsize=1)
def grades() -> dict[str, str]:
    """The classes of the shipped specs' «Класс» question: number -> answer key (a filter)."""
    found: dict[str, str] = {}
    for name in ("pupil",):
        part = load_spec_named(name).side("mentees")
        if part.has("grade"):
            found.update({c.label: c.key for c in part.question("grade").choices})
    return found


@lru_cache(maxsize=1)
def subjects() -> dict[str, str]:
    """The subjects of the shipped specs (answer key -> Russian name), for a filter."""
    found: dict[str, str] = {}
    for name in ("teacher", "pupil"):
        spec = load_spec_named(name)
        for side in ("mentors", "mentees"):
            part = spec.side(side)
            if part.has("subjects"):
                for c in part.question("subjects").choices:
                    found.setdefault(c.key, c.label)
    return dict(sorted(found.items(), key=lambda item: item[1]))
