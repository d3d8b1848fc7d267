"""The solver benchmark's small instances run end to end in fresh processes (the big ones are
for ``make bench`` only)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import bench_solver


def test_country_instance_follows_the_model() -> None:
    instance = bench_solver.make_country(3_000, 1_200, seed=1)
    scores = instance.scores
    assert scores.shape == (3_000, 1_200)
    assert scores.data.min() >= bench_solver.COUNTRY_MIN_SCORE
    assert np.array_equal(scores.data, np.round(scores.data, 6))
    assert set(np.unique(instance.capacity).tolist()) == {1, 2, 3}
    assert 20 <= instance.n_schools <= 3_000 // 20 + 1
    # Remote pairs join most schools into one block.
    assert instance.scores.nnz > 3_000 * 5


@pytest.mark.slow
def test_small_run_prints_ours_and_ortools_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    bench_solver.main(["--instances", "country-3k", "--repeats", "1", "--no-lp", "--no-lsa"])
    header, row = capsys.readouterr().out.strip().splitlines()
    assert "ours s" in header
    assert "ORT s" in header
    fields = row.split()
    assert fields[0] == "country-3k"
    assert fields[-2] == "+0.0e+00"  # the same total as OR-Tools on the same integer weights
