"""Learning from outcomes: grouped folds, the history file's errors, and a signal that is found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from features import ImportFailed, ModelError, WeightsModel, load_model, score_pairs
from features.learning import (
    KINDS,
    History,
    LearnError,
    PersonGroupKFold,
    design,
    fit_model,
    group_folds,
    history_table,
    learn,
    person_folds,
    pooled_quality,
    predict,
    quality,
    read_history,
    save,
)
from features.model import LinearPairModel
from tests.features.learning_util import histories, people_of


@settings(max_examples=300, deadline=None)
@given(histories())
def test_no_person_is_in_training_and_in_test(history: tuple[list[str], list[str]]) -> None:
    mentors, mentees = history
    groups = np.array([mentors, mentees], dtype=object).T.reshape(-1, 2)
    try:
        splits = list(PersonGroupKFold(5).split(groups, groups=groups))
    except LearnError:
        return  # everybody is linked: no honest split exists, and it is said so
    tested: list[int] = []
    for train, test in splits:
        assert not people_of(mentors, mentees, train) & people_of(mentors, mentees, test)
        tested += test.tolist()
    assert len(tested) == len(set(tested)), "a pair is tested twice"


@settings(max_examples=100, deadline=None)
@given(histories())
def test_stratified_folds_keep_people_apart_too(history: tuple[list[str], list[str]]) -> None:
    mentors, mentees = history
    outcome = np.arange(len(mentors)) % 2
    try:
        mentor_fold, mentee_fold = person_folds(mentors, mentees, 4, outcome, seed=1)
    except LearnError:
        return
    fold_of: dict[str, int] = {}
    for person, fold in [
        *zip(mentors, mentor_fold, strict=True),
        *zip(mentees, mentee_fold, strict=True),
    ]:
        assert fold_of.setdefault(person, int(fold)) == fold, f"{person} is in two folds"


def test_small_groups_lose_no_pair() -> None:
    # Each mentor with their own mentees: every pair is tested exactly once.
    mentors = [f"m{k // 3}" for k in range(30)]
    mentees = [f"e{k}" for k in range(30)]
    groups = np.array([mentors, mentees], dtype=object).T
    tests = [test for _, test in PersonGroupKFold(5).split(groups, groups=groups)]
    assert len(tests) == 5
    assert sorted(np.concatenate(tests).tolist()) == list(range(30))


def test_a_replaced_mentor_does_not_leak_the_mentee() -> None:
    # A dense history: every mentee had two mentors, and so everybody is in one component.
    rng = np.random.default_rng(0)
    mentors = [f"m{k}" for k in rng.integers(0, 10, 120)]
    mentees = [f"e{k // 2}" for k in range(120)]
    mentor_fold, mentee_fold = person_folds(mentors, mentees, 5)
    assert len(set(mentor_fold.tolist())) == 5
    for k in range(120):
        for j in range(120):
            if mentors[k] == mentors[j]:
                assert mentor_fold[k] == mentor_fold[j]
            if mentees[k] == mentees[j]:
                assert mentee_fold[k] == mentee_fold[j]


def test_one_mentor_for_everybody_cannot_be_split() -> None:
    with pytest.raises(LearnError, match="связаны"):
        person_folds(["m"] * 30, [f"e{k}" for k in range(30)], 5)


# ----------------------------------------------------------------------------- the history file


@pytest.fixture(scope="module")
def past() -> tuple[object, object, object]:
    from experiments.cohorts import make_city

    cohort = make_city(seed=21, spec="teacher", mentees=240, mentors=160, schools=4)
    return cohort.spec, cohort.answers("mentors"), cohort.answers("mentees")


def test_history_file_is_read_by_person_ids(past: tuple, tmp_path: Path) -> None:
    _, mentors, mentees = past
    path = tmp_path / "история.csv"
    path.write_text(
        "Mentor_ID;mentee_id;Outcome\n"
        f"{mentors.person_ids[3].upper()};{mentees.person_ids[5]};7,5\n"
        f"{mentors.person_ids[4]};{mentees.person_ids[6]};да\n",
        encoding="cp1251",
    )
    history = read_history(path, mentors, mentees, filename=path.name)
    assert history.mentor.tolist() == [3, 4]
    assert history.mentee.tolist() == [5, 6]
    assert history.outcome.tolist() == [7.5, 1.0]
    assert history.rows == [2, 3]
    assert not history.binary


def test_a_bad_history_file_lists_every_problem_in_russian(past: tuple) -> None:
    _, mentors, mentees = past
    frame = pd.DataFrame(
        {
            "mentor_id": [mentors.person_ids[0], "nobody@school.example", ""],
            "mentee_id": [mentees.person_ids[0], mentees.person_ids[1], "кто-то"],
            "outcome": ["хорошо", "8", ""],
        }
    )
    with pytest.raises(ImportFailed) as caught:
        read_history(frame, mentors, mentees, filename="history.csv")
    found = [str(issue) for issue in caught.value.issues]
    assert found == [
        "строка 2, столбец «outcome»: значение «хорошо»: ожидалось число: оценка "
        "удовлетворённости (например 8) или 1/0 (завершили или нет)",
        "строка 3, столбец «mentor_id»: значение «nobody@school.example»: такого наставника "
        "нет в анкетах наставников",
        "строка 4, столбец «mentor_id»: не указан код или e-mail наставника",
        "строка 4, столбец «mentee_id»: значение «кто-то»: такого наставляемого нет в анкетах "
        "наставляемых",
        "строка 4, столбец «outcome»: не указан исход пары",
    ]
    assert "history.csv" in str(caught.value)


def test_missing_columns_are_named(past: tuple) -> None:
    _, mentors, mentees = past
    with pytest.raises(ImportFailed) as caught:
        read_history(pd.DataFrame({"mentor_id": ["x"], "result": [1]}), mentors, mentees)
    assert [issue.column for issue in caught.value.issues] == ["mentee_id", "outcome"]
    assert all(issue.row is None for issue in caught.value.issues)
    assert "нет столбца «outcome»" in caught.value.issues[1].message


# ----------------------------------------------------------------------------- learning


@pytest.fixture(scope="module")
def sampled(past: tuple) -> tuple[History, object]:
    """500 allowed pairs of the past cohort and their component values."""
    spec, mentors, mentees = past
    scores = score_pairs(spec, mentors, mentees)
    mentee, mentor = scores.pairs
    rng = np.random.default_rng(8)
    chosen = np.sort(rng.choice(len(mentee), size=min(500, len(mentee)), replace=False))
    history = History(mentee[chosen], mentor[chosen], np.zeros(len(chosen)))
    return history, history_table(spec, mentors, mentees, history)


PLANTED = {"schedule": 3.0, "experience": 2.0}


def _planted(sampled: tuple, binary: bool) -> History:
    """Outcomes made from a known weighting of two components, far from the spec's weights."""
    history, table = sampled
    rng = np.random.default_rng(9)
    signal = sum(w * table.values[:, table.components.index(k)] for k, w in PLANTED.items())
    signal = signal - signal.mean() + rng.normal(0, 0.3, len(history))
    outcome = (signal > 0).astype(float) if binary else np.clip(np.rint(5.5 + 3 * signal), 1, 10)
    return History(history.mentee, history.mentor, outcome)


