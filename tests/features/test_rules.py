"""Hard rules: the allowed pairs are exactly those a curator reading the regulation would allow."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import PairScores, Spec, load_spec, score_pairs
from features.text import normalize
from tests.features.util import (
    answers,
    combined_spec,
    people,
    pupil_mentee,
    pupil_mentor,
    teacher_mentee,
    teacher_mentor,
)

COMBINED = combined_spec()
TEACHER_ROLES = {"teacher", "specialist", "head"}
TEACHER_MENTEES = {"young", "newcomer", "learning", "non_pedagogical"}


def allowed_pairs(scores: PairScores) -> set[tuple[int, int]]:
    mentee, mentor = scores.pairs
    return set(zip(mentee.tolist(), mentor.tolist(), strict=True))


def oracle(mentor: dict[str, Any], mentee: dict[str, Any]) -> bool:
    """The rules of DOMAIN.md for one pair of the combined spec, written out plainly."""
    if mentor["consent"] is not True or mentee["consent"] is not True:
        return False
    if mentor["person_id"] == mentee["person_id"] or mentor["capacity"] < 1:
        return False
    same_school = normalize(mentor["school"] or "") == normalize(mentee["school"] or "")
    both_remote = "remote" in mentor["meeting_format"] and "remote" in mentee["meeting_format"]
    if not same_school and not both_remote:
        return False
    if mentor["position"] in TEACHER_ROLES and mentee["status"] in TEACHER_MENTEES:
        return True
    if mentor["position"] == "pupil" and mentee["status"] == "pupil":
        return int(mentor["grade"][1:]) - int(mentee["grade"][1:]) >= 1
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_allowed_pairs_are_exactly_the_rules(data: st.DataObject) -> None:
    mentor_records = data.draw(people(COMBINED, "mentors", data.draw(st.integers(0, 6))))
    mentee_records = data.draw(people(COMBINED, "mentees", data.draw(st.integers(0, 7))))
    mentors = answers(COMBINED, "mentors", mentor_records)
    mentees = answers(COMBINED, "mentees", mentee_records)
    scores = score_pairs(COMBINED, mentors, mentees)
    expected = {
        (i, j)
        for i, mentee in enumerate(mentee_records)
        for j, mentor in enumerate(mentor_records)
        if oracle(mentor, mentee)
    }
    assert allowed_pairs(scores) == expected
    assert scores.n_pairs == len(expected)
    for i in range(len(mentees)):
        for j in range(len(mentors)):
            assert bool(scores.blocked(i, j)) == ((i, j) not in expected)
    data_ = scores.scores.data
    assert ((data_ > 0) & (data_ <= 1)).all()


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_pupil_never_mentors_a_teacher(data: st.DataObject) -> None:
    mentor_records = data.draw(people(COMBINED, "mentors", 8))
    mentee_records = data.draw(people(COMBINED, "mentees", 8))
    scores = score_pairs(
        COMBINED,
        answers(COMBINED, "mentors", mentor_records),
        answers(COMBINED, "mentees", mentee_records),
    )
    for mentee, mentor in allowed_pairs(scores):
        if mentor_records[mentor]["position"] == "pupil":
            assert mentee_records[mentee]["status"] == "pupil"
            assert scores.form(mentee, mentor) == "pupil_pupil"


def test_pupil_mentor_and_teacher_mentee_are_blocked_with_a_reason() -> None:
    mentors = answers(COMBINED, "mentors", [teacher_mentor("p", position="pupil", grade="g11")])
    mentees = answers(COMBINED, "mentees", [teacher_mentee("t")])
    scores = score_pairs(COMBINED, mentors, mentees)
    assert scores.n_pairs == 0
    assert scores.blocked(0, 0) == ["ни одна форма наставничества не подходит обоим"]


def test_no_pair_without_consent_of_both_and_of_a_parent() -> None:
    spec = load_spec("pupil")
    mentors = answers(
        spec,
        "mentors",
        [
            pupil_mentor("m1"),
            pupil_mentor("m2", consent=False),
            pupil_mentor("m3", parent_consent=None),
            pupil_mentor("m4", role="student", grade=None, age=19, parent_consent=None),
        ],
    )
    mentees = answers(
        spec,
        "mentees",
        [pupil_mentee("e1"), pupil_mentee("e2", parent_consent=False), pupil_mentee("e3")],
    )
    mentees_no_consent = answers(spec, "mentees", [pupil_mentee("e4", consent=None)])
    scores = score_pairs(spec, mentors, mentees)
    assert allowed_pairs(scores) == {(0, 0), (0, 3), (2, 0), (2, 3)}
    assert scores.capacity.tolist() == [2, 0, 0, 2]
    assert scores.blocked(1, 0) == [
        "нет согласия наставляемого (для несовершеннолетнего нужно и согласие родителя)"
    ]
    assert scores.blocked(0, 2)[0] == (
        "нет согласия наставника (для несовершеннолетнего нужно и согласие родителя)"
    )
    assert score_pairs(spec, mentors, mentees_no_consent).n_pairs == 0


def test_no_cross_school_pair_unless_both_accept_remote() -> None:
    spec = load_spec("teacher")
    both = ["in_person", "remote"]
    mentors = answers(
        spec,
        "mentors",
        [
            teacher_mentor("a", school="Школа № 1"),
            teacher_mentor("b", school="Школа № 2", meeting_format=both),
            teacher_mentor("c", school="Школа № 2"),
        ],
    )
    mentees = answers(
        spec,
        "mentees",
        [
            teacher_mentee("x", school="школа  № 1"),
            teacher_mentee("y", school="Школа № 1", meeting_format=["remote"]),
        ],
    )
    scores = score_pairs(spec, mentors, mentees)
    assert allowed_pairs(scores) == {(0, 0), (1, 0), (1, 1)}
    assert scores.blocked(0, 1) == [
        "разные организации, а дистанционный формат устраивает не обоих"
    ]
    explicit = score_pairs(spec, mentors, mentees, mentee_orgs=["7", "7"], mentor_orgs=["7"] * 3)
    assert allowed_pairs(explicit) == {(i, j) for i in range(2) for j in range(3)}


def test_the_same_person_is_not_their_own_mentor() -> None:
    spec = load_spec("teacher")
    mentors = answers(spec, "mentors", [teacher_mentor("same@s.example"), teacher_mentor("o")])
    mentees = answers(spec, "mentees", [teacher_mentee("SAME@s.example")])
    scores = score_pairs(spec, mentors, mentees)
    assert allowed_pairs(scores) == {(0, 1)}
    assert scores.blocked(0, 0) == ["это один и тот же человек"]


def test_forms_follow_roles_answers_and_conditions() -> None:
    teacher = load_spec("teacher")
    mentors = answers(
        teacher,
        "mentors",
        [
            teacher_mentor("head", position="head"),
            teacher_mentor("only_students", forms=["employer_student"]),
        ],
    )
    mentees = answers(
        teacher, "mentees", [teacher_mentee("young"), teacher_mentee("student", status="student")]
    )
    scores = score_pairs(teacher, mentors, mentees)
    assert allowed_pairs(scores) == {(0, 0), (1, 0), (1, 1)}
    assert [scores.form(0, 0), scores.form(1, 0), scores.form(1, 1)] == [
        "head_teacher",
        "employer_student",
        "employer_student",
    ]
    pupil = load_spec("pupil")
    pupil_mentors = answers(
        pupil,
        "mentors",
        [
            pupil_mentor("same_class", grade="g7"),
            pupil_mentor("older", grade="g9"),
            pupil_mentor("pro", role="professional", grade=None, age=40, parent_consent=None),
        ],
    )
    pupil_mentees = answers(pupil, "mentees", [pupil_mentee("g7"), pupil_mentee("g8", grade="g8")])
    scores = score_pairs(pupil, pupil_mentors, pupil_mentees)
    assert allowed_pairs(scores) == {(0, 1), (1, 1), (1, 2)}
    assert scores.blocked(0, 0) == [
        "ученик – ученик: не выполнено условие «наставник учится в более старшем классе»"
    ]
    assert scores.blocked(0, 2) == [
        "работодатель – ученик: не выполнено условие «наставляемый учится в 8–11 классе»"
    ]


def test_scores_are_sparse_over_the_allowed_pairs_only() -> None:
    spec: Spec = load_spec("teacher")
    mentors = answers(
        spec, "mentors", [teacher_mentor(f"m{j}", school=f"S{j % 5}") for j in range(50)]
    )
    mentees = answers(
        spec, "mentees", [teacher_mentee(f"e{i}", school=f"S{i % 5}") for i in range(80)]
    )
    scores = score_pairs(spec, mentors, mentees)
    assert scores.scores.format == "csr"
    assert scores.scores.shape == (80, 50)
    assert scores.n_pairs == 80 * 10
    assert scores.values.shape == (800, len(spec.components))
    assert scores.scores.has_sorted_indices
    rows = np.repeat(np.arange(80), np.diff(scores.scores.indptr))
    assert (rows % 5 == scores.scores.indices % 5).all()
