"""Encoders: scikit-learn behaviour and properties that hold for any answers (Hypothesis)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from features import (
    ChoiceEncoder,
    QuestionnaireEncoder,
    ScaleEncoder,
    SlotEncoder,
    TextEncoder,
    load_spec,
    read_answers,
)
from features.parse import QuestionParser
from tests.features.util import EXAMPLES

KEYS = ("math", "physics", "ict", "methods", "legal")
TEACHER_SLOTS = load_spec("teacher").mentors.question("free_time")
answer = st.one_of(
    st.none(),
    st.sampled_from(KEYS),
    st.lists(st.sampled_from(KEYS), unique=True),
)


@given(st.lists(answer, max_size=30))
def test_choice_encoder_round_trips_the_answers(answers: list[object]) -> None:
    encoder = ChoiceEncoder(categories=KEYS).fit(answers)
    matrix = encoder.transform(answers)
    assert matrix.shape == (len(answers), len(KEYS))
    assert set(np.unique(matrix)) <= {0.0, 1.0}
    decoded = encoder.inverse_transform(matrix)
    for given_answer, keys in zip(answers, decoded, strict=True):
        wanted = [] if given_answer is None else given_answer
        wanted = [wanted] if isinstance(wanted, str) else wanted
        assert sorted(keys) == sorted(wanted)


@given(st.lists(st.dictionaries(st.sampled_from(KEYS), st.floats(0.01, 1.0)), max_size=20))
def test_choice_encoder_keeps_likert_weights(answers: list[dict[str, float]]) -> None:
    matrix = ChoiceEncoder(categories=KEYS).fit_transform(answers)
    for row, weights in zip(matrix, answers, strict=True):
        assert row.sum() == pytest.approx(sum(weights.values()), rel=1e-5)


@given(st.lists(st.lists(st.sampled_from(KEYS), unique=True), min_size=1, max_size=20))
def test_auto_categories_are_the_keys_seen(answers: list[list[str]]) -> None:
    encoder = ChoiceEncoder().fit(answers)
    assert encoder.categories_ == sorted({k for a in answers for k in a})
    assert list(encoder.get_feature_names_out()) == encoder.categories_


@given(
    st.lists(st.one_of(st.none(), st.floats(-100, 100)), min_size=1, max_size=40),
    st.floats(-50, 0),
    st.floats(1, 50),
)
def test_scale_encoder_stays_in_the_unit_range_and_keeps_order(
    values: list[float | None], low: float, high: float
) -> None:
    column = ScaleEncoder(low=low, high=high).fit(values).transform(values)[:, 0]
    assert ((column >= 0) & (column <= 1)).all()
    known = [(v, c) for v, c in zip(values, column, strict=True) if v is not None]
    for (a, ca), (b, cb) in itertools.pairwise(known):
        if a <= b:
            assert ca <= cb + 1e-6


slot = st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]).flatmap(
    lambda day: st.sampled_from([f"{day}_{p}" for p in ("morning", "afternoon", "evening")])
)


@given(st.lists(st.lists(slot, unique=True), max_size=10))
def test_slot_encoder_has_a_column_per_day_and_part(answers: list[list[str]]) -> None:
    encoder = SlotEncoder(parts=("morning", "afternoon", "evening")).fit(answers)
    matrix = encoder.transform(answers)
    assert matrix.shape == (len(answers), 21)
    assert matrix.sum(axis=1).tolist() == [len(a) for a in answers]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["пн", "вт", "ср", "чт", "пт", "сб", "вс"]), min_size=1, unique=True),
    st.sampled_from(["утро", "день", "вечер"]),
    st.sampled_from([", ", "; ", " и ", "\n"]),
)
def test_slot_text_names_each_day_and_part(days: list[str], part: str, glue: str) -> None:
    parser = QuestionParser(TEACHER_SLOTS)
    text = (
        glue.join(f"{day} {part}" for day in days)
        if glue != " и "
        else " и ".join(days) + f" {part}"
    )
    keys = parser.parse(text)
    order = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    english = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    suffix = {"утро": "morning", "день": "afternoon", "вечер": "evening"}[part]
    assert keys == [f"{english[order.index(d)]}_{suffix}" for d in order if d in days]


def test_slot_text_understands_hours_and_day_groups() -> None:
    parser = QuestionParser(load_spec("pupil").mentors.question("free_time"))
    assert parser.parse("будни 15:00–17:00") == [
        f"{d}_afternoon" for d in ("mon", "tue", "wed", "thu", "fri")
    ]
    # A day named without a part of the day means the whole day.
    assert parser.parse("Суббота, воскресенье — утро") == [
        "sat_morning",
        "sat_afternoon",
        "sat_evening",
        "sun_morning",
    ]
    assert parser.parse("ПН после уроков и вечером") == ["mon_afternoon", "mon_evening"]


def test_text_encoder_gives_unit_vectors_and_similar_texts_are_close() -> None:
    texts = ["туризм и походы", "туристические походы", "шахматы", None, "хоровое пение", ""]
    vectors = TextEncoder().fit(texts).transform(texts)
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[[0, 1, 2, 4]] == pytest.approx(1.0)
    assert norms[[3, 5]].tolist() == [0.0, 0.0]
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_encoders_follow_the_scikit_learn_conventions() -> None:
    for encoder in (ChoiceEncoder(), ScaleEncoder(low=0, high=3), SlotEncoder(), TextEncoder()):
        assert clone(encoder).get_params() == encoder.get_params()
        assert not [a for a in vars(encoder) if a.endswith("_")]
    with pytest.raises(ValueError, match="'categories' parameter of ChoiceEncoder"):
        ChoiceEncoder(categories="all").fit([])
    with pytest.raises(ValueError, match="'fill' parameter of ScaleEncoder"):
        ScaleEncoder(fill="mean").fit([1.0])


def test_questionnaire_encoder_leaves_out_personal_data() -> None:
    spec = load_spec("teacher")
    mentees = read_answers(EXAMPLES / "teachers" / "mentees.csv", spec, "mentees")
    encoder = QuestionnaireEncoder(spec, "mentees").fit(mentees)
    matrix = encoder.transform(mentees)
    names = list(encoder.get_feature_names_out())
    assert matrix.shape == (len(mentees), len(names))
    assert ((matrix >= 0) & (matrix <= 1)).all()
    assert "difficulties=ict" in names
    assert "experience" in names
    assert "free_time=mon_evening" in names
    assert not [n for n in names if n.split("=")[0] in ("person_id", "full_name", "school")]
    assert not [n for n in names if n.split("=")[0] in ("interests", "expectations", "entered")]