@pytest.mark.parametrize("binary", [True, False])
def test_learning_finds_a_planted_signal_the_hand_weights_miss(
    past: tuple, sampled: tuple, binary: bool
) -> None:
    spec, mentors, mentees = past
    history = _planted(sampled, binary)
    found = learn(spec, mentors, mentees, history, kind="weights", seed=2, table=sampled[1])
    assert found.binary is binary
    assert found.metric == ("ROC-AUC" if binary else "корреляция Спирмена")
    summary = found.summary()
    assert summary.loc["weights", "mean"] > summary.loc["hand", "mean"] + 0.1
    # Pooled over every tested pair, with an interval that holds the estimate.
    assert summary.loc["weights", "low"] > summary.loc["hand", "high"]
    assert summary.loc["weights", "low"] <= summary.loc["weights", "quality"]
    assert summary.loc["weights", "quality"] <= summary.loc["weights", "high"]
    # Only the kind asked for is fitted; every pair is tested once (folds by mentee).
    assert set(found.folds["method"]) == {"hand", "weights"}
    assert found.tested == found.n_pairs == len(history)
    assert isinstance(found.model, WeightsModel)
    weights = found.model.weights
    top_two = sorted(weights, key=weights.get, reverse=True)[:2]
    assert set(top_two) == set(PLANTED)


