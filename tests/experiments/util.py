"""Hypothesis strategies and small factories for the experiments tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from matching import Problem


@st.composite
def histories(draw: st.DrawFn, max_pairs: int = 60) -> tuple[list[str], list[str]]:
    """Past pairs as (mentor ids, mentee ids): sparse or dense, repeated pairs, shared identifiers.

    With ``shared`` the two sides draw from one pool of names, as when a former mentee (the same
    e-mail) later mentors.
    """
    n_pairs = draw(st.integers(0, max_pairs))
    n_mentors = draw(st.integers(1, 25))
    n_mentees = draw(st.integers(1, 60))
    shared = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mentee_prefix = "p" if shared else "e"
    mentors = [f"p{k}" for k in rng.integers(0, n_mentors, n_pairs)]
    mentees = [f"{mentee_prefix}{k}" for k in rng.integers(0, n_mentees, n_pairs)]
    return mentors, mentees


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


def people_of(mentors: list[str], mentees: list[str], rows: Any) -> set[str]:
    """Everybody in the pairs ``rows``, whichever side."""
    return {mentors[k] for k in rows} | {mentees[k] for k in rows}
