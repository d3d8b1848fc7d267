"""Hypothesis strategies and small factories for the experiments tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from matching import Problem


@st.composite
def preference_problems(draw: st.DrawFn, max_mentees: int = 9, max_mentors: int = 6) -> Any:
    """A dense problem with capacities and a separate, independent mentor view of the pairs."""
    n = draw(st.integers(1, max_mentees))
    m = draw(st.integers(1, max_mentors))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    allowed = rng.uniform(size=(n, m)) < draw(st.sampled_from([0.4, 0.8, 1.0]))
    scores = np.where(allowed, rng.integers(0, 8, size=(n, m)) / 8.0, 0.0)
    mentor_view = rng.integers(0, 8, size=(n, m)) / 8.0
    capacity = rng.integers(0, 4, size=m)
    return Problem(scores, capacity, allowed=allowed), mentor_view
