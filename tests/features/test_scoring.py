"""Pair scores: hand-made pairs come out in the order a curator would rank them, with their reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from features import (
    PairTable,
    WeightsModel,
    load_model,
    load_spec,
    save_model,
    score_pairs,
)
from features.model import ModelError
from tests.features.util import answers, pupil_mentee, pupil_mentor, teacher_mentee, teacher_mentor

TEACHER = load_spec("teacher")
PUPIL = load_spec("pupil")
NEEDS = {"methods": 2, "ict": 2, "psychology": 1, "legal": 1}


def ranking(spec: Any, mentee: dict[str, Any], mentors: list[dict[str, Any]]) -> list[str]:
    """Mentor ids of one mentee, best score first."""
    scores = score_pairs(
        spec, answers(spec, "mentors", mentors), answers(spec, "mentees", [mentee])
    )
    row = {int(j): float(s) for j, s in zip(scores.scores.indices, scores.scores.data, strict=True)}
    assert len(row) == len(mentors), "every hand-made pair must be allowed"
    return [mentors[j]["person_id"] for j in sorted(row, key=lambda j: -row[j])]


def test_covering_more_requests_ranks_higher() -> None:
    mentee = teacher_mentee("y", difficulties=NEEDS)
    mentors = [
        teacher_mentor("none", competences=["health"]),
        teacher_mentor("all", competences=["methods", "ict", "psychology", "legal"]),
        teacher_mentor("urgent", competences=["methods", "ict"]),
        teacher_mentor("minor", competences=["psychology", "legal"]),
    ]
    assert ranking(TEACHER, mentee, mentors) == ["all", "urgent", "minor", "none"]


def test_same_subject_and_experience_break_ties_the_obvious_way() -> None:
    mentee = teacher_mentee("y", subjects=["physics"], experience=1)
    mentors = [
        teacher_mentor("other_subject_veteran", subjects=["history"], experience=25),
        teacher_mentor("physicist_veteran", subjects=["physics", "math"], experience=25),
        teacher_mentor("physicist_novice", subjects=["physics"], experience=2),
    ]
    assert ranking(TEACHER, mentee, mentors) == [
        "physicist_veteran",
        "physicist_novice",
        "other_subject_veteran",
    ]


def test_common_time_format_and_naming_each_raise_a_score() -> None:
    both = ["in_person", "remote"]
    mentee = teacher_mentee(
        "y", free_time=["mon_evening", "wed_evening"], meeting_format=both, wanted_mentor="named"
    )
    plain = {"free_time": ["fri_morning"], "meeting_format": ["in_person"]}
    mentors = [
        teacher_mentor("plain", **plain),
        teacher_mentor("one_slot", **(plain | {"free_time": ["mon_evening", "fri_morning"]})),
        teacher_mentor("two_slots", **(plain | {"free_time": ["mon_evening", "wed_evening"]})),
        teacher_mentor("named", **plain),
    ]
    assert ranking(TEACHER, mentee, mentors) == ["named", "two_slots", "one_slot", "plain"]


def test_pupils_rank_by_subjects_goals_and_class_gap() -> None:
    mentee = pupil_mentee("e", grade="g7", subjects=["math", "physics"], goals=["exams", "project"])
    mentors = [
        pupil_mentor("nothing", grade="g8", subjects=["history"], help=["leadership"]),
        pupil_mentor("subjects", grade="g10", subjects=["math", "physics"], help=["leadership"]),
        pupil_mentor(
            "all_close", grade="g9", subjects=["math", "physics"], help=["exams", "project"]
        ),
        pupil_mentor(
            "all_one_up", grade="g8", subjects=["math", "physics"], help=["exams", "project"]
        ),
    ]
    assert ranking(PUPIL, mentee, mentors) == ["all_close", "all_one_up", "subjects", "nothing"]


def test_reasons_name_what_fits_in_russian() -> None:
    mentees = answers(
        TEACHER,
        "mentees",
        [
            teacher_mentee(
                "y",
                subjects=["physics"],
                difficulties=NEEDS,
                free_time=["mon_evening", "tue_evening"],
                interests="туризм, шахматы",
                wanted_mentor="t",
            )
        ],
    )
    mentors = answers(
        TEACHER,
        "mentors",
        [
            teacher_mentor(
                "t",
                subjects=["physics", "math"],
                experience=21,
                category="highest",
                competences=["methods", "ict", "psychology"],
                free_time=["mon_evening", "tue_evening", "sat_morning"],
                interests="походы и туризм",
            )
        ],
    )
    scores = score_pairs(TEACHER, mentors, mentees)
    assert scores.reasons(0, 0, top=9) == [
        "закрывает 3 из 4 запросов: методика, ИКТ, работа с учениками и родителями",
        "наставляемый сам назвал этого наставника",
        "один предмет: физика",
        "стаж наставника больше на 20 лет",
        "общее время для встреч: пн вечер, вт вечер",
        "категория: высшая",
        "формат встреч: очно",
        "общие интересы: туризм",
    ]
    assert scores.reasons(0, 0) == scores.reasons(0, 0, top=9)[:3]
    values = scores.component_values(0, 0)
    assert values["needs"] == pytest.approx((2 + 2 + 1) / 6)
    assert values["subject"] == 1.0
    assert values["experience"] == pytest.approx(1.0)
    assert values["named"] == 0.75
    weights = np.array([c.weight for c in TEACHER.components])
    expected = sum(w * values[c.key] for w, c in zip(weights, TEACHER.components, strict=True))
    assert scores.score(0, 0) == pytest.approx(expected / weights.sum(), abs=1e-6)


def test_reasons_of_pupils_use_plural_forms() -> None:
    mentees = answers(
        PUPIL, "mentees", [pupil_mentee("e", subjects=["math"], goals=["exams", "grades"])]
    )
    mentors = answers(
        PUPIL,
        "mentors",
        [pupil_mentor("m", grade="g9", subjects=["math"], help=["exams", "grades", "career"])],
    )
    assert score_pairs(PUPIL, mentors, mentees).reasons(0, 0) == [
        "помощь по 1 предмету из 1: математика",
        "закрывает 2 из 2 целей: успеваемость, подготовка к экзаменам",
        "старше на 2 класса",
    ]


def test_missing_answers_take_the_neutral_value() -> None:
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y", difficulties=None)])
    mentors = answers(TEACHER, "mentors", [teacher_mentor("t", category=None)])
    values = score_pairs(TEACHER, mentors, mentees).component_values(0, 0)
    assert values["needs"] == 0.5
    assert values["category"] == pytest.approx(0.3)
    assert values["interests"] == 0.0


def test_a_pair_that_is_not_allowed_has_no_values() -> None:
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y", consent=False)])
    mentors = answers(TEACHER, "mentors", [teacher_mentor("t")])
    scores = score_pairs(TEACHER, mentors, mentees)
    assert scores.score(0, 0) is None
    assert not scores.allowed(0, 0)
    with pytest.raises(KeyError, match="нет согласия наставляемого"):
        scores.reasons(0, 0)


def test_describe_gives_a_table_of_chosen_pairs() -> None:
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y")])
    mentors = answers(TEACHER, "mentors", [teacher_mentor("t")])
    table = score_pairs(TEACHER, mentors, mentees).describe([(0, 0)])
    assert table.loc[0, ["mentee_id", "mentor_id", "form"]].tolist() == [
        "y",
        "t",
        "педагог – педагог",
    ]
    assert list(table.columns[-len(TEACHER.components) :]) == [c.key for c in TEACHER.components]


def test_sides_and_organisations_are_checked() -> None:
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y")])
    mentors = answers(TEACHER, "mentors", [teacher_mentor("t")])
    with pytest.raises(ValueError, match="must hold mentors answers"):
        score_pairs(TEACHER, mentees, mentors)
    with pytest.raises(ValueError, match=r"'mentee_orgs' parameter .* Got 2 instead"):
        score_pairs(TEACHER, mentors, mentees, mentee_orgs=["a", "b"])
    with pytest.raises(ValueError, match="must follow the spec 'pupil'"):
        score_pairs(PUPIL, mentors, mentees)


class Constant:
    """A model that scores every pair by its subject component only."""

    def score(self, pairs: PairTable) -> np.ndarray:
        return pairs.values[:, list(pairs.components).index("subject")] * 0.5


def test_a_model_replaces_the_hand_weights() -> None:
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y", subjects=["physics"])])
    mentors = answers(
        TEACHER,
        "mentors",
        [teacher_mentor("same", subjects=["physics"]), teacher_mentor("other", subjects=["art"])],
    )
    scores = score_pairs(TEACHER, mentors, mentees, model=Constant())
    assert scores.scores.toarray().tolist() == [[0.5, pytest.approx(1e-6)]]
    assert scores.n_pairs == 2

    class Broken:
        def score(self, pairs: PairTable) -> np.ndarray:
            return np.zeros(len(pairs) + 1)

    with pytest.raises(ValueError, match="one finite score per allowed pair"):
        score_pairs(TEACHER, mentors, mentees, model=Broken())


def test_weights_model_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_model(WeightsModel({"subject": 3.0, "needs": 1.0}, spec="teacher"), path)
    model = load_model(path)
    mentees = answers(TEACHER, "mentees", [teacher_mentee("y", subjects=["physics"])])
    mentors = answers(
        TEACHER,
        "mentors",
        [teacher_mentor("same", subjects=["physics"]), teacher_mentor("other", subjects=["art"])],
    )
    scores = score_pairs(TEACHER, mentors, mentees, model=model)
    # needs: the mentee asks for methods, both mentors offer it.
    assert scores.scores.toarray()[0].tolist() == pytest.approx([1.0, 0.25])
    assert scores.reasons(0, 0)[0] == "один предмет: физика"
    logistic = WeightsModel({"subject": 4.0}, intercept=-2.0, link="logistic")
    assert score_pairs(TEACHER, mentors, mentees, model=logistic).scores.toarray()[0] == (
        pytest.approx([1 / (1 + np.exp(-2)), 1 / (1 + np.exp(2))])
    )
    pupil_mentors = answers(PUPIL, "mentors", [pupil_mentor("m")])
    pupil_mentees = answers(PUPIL, "mentees", [pupil_mentee("e")])
    with pytest.raises(ModelError, match="обучена для анкеты «teacher», а не «pupil»"):
        score_pairs(PUPIL, pupil_mentors, pupil_mentees, model=model)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "не читается"),
        (json.dumps({"format": "other"}), "нет весов nastavnik"),
        (json.dumps({"format": "nastavnik-weights"}), "не читается"),
    ],
)
def test_bad_model_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ModelError, match=message):
        load_model(path)
    with pytest.raises(ModelError, match="не найден"):
        load_model(tmp_path / "missing.json")


@pytest.mark.parametrize("spec", [TEACHER, PUPIL])
def test_empty_sides_score_to_an_empty_matrix(spec: Any) -> None:
    """Regression: a school with mentors but no mentees yet (or none at all) crashed scoring."""
    make = {"teacher": (teacher_mentor, teacher_mentee), "pupil": (pupil_mentor, pupil_mentee)}
    mentor, mentee = make[spec.name]
    for mentor_records, mentee_records in (([], []), ([mentor("m")], []), ([], [mentee("e")])):
        scores = score_pairs(
            spec,
            answers(spec, "mentors", mentor_records),
            answers(spec, "mentees", mentee_records),
        )
        assert scores.scores.shape == (len(mentee_records), len(mentor_records))
        assert scores.n_pairs == 0
        assert scores.capacity.tolist() == [2] * len(mentor_records)
