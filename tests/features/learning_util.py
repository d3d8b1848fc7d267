"""Hypothesis strategies of past pairs for the learning tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st


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


def people_of(mentors: list[str], mentees: list[str], rows: Any) -> set[str]:
    """Everybody in the pairs ``rows``, whichever side."""
    return {mentors[k] for k in rows} | {mentees[k] for k in rows}
