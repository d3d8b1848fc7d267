"""On a truth the hand weights cannot say, learning recovers it as well as generic ML does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.cohorts import make_interactions
from experiments.generic import references
from features import load_model, save_model, score_pairs
from features.learning import learn


@pytest.mark.slow
def test_learning_recovers_vectors_preferences_text_and_interactions(tmp_path: Path) -> None:
    cohort = make_interactions(seed=0, mentors=200, mentees=600)
    history = cohort.history(2500, seed=1)
    found = learn(
        cohort.spec, cohort.mentors, cohort.mentees, history, "auto", references=references()
    )
    summary = found.summary()
    assert found.tested == found.n_pairs == 2500  # folds by mentee: every pair once
    assert set(summary.index) == {
        "hand", "weights", "linear", "interactions", "boosting", "generic_lr", "generic_gb",
    }  # fmt: skip
    chosen = summary.loc[found.kind]
    # auto left the simple kinds because a model of both sides' answers won beyond noise...
    assert found.kind in ("interactions", "boosting")
    # ...it reaches the generic gradient boosting within its interval and beats the hand weights.
    assert chosen["quality"] >= summary.loc["generic_gb", "low"]
    assert chosen["low"] > summary.loc["hand", "high"]
    # The saved file scores like the model, through score_pairs as match and the service call it.
    model = load_model(save_model(found.model, tmp_path / "model.json"))
    learned = score_pairs(cohort.spec, cohort.mentors, cohort.mentees, model=found.model)
    loaded = score_pairs(cohort.spec, cohort.mentors, cohort.mentees, model=model)
    np.testing.assert_allclose(loaded.scores.data, learned.scores.data, rtol=1e-6)
    # And the learned scores follow the hidden truth far better than the hand weights do.
    hand = score_pairs(cohort.spec, cohort.mentors, cohort.mentees)
    mentee, mentor = learned.pairs
    truth = cohort.compatibility(mentee, mentor)
    learned_corr = np.corrcoef(learned.scores.data, truth)[0, 1]
    hand_corr = np.corrcoef(hand.scores.data, truth)[0, 1]
    assert learned_corr > hand_corr + 0.2