def test_folds_of_learning_keep_people_apart(past: tuple, sampled: tuple) -> None:
    spec, mentors, mentees = past
    history = _planted(sampled, True)
    found = learn(
        spec, mentors, mentees, history, n_splits=4, seed=0, table=sampled[1], split="person"
    )
    assert set(found.folds["method"]) == {"hand", *KINDS}
    assert (found.folds["train"] + found.folds["test"] <= len(history)).all()
    assert found.tested == found.folds.groupby("method")["test"].sum()["hand"]
    # auto keeps the simplest kind unless another wins beyond noise: the signal is in components.
    assert found.kind == "weights"


def test_too_little_or_uniform_history_is_refused(past: tuple) -> None:
    spec, mentors, mentees = past
    few = History(np.arange(5), np.arange(5), np.array([1.0, 0, 1, 0, 1]))
    with pytest.raises(LearnError, match="хотя бы 20"):
        learn(spec, mentors, mentees, few)
    same = History(np.arange(40) % 20, np.arange(40) % 15, np.full(40, 7.0))
    with pytest.raises(LearnError, match="один и тот же исход"):
        learn(spec, mentors, mentees, same)


@pytest.mark.parametrize("kind", KINDS)
def test_a_saved_model_scores_like_the_learned_one(
    past: tuple, sampled: tuple, kind: str, tmp_path: Path
) -> None:
    spec, mentors, mentees = past
    _, table = sampled
    found = learn(spec, mentors, mentees, _planted(sampled, False), kind=kind, table=table)
    loaded = load_model(save(found.model, tmp_path / "model.json"))
    assert type(loaded) is type(found.model)
    learned = found.model.score(table)
    np.testing.assert_allclose(loaded.score(table), learned, rtol=1e-6)
    assert ((learned > 0) & (learned < 1)).all()
    # The planted signal ranks the pairs very differently from the spec's weighted mean.
    hand = table.values @ (table.weights / table.weights.sum())
    assert abs(np.corrcoef(hand, learned)[0, 1]) < 0.9


@pytest.mark.parametrize("kind", ["linear", "interactions", "boosting"])
def test_fold_scores_from_the_laid_out_inputs_are_the_models_scores(
    sampled: tuple, kind: str
) -> None:
    # learn scores each fold's test pairs from the inputs laid out once (predict): they must be
    # what the saved model gives for those pairs, rebuilt from the questionnaires.
    _, table = sampled
    outcome = _planted(sampled, True).outcome
    inputs = design(table)
    train, test = np.arange(0, 350), np.arange(350, len(outcome))
    model = fit_model(kind, table, outcome, True, train, inputs)
    subset = history_table(
        table.spec,
        table.mentors,
        table.mentees,
        History(table.mentee[test], table.mentor[test], outcome[test]),
    )
    expected = model.score(subset)
    assert expected.std() > 0.01
    np.testing.assert_allclose(predict(model, inputs, test), expected, rtol=1e-5, atol=1e-7)


def test_folds_fitted_side_by_side_give_the_same_result(past: tuple, sampled: tuple) -> None:
    spec, mentors, mentees = past
    history = _planted(sampled, False)
    one, two = (
        learn(spec, mentors, mentees, history, "auto", table=sampled[1], jobs=jobs)
        for jobs in (1, 2)
    )
    pd.testing.assert_frame_equal(one.summary(), two.summary())
    assert one.kind == two.kind


