"""Scores in bounded memory: chunk by chunk, 8 bytes a pair, the same pairs and scores."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.cohorts import make_city
from features import read_answers, score_pairs
from features.streaming import pair_details, stream_scores, take


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    made = make_city(seed=3, spec="pupil", mentees=1200, mentors=500, schools=12)
    mentees = read_answers(made.mentees_table, made.spec, "mentees")
    mentors = read_answers(made.mentors_table, made.spec, "mentors")
    whole = score_pairs(
        made.spec, mentors, mentees, mentee_orgs=made.mentee_orgs, mentor_orgs=made.mentor_orgs
    )
    return made, mentees, mentors, whole


@pytest.mark.parametrize("chunk", [1, 97, 5000])
def test_chunks_give_the_pairs_and_scores_of_score_pairs(city, chunk) -> None:  # type: ignore[no-untyped-def]
    made, mentees, mentors, whole = city
    compact = stream_scores(
        made.spec, mentors, mentees, made.mentee_orgs, made.mentor_orgs, chunk=chunk
    )
    assert compact.mentor.dtype == np.int32
    assert compact.score.dtype == np.float32
    assert compact.nbytes <= 8 * len(compact) + 8 * (len(mentees) + 1)
    np.testing.assert_array_equal(compact.indptr, whole.scores.indptr)
    np.testing.assert_array_equal(compact.mentor, whole.scores.indices)
    # float32 sums of the same components; the row order of a matrix product may change the last bit
    np.testing.assert_allclose(compact.score, whole.scores.data, rtol=0, atol=2e-7)
    np.testing.assert_array_equal(compact.capacity, whole.capacity)
    # many pairs cross schools (remote mentoring): the test would not see a chunk boundary otherwise
    assert len(compact) > 10 * len(mentees)


def test_details_of_chosen_pairs_are_those_of_score_pairs(city) -> None:  # type: ignore[no-untyped-def]
    made, mentees, mentors, whole = city
    matrix = whole.scores
    rng = np.random.default_rng(0)
    rows = rng.choice(len(mentees), 60, replace=False)
    pairs = [
        (int(i), int(matrix.indices[matrix.indptr[i]]))
        for i in rows
        if matrix.indptr[i + 1] > matrix.indptr[i]
    ]
    got = pair_details(
        made.spec, mentors, mentees, pairs, made.mentee_orgs, made.mentor_orgs, chunk=7
    )
    want = [([str(r) for r in whole.reasons(i, j, top=3)], str(whole.form(i, j))) for i, j in pairs]
    assert got == want
    assert any(reasons for reasons, _ in got)


def test_take_keeps_the_people_asked_for(city) -> None:  # type: ignore[no-untyped-def]
    _, mentees, _, _ = city
    some = take(mentees, [5, 2])
    assert some.person_ids == [mentees.person_ids[5], mentees.person_ids[2]]
    assert take(mentees, slice(3, 6)).person_ids == mentees.person_ids[3:6]


def test_a_chunk_below_one_is_refused(city) -> None:  # type: ignore[no-untyped-def]
    made, mentees, mentors, _ = city
    with pytest.raises(ValueError, match="chunk"):
        stream_scores(made.spec, mentors, mentees, chunk=0)
