"""Groups in the spec: a form's largest group and term, the cohesion section, the mentees' demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from features import answers_from_records, load_spec, score_pairs
from features.groups import mentee_similarity, solve_groups
from matching import violations
from tests.features.test_spec import problems_of, raw_spec


def test_pupil_spec_has_groups_terms_cohesion_and_demand() -> None:
    spec = load_spec("pupil")
    sizes = {form.key: form.max_group for form in spec.forms}
    assert sizes == {"pupil_pupil": 10, "student_pupil": 5, "employer_pupil": 10}
    assert all(1 <= f.term.min_months <= f.term.max_months <= 12 for f in spec.forms)
    assert spec.cohesion is not None
    assert spec.cohesion.questions == ("grade", "subjects", "free_time")
    assert spec.mentees.fields.demand == "mentors_needed"
    teacher = load_spec("teacher")
    assert {form.max_group for form in teacher.forms} == {3}  # docs/rules.md#capacity


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda raw: raw["forms"][0].update(term={"min_months": 6, "max_months": 3}),
            "forms[0] (pupil_pupil).term: наименьший срок (6 мес.) больше наибольшего (3 мес.)",
        ),
        (
            lambda raw: raw["forms"][0].update(term={"min_months": 1, "max_months": 13}),
            "forms[0].term.max_months: должно быть не больше 12",
        ),
        (
            lambda raw: raw["forms"][1].update(max_group=31),
            "forms[1].max_group: должно быть не больше 30",
        ),
        (
            lambda raw: raw["cohesion"].update(questions=["grade", "nothing"]),
            "cohesion.questions[1]: в анкете наставляемого нет вопроса с ключом «nothing»",
        ),
        (
            lambda raw: raw["cohesion"].update(questions=["full_name"]),
            "cohesion.questions[0]: вопрос «full_name» нельзя сравнивать (текст, дата или согласие)",
        ),
        (
            lambda raw: raw["mentees"]["fields"].update(demand="grade"),
            "mentees.fields.demand: вопрос «grade» должен быть типа: число",
        ),
        (
            lambda raw: [
                q.update(max=11) for q in raw["mentors"]["questions"] if q["key"] == "capacity"
            ],
            "mentors.fields.capacity: наставник может взять от 0 до 10 наставляемых",
        ),
    ],
)
def test_a_wrong_group_setting_is_named(change: Any, problem: str) -> None:
    raw = raw_spec("pupil")
    change(raw)
    assert problem in problems_of(raw)


def _people(spec: Any) -> tuple[Any, Any]:
    common = {"meeting_format": ["in_person"], "consent": True, "parent_consent": True}
    mentors = answers_from_records(
        spec,
        "mentors",
        [
            {"person_id": "m1", "full_name": "Старшеклассник", "role": "pupil", "grade": "g10",
             "age": 16, "help": ["grades"], "subjects": ["math"], "capacity": 8, **common},
            {"person_id": "m2", "full_name": "Студент", "role": "student", "age": 19,
             "help": ["grades"], "subjects": ["math"], "capacity": 8, **common},
        ],
    )  # fmt: skip
    mentees = answers_from_records(
        spec,
        "mentees",
        [
            {"person_id": f"p{i}", "full_name": f"Ученик {i}", "grade": "g6" if i < 4 else "g7",
             "age": 12, "goals": ["grades"], "subjects": ["math"],
             "mentors_needed": 2 if i == 0 else None, **common}
            for i in range(8)
        ],
    )  # fmt: skip
    return mentors, mentees


def test_capacity_is_clipped_to_the_form_and_demand_is_read() -> None:
    raw = raw_spec("pupil")
    for question in raw["mentors"]["questions"]:
        if question["key"] == "capacity":
            question["max"] = 10
    spec = load_spec(raw)
    mentors, mentees = _people(spec)
    assert mentors.max_capacity.tolist() == [10, 5]  # ученик – ученик 10, студент – ученик 5
    assert mentors.capacity.tolist() == [8, 5]  # the student asked for 8: the form allows 5
    assert mentees.demand.tolist() == [2, 1, 1, 1, 1, 1, 1, 1]
    scores = score_pairs(spec, mentors, mentees)
    problem = scores.problem()
    assert problem.max_capacity.tolist() == [10, 5]
    matching, info = solve_groups(scores)
    assert violations(problem, matching.pairs) == []
    assert sorted(j for i, j in matching.pairs if i == 0) == [0, 1]  # two distinct mentors
    assert info["gap"] >= 0
    # The classes 6 and 7 are alike inside, not across.
    similarity = mentee_similarity(scores).toarray()
    assert similarity[1, 2] > similarity[1, 5]
    assert np.allclose(similarity, similarity.T)


def test_tables_show_groups_co_mentors_and_a_mentee_short_of_mentors() -> None:
    from features.report import proposals

    raw = raw_spec("pupil")
    for question in raw["mentors"]["questions"]:
        if question["key"] == "capacity":
            question["max"] = 10
    spec = load_spec(raw)
    mentors, mentees = _people(spec)
    scores = score_pairs(spec, mentors, mentees)
    # Mentee 0 needs two mentors and gets one; mentor 0 has a group of three.
    tables = proposals(scores, [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)])
    short = tables.unmatched.set_index("Код наставляемого").loc["p0", "Причина"]
    assert short.startswith("нужно наставников: 2, предложено: 1")
    assert set(tables.unmatched["Код наставляемого"]) == {"p0", "p5", "p6", "p7"}
    assert tables.groups is not None
    groups = tables.groups.set_index("Код наставника")
    assert groups.loc["m1", "Наставляемых"] == 3
    assert groups.loc["m1", "Наибольшая группа формы"] == 10
    assert groups.loc["m1", "Срок, мес."] == "1–9"
    assert groups.loc["m2", "Наибольшая группа формы"] == 5
    labels = tables.pairs.groupby("Группа")["Код наставляемого"].apply(sorted)
    assert labels.loc[groups.loc["m1", "Группа"]] == ["p0", "p1", "p2"]
    both = proposals(scores, [(0, 0), (0, 1)]).pairs.set_index("Код наставника")
    assert both.loc["m1", "Другие наставники"] == "Студент"
    assert both.loc["m2", "Другие наставники"] == "Старшеклассник"