def test_the_bootstrap_interval_is_that_of_ranking_each_resample() -> None:
    # pooled_quality gets every resample's AUC from one sort of the pairs (ties grouped): the same
    # values as ROC-AUC from the ranks of each resample, ties and a one-outcome resample included.
    rng = np.random.default_rng(3)
    outcome = (rng.random(300) < 0.3).astype(float)
    scores = {
        "continuous": outcome * 0.5 + rng.random(300),
        "ties": np.round(outcome * 0.5 + rng.random(300), 1),
        "constant": np.zeros(300),
    }
    table, replicates = pooled_quality(scores, outcome, True, seed=5)
    draws = np.random.default_rng([5, 404])
    samples = [draws.integers(0, 300, 300) for _ in range(len(replicates["ties"]))]
    for method, score in scores.items():
        expected = [quality(score[k], outcome[k], True) for k in samples]
        np.testing.assert_allclose(replicates[method], expected, rtol=1e-12)
        assert table.loc[method, "quality"] == quality(score, outcome, True)
    assert table.loc["constant", "quality"] == 0.5
    assert table.loc["ties", "low"] < table.loc["ties", "quality"] < table.loc["ties", "high"]
    tiny = pooled_quality({"one": np.array([0.2, 0.4])}, np.array([0.0, 1.0]), True)[1]["one"]
    # a resample of one outcome has no AUC; one of both is ordered right
    assert np.isnan(tiny).any()
    assert set(tiny[~np.isnan(tiny)].tolist()) == {1.0}


def test_a_model_for_another_spec_is_refused(sampled: tuple) -> None:
    model = LinearPairModel({"needs": 1.0}, {"experience": 1.0}, spec="pupil")
    with pytest.raises(ModelError, match="обучена для анкеты «pupil»"):
        model.score(sampled[1])


def test_a_pickle_is_never_loaded(tmp_path: Path) -> None:
    # The pickle path is gone: a model file is JSON, and nothing else is read (unpickling runs code).
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelError, match="модели хранятся в JSON"):
        load_model(path)


def test_conflicting_outcomes_of_one_pair_are_reported_with_rows(past: tuple) -> None:
    _, mentors, mentees = past
    history = History(
        np.array([0, 1, 0, 1]), np.array([2, 3, 2, 3]), np.array([1.0, 1, 0, 1]), [2, 3, 7, 9]
    )
    assert history.conflicts(mentors, mentees) == [
        f"пара «{mentors.person_ids[2]}» — «{mentees.person_ids[0]}»: "
        "разные исходы в строках 2 (1), 7 (0)"
    ]


def test_history_groups_are_read_and_folds_follow_them(past: tuple) -> None:
    _, mentors, mentees = past
    frame = pd.DataFrame(
        {
            "mentor_id": [mentors.person_ids[k % 5] for k in range(6)],
            "mentee_id": [mentees.person_ids[k] for k in range(6)],
            "outcome": [1, 0, 1, 0, 1, 0],
            "term": ["2023", "2023", "2024", "2024", "", "2024"],
        }
    )
    with pytest.raises(ImportFailed) as caught:
        read_history(frame, mentors, mentees, group_by="term")
    assert [str(i) for i in caught.value.issues] == [
        "строка 6, столбец «term»: не указана группа (--group-by)"
    ]
    with pytest.raises(ImportFailed, match="нет столбца «school»"):
        read_history(frame, mentors, mentees, group_by="school")
    history = read_history(
        frame.assign(term=frame["term"].replace("", "2025")), mentors, mentees, group_by="term"
    )
    assert history.groups == ["2023", "2023", "2024", "2024", "2025", "2024"]
    folds = group_folds(history.groups, 3)
    assert folds[0] == folds[1]
    assert folds[2] == folds[3] == folds[5]
    assert len(set(folds.tolist())) == 3
