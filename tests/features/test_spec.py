"""Questionnaire specs: the defaults cover the common core; a wrong spec is reported whole, in Russian."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from features import SpecError, load_spec
from features.spec import DEFAULT_SPECS


def raw_spec(name: str = "teacher") -> dict[str, Any]:
    return yaml.safe_load((DEFAULT_SPECS / f"{name}.yaml").read_text("utf-8"))


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(raw)
    return caught.value.problems


def test_teacher_spec_covers_the_common_core() -> None:
    spec = load_spec("teacher")
    assert [f.label for f in spec.forms] == [
        "педагог – педагог",
        "руководитель ОО – педагог",
        "работодатель – студент педвуза/колледжа",
    ]
    difficulties = spec.mentees.question("difficulties")
    assert len(difficulties.items) == 8
    assert {c.key for c in spec.mentors.question("competences").choices} == {
        i.key for i in difficulties.items
    }
    fields = spec.mentors.fields
    assert (fields.capacity, fields.consents, fields.remote) == (
        "capacity",
        ("consent",),
        "meeting_format",
    )
    capacity = spec.mentors.question("capacity")
    assert (capacity.min, capacity.max, capacity.integer) == (1, 3, True)
    assert {c.kind for c in spec.components} == {"overlap", "difference", "level", "text", "named"}


def test_pupil_spec_asks_a_parent_for_a_minor() -> None:
    spec = load_spec("pupil")
    assert [f.key for f in spec.forms] == ["pupil_pupil", "student_pupil", "employer_pupil"]
    for side in ("mentors", "mentees"):
        fields = spec.side(side).fields
        assert fields.parent_consent == "parent_consent"
        assert fields.age == "age"
    pupil_pupil = spec.form("pupil_pupil")
    assert pupil_pupil.conditions[0].min == 1


def test_unknown_spec_name_lists_the_defaults() -> None:
    with pytest.raises(SpecError, match="есть: pupil, teacher"):
        load_spec("школьная")


def test_json_spec_and_a_copied_yaml_spec_load(tmp_path: Path) -> None:
    raw = raw_spec()
    raw["mentors"]["questions"][2]["header"] = "Фамилия, имя, отчество наставника"
    path = tmp_path / "моя-анкета.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), "utf-8")
    spec = load_spec(path)
    assert spec.mentors.question("full_name").header == "Фамилия, имя, отчество наставника"
    copy_path = tmp_path / "copy.yaml"
    copy_path.write_text((DEFAULT_SPECS / "pupil.yaml").read_text("utf-8"), "utf-8")
    assert load_spec(copy_path) == load_spec("pupil")


def test_broken_yaml_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(SpecError, match="не читается как YAML/JSON"):
        load_spec(path)


def test_every_problem_is_listed_with_its_place() -> None:
    raw = copy.deepcopy(raw_spec())
    mentors = raw["mentors"]["questions"]
    mentors[5]["type"] = "matrix"
    mentors[6]["min"] = "много"
    mentors.append({"key": "extra", "header": "ФИО", "type": "text"})
    raw["mentees"]["questions"][5]["choices"] = "предметы"
    raw["components"][0]["mentor"] = "skills"
    raw["components"][2]["curve"] = [[5, 0], [1, 2]]
    raw["components"][1]["reason"] = "один предмет: {subject}"
    raw["forms"][0]["mentor"].append("pupil")
    raw["mentors"]["fields"]["capacity"] = "experience"
    raw["components"].append(dict(raw["components"][0], weight=-1))
    problems = problems_of(raw)
    expected = [
        "mentees.questions[5].choices: нет общего списка ответов «предметы»",
        "mentors.questions[5].type: допустимые значения: 'text', 'single', 'multi', "
        "'likert', 'number', 'date', 'yesno', 'consent' или 'slots'",
        "mentors.questions[6].min: ожидалось число",
        "components[9].weight: должно быть не меньше 0",
    ]
    assert problems == expected
    raw["mentors"]["questions"][5]["type"] = "multi"
    raw["mentors"]["questions"][6]["min"] = 0
    raw["mentees"]["questions"][5]["choices"] = "subjects"
    raw["components"].pop()
    problems = problems_of(raw)
    assert problems == [
        "mentors: заголовок столбца «фио» относится к двум вопросам (чтобы второй вопрос "
        "читал тот же столбец, напишите у него same_column_as)",
        "mentors.fields.capacity: наставник может взять от 0 до 3 наставляемых",
        "forms[0] (teacher_teacher).mentor: роли «pupil» нет среди ответов вопроса о роли",
        "components[0] (needs): в анкете наставников нет вопроса «skills»",
        "components[1] (subject).reason: шаблон не подходит ('subject'); доступны {n}, "
        "{total}, {items}",
        "components[2] (experience).curve: нужно не меньше двух точек с возрастающими x",
        "components[2] (experience).curve: значения y должны быть от 0 до 1",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda raw: raw["mentors"]["fields"].update(id="full_name_missing"),
            "mentors.fields.id: нет вопроса с ключом «full_name_missing»",
        ),
        (
            lambda raw: raw["mentors"]["fields"].update(role="subjects"),
            "mentors.fields.role: вопрос «subjects» должен быть типа: один ответ из списка",
        ),
        (
            lambda raw: raw["mentees"]["questions"][1].update(required=False),
            "mentees.fields.id: вопрос «person_id» должен быть обязательным (required: true)",
        ),
        (
            lambda raw: raw["components"][0].update(kind="difference", curve=None),
            "components[0] (needs): нужна кривая curve: [[x, y], ...]",
        ),
        (
            lambda raw: raw["components"][1].update(mentor="category"),
            "components[1] (subject): у вопросов «subjects» и «category» нет общих ответов",
        ),
        (
            lambda raw: [c.update(weight=0) for c in raw["components"]],
            "components: хотя бы у одной составляющей вес должен быть больше нуля",
        ),
        (
            lambda raw: raw["forms"].append(dict(raw["forms"][0])),
            "forms: форма «teacher_teacher» описана дважды",
        ),
        (
            lambda raw: raw["mentors"]["questions"][4]["choices"].append(
                {"key": "teacher2", "label": "Учитель"}
            ),
            "choices: написание «учитель» относится к двум ответам",
        ),
        (
            lambda raw: raw["components"][0].update(reason="стаж больше на {diff}"),
            "components[0] (needs).reason: шаблон не подходит ('diff'); доступны {n}, {total}",
        ),
        (
            lambda raw: raw["components"][2].update(reason="{diff:год|года}"),
            "components[2] (experience).reason: шаблон не подходит (a plural needs three forms",
        ),
        (
            lambda raw: raw.update(unknown_section=1),
            "unknown_section: неизвестное поле",
        ),
        (
            lambda raw: raw["mentors"]["questions"][1].update(key="Почта"),
            "mentors.questions[1].key: ключ пишется латиницей в нижнем регистре: буквы, цифры, _",
        ),
    ],
)
def test_one_wrong_thing_is_named(change: Any, problem: str) -> None:
    raw = copy.deepcopy(raw_spec())
    change(raw)
    assert any(problem in p for p in problems_of(raw)), problems_of(raw)


def test_spec_error_message_is_russian_and_lists_all() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec({"name": "пустая"})
    message = str(caught.value)
    assert message.startswith("Ошибки в описании анкеты «пустая» (5):")
    assert "  - mentors: обязательное поле не указано" in message


def test_a_broken_answer_pattern_is_named() -> None:
    raw = copy.deepcopy(raw_spec("pupil"))
    raw["choices"]["grades"][6]["patterns"] = ["7 (а"]
    problems = problems_of(raw)
    assert any("шаблон «7 (а» не является регулярным выражением" in p for p in problems), problems
