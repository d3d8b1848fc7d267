"""Small factories of questionnaire records and Hypothesis strategies for the features tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from features import Answers, Spec, answers_from_records, load_spec
from features.spec import DEFAULT_SPECS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATA = Path(__file__).resolve().parent / "data"

AREAS = ("science", "legal", "subject", "psychology", "methods", "ict", "upbringing", "health")
SUBJECTS = ("math", "physics", "russian", "history", "biology")
SLOTS = tuple(f"{d}_{p}" for d in ("mon", "tue", "wed") for p in ("afternoon", "evening"))


def teacher_mentor(person_id: str, **answers: Any) -> dict[str, Any]:
    """A consenting teacher mentor of one school; keyword arguments replace answers."""
    record = {
        "person_id": person_id,
        "full_name": f"Наставник {person_id}",
        "position": "teacher",
        "subjects": ["math"],
        "experience": 15,
        "category": "first",
        "competences": ["methods"],
        "meeting_format": ["in_person"],
        "capacity": 2,
        "consent": True,
    }
    return record | answers


def teacher_mentee(person_id: str, **answers: Any) -> dict[str, Any]:
    """A consenting young teacher of one school; keyword arguments replace answers."""
    record = {
        "person_id": person_id,
        "full_name": f"Наставляемый {person_id}",
        "status": "young",
        "subjects": ["math"],
        "experience": 1,
        "difficulties": {"methods": 2},
        "meeting_format": ["in_person"],
        "consent": True,
    }
    return record | answers


def pupil_mentor(person_id: str, **answers: Any) -> dict[str, Any]:
    """A consenting pupil mentor (10th class, parent's consent given)."""
    record = {
        "person_id": person_id,
        "full_name": f"Ученик-наставник {person_id}",
        "role": "pupil",
        "grade": "g10",
        "age": 16,
        "help": ["grades"],
        "meeting_format": ["in_person"],
        "capacity": 2,
        "consent": True,
        "parent_consent": True,
    }
    return record | answers


def pupil_mentee(person_id: str, **answers: Any) -> dict[str, Any]:
    """A consenting 7th-class pupil with a parent's consent."""
    record = {
        "person_id": person_id,
        "full_name": f"Ученик {person_id}",
        "grade": "g7",
        "age": 13,
        "goals": ["grades"],
        "meeting_format": ["in_person"],
        "consent": True,
        "parent_consent": True,
    }
    return record | answers


def answers(spec: Spec | str, side: str, records: list[dict[str, Any]]) -> Answers:
    """Validated answers from records."""
    return answers_from_records(spec, side, records)


def combined_spec() -> Spec:
    """A spec whose questionnaires take teachers and pupils on both sides (a school's own mix).

    Forms: педагог – педагог (teachers only) and ученик – ученик (pupils only; the mentor in an older
    class). Built from the teacher spec so the questions are the real ones.
    """
    import yaml

    raw = yaml.safe_load((DEFAULT_SPECS / "teacher.yaml").read_text("utf-8"))
    raw = copy.deepcopy(raw)
    raw["name"] = "combined"
    grades = [{"key": f"g{g}", "label": str(g), "value": g} for g in range(1, 12)]
    for side, role_key in (("mentors", "position"), ("mentees", "status")):
        questions = raw[side]["questions"]
        role = next(q for q in questions if q["key"] == role_key)
        role["choices"].append({"key": "pupil", "label": "Ученик"})
        questions.append({"key": "grade", "header": "Класс", "type": "single", "choices": grades})
    raw["mentors"]["questions"] = [q for q in raw["mentors"]["questions"] if q["key"] != "forms"]
    raw["mentors"]["fields"].pop("forms")
    raw["forms"] = [
        {
            "key": "teacher_teacher",
            "label": "педагог – педагог",
            "mentor": ["teacher", "specialist", "head"],
            "mentee": ["young", "newcomer", "learning", "non_pedagogical"],
        },
        {
            "key": "pupil_pupil",
            "label": "ученик – ученик",
            "mentor": ["pupil"],
            "mentee": ["pupil"],
            "conditions": [
                {"label": "наставник старше", "mentor": "grade", "mentee": "grade", "min": 1}
            ],
        },
    ]
    return load_spec(raw)


@st.composite
def people(draw: st.DrawFn, spec: Spec, side: str, size: int) -> list[dict[str, Any]]:
    """Random records of the combined spec: roles, schools, consents, remote, capacity, grades."""
    records = []
    for k in range(size):
        pupil = draw(st.booleans())
        if side == "mentors":
            role = "pupil" if pupil else draw(st.sampled_from(["teacher", "specialist", "head"]))
            record = teacher_mentor(
                f"o{k}",
                position=role,
                capacity=draw(st.integers(1, 3)),
                competences=draw(st.lists(st.sampled_from(AREAS), min_size=1, unique=True)),
            )
        else:
            role = "pupil" if pupil else draw(st.sampled_from(["young", "newcomer", "student"]))
            levels = st.dictionaries(st.sampled_from(AREAS), st.integers(0, 2), max_size=4)
            record = teacher_mentee(f"e{k}", status=role, difficulties=draw(levels) or None)
        record["school"] = draw(st.sampled_from(["Школа 1", "школа  1", "Школа 2", None]))
        record["consent"] = draw(st.sampled_from([True, True, True, False, None]))
        record["meeting_format"] = draw(
            st.sampled_from([["in_person"], ["remote"], ["in_person", "remote"]])
        )
        record["grade"] = f"g{draw(st.integers(5, 11))}" if pupil else None
        record["free_time"] = draw(st.lists(st.sampled_from(SLOTS), unique=True)) or None
        records.append(record)
    return records
