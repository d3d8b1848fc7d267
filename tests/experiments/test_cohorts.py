"""Synthetic cohorts: reproducible, valid exports, and a hidden truth that the outcomes follow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cohorts import TODAY, make_city, make_school, write_examples
from features import read_answers, score_pairs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_sample_files_are_the_generator_output(tmp_path: Path) -> None:
    written = write_examples(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "teachers/mentors.csv",
        "teachers/mentees.csv",
        "pupils/mentors.csv",
        "pupils/mentees.csv",
    ]
    for path in written:
        assert path.read_bytes() == (EXAMPLES / path.relative_to(tmp_path)).read_bytes(), path


@pytest.mark.parametrize("spec", ["teacher", "pupil"])
def test_a_seed_gives_the_same_cohort(spec: str) -> None:
    first, second = make_school(3, spec), make_school(3, spec)
    pd.testing.assert_frame_equal(first.mentors_table, second.mentors_table)
    pd.testing.assert_frame_equal(first.mentees_table, second.mentees_table)
    assert not make_school(4, spec).mentees_table.equals(first.mentees_table)


def test_teacher_school_looks_like_a_school() -> None:
    cohort = make_school(11, "teacher", teachers=80)
    mentees, mentors = cohort.answers("mentees"), cohort.answers("mentors")
    assert 8 <= len(mentees) <= 25
    assert 8 <= len(mentors) <= 20
    status = pd.Series(mentees.roles).value_counts(normalize=True)
    assert status.get("young", 0) >= 0.25
    assert mentors.roles.count("head") == 1
    assert (mentors.capacity >= 1).all()
    assert (mentors.capacity <= 3).all()
    experience = mentors.numbers("experience")
    assert experience.min() >= 6
    assert set(cohort.mentor_orgs) == set(cohort.mentee_orgs)
    assert len(set(cohort.mentee_orgs)) == 1
    assert all(pid.endswith(".example") for pid in mentors.person_ids)
    waiting = mentees.waiting_days(TODAY)
    assert np.nanmin(waiting) >= 0


def test_city_spreads_people_over_schools_and_some_accept_remote() -> None:
    cohort = make_city(5, "pupil", mentees=900, mentors=360, schools=12)
    mentees, mentors = cohort.answers("mentees"), cohort.answers("mentors")
    assert (len(mentees), len(mentors)) == (900, 360)
    assert len(set(cohort.mentee_orgs)) == 12
    assert 0.03 < mentees.remote.mean() < 0.25
    assert mentors.remote.mean() > mentees.remote.mean()
    assert set(mentors.roles) == {"pupil", "student", "professional"}
    assert mentees.minor.mean() > 0.95
    assert 0.7 < mentees.consent.mean() < 0.95
    scores = score_pairs(cohort.spec, mentors, mentees, cohort.mentee_orgs, cohort.mentor_orgs)
    mentee, mentor = scores.pairs
    crossing = np.array(cohort.mentee_orgs)[mentee] != np.array(cohort.mentor_orgs)[mentor]
    assert crossing.any()
    assert (mentees.remote[mentee[crossing]] & mentors.remote[mentor[crossing]]).all()


@pytest.mark.parametrize("spec", ["teacher", "pupil"])
def test_hidden_truth_agrees_with_the_hand_score(spec: str) -> None:
    cohort = make_city(8, spec, mentees=500, mentors=300, schools=6)
    scores = score_pairs(
        cohort.spec,
        cohort.answers("mentors"),
        cohort.answers("mentees"),
        cohort.mentee_orgs,
        cohort.mentor_orgs,
    )
    mentee, mentor = scores.pairs
    truth = cohort.compatibility(mentee, mentor)
    assert ((truth >= 0) & (truth <= 1)).all()
    assert truth.std() > 0.03
    # The questionnaires report the truth with noise, so the spec's score follows it, not exactly.
    assert 0.25 < np.corrcoef(scores.scores.data, truth)[0, 1] < 0.95


def test_outcomes_follow_compatibility_with_noise() -> None:
    cohort = make_city(2, "pupil", mentees=1200, mentors=500, schools=8)
    history = cohort.history(3000, seed=1)
    assert len(history) == 3000
    assert list(history.columns) == [
        "mentee",
        "mentor",
        "mentee_id",
        "mentor_id",
        "compatibility",
        "mentee_satisfaction",
        "mentor_satisfaction",
        "finished",
    ]
    for column in ("mentee_satisfaction", "mentor_satisfaction"):
        assert history[column].between(1, 10).all()
    good = history["compatibility"] > history["compatibility"].median()
    assert history.loc[good, "mentee_satisfaction"].mean() > (
        history.loc[~good, "mentee_satisfaction"].mean() + 0.5
    )
    assert history.loc[good, "finished"].mean() > history.loc[~good, "finished"].mean()
    assert history["finished"].between(0, 1).all()
    assert 0.2 < history["finished"].mean() < 0.95
    again = cohort.outcomes(history["mentee"], history["mentor"], seed=1)
    pd.testing.assert_frame_equal(again, history)
    other = cohort.outcomes(history["mentee"], history["mentor"], seed=2)
    assert not other["mentee_satisfaction"].equals(history["mentee_satisfaction"])


def test_write_in_excel_russian_csv_reads_back(tmp_path: Path) -> None:
    cohort = make_school(6, "pupil")
    mentors_path, mentees_path = cohort.write(tmp_path, encoding="cp1251", delimiter=";")
    assert mentors_path.read_bytes().count(b";") > 10
    answers = read_answers(mentees_path, cohort.spec, "mentees")
    assert answers.records == cohort.answers("mentees").records
