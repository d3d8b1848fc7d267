"""experiments.rankings measures the service's ranking bonus: the same constants, a real effect."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def test_the_experiment_uses_the_services_bonus() -> None:
    from experiments import rankings
    from service.runs import runs

    assert (rankings.RANK_BONUS, rankings.RANK_LEVELS) == (runs.RANK_BONUS, runs.RANK_LEVELS)
    scores = sp.csr_array(np.array([[0.5, 0.45], [0.2, 0.0]]))
    ranked = {(0, 1): 1, (0, 0): 2}
    ids = [10, 11]
    service = runs._with_rankings(scores, ids, [20, 21], {(10, 21): 1, (10, 20): 2})
    assert np.allclose(rankings.with_bonus(scores, ranked).toarray(), service.toarray())
    assert np.allclose(service.toarray(), [[0.58, 0.55], [0.2, 0.0]])


def test_rankings_never_lose_a_matched_mentee_and_raise_first_choices() -> None:
    from experiments.rankings import measure

    without, with_choice = measure(seed=1, noise=0.1)
    assert with_choice["matched"] == without["matched"]
    assert with_choice["first_choice"] > without["first_choice"]
