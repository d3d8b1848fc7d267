"""Hypothesis strategies for random matching problems (dense and sparse)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from matching import Problem


@st.composite
def problems(
    draw: st.DrawFn,
    max_mentees: int = 8,
    max_mentors: int = 6,
    dyadic: bool = True,
    objective: str | None = None,
    groups: bool = True,
) -> Problem:
    """A random valid Problem: any shapes (empty too), loads, pins, forbidden pairs, thresholds.

    ``dyadic`` scores are multiples of 1/64, so that sums are exact in floating point and
    ties in the total score are real ties. With ``groups`` (the default) half the problems
    have mentees needing up to three mentors (``demand``) and mentors of up to six places
    (``max_capacity``).
    """
    n = draw(st.integers(0, max_mentees))
    m = draw(st.integers(0, max_mentors))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dyadic:
        scores = rng.integers(-16, 65, size=(n, m)) / 64.0
    else:
        scores = rng.uniform(-0.3, 1.0, size=(n, m))
    allowed = rng.uniform(size=(n, m)) < draw(st.sampled_from([0.3, 0.6, 1.0]))
    with_groups = groups and draw(st.booleans())
    top = int(rng.integers(3, 7)) if with_groups else 3
    capacity = rng.integers(0, top + 1, size=m)
    demand = rng.choice([1, 1, 2, 3], size=n) if with_groups else None
    wanted = np.ones(n, dtype=int) if demand is None else demand.copy()
    load = np.array([rng.integers(0, c + 1) for c in capacity], dtype=int)
    if draw(st.booleans()):
        load[:] = 0
    candidates = [(i, j) for i in range(n) for j in range(m) if allowed[i, j]]
    forbidden = [p for p in candidates if rng.uniform() < 0.15]
    free = capacity - load
    pinned: list[tuple[int, int]] = []
    for i, j in candidates:
        if (i, j) in forbidden or wanted[i] <= 0 or free[j] <= 0 or rng.uniform() > 0.12:
            continue
        pinned.append((i, j))
        wanted[i] -= 1
        free[j] -= 1
    min_score = draw(st.sampled_from([0.0, 0.25, -1.0, -np.inf]))
    penalty = draw(st.sampled_from([0.0, 0.0, 0.125, 0.5]))
    chosen_objective = objective or draw(st.sampled_from(["coverage", "score"]))
    priority = None
    if draw(st.booleans()):
        priority = rng.integers(0, 3, size=n) * draw(st.sampled_from([0.25, 1.0]))
    kind = draw(st.sampled_from(["dense", "dense_mask", "sparse", "sparse_mask"]))
    matrix: Any = scores
    mask: Any = allowed
    if kind.startswith("sparse"):
        rows, cols = np.nonzero(allowed)
        # Explicit zeros are allowed pairs of score 0: keep them stored.
        matrix = sp.csr_array((scores[rows, cols], (rows, cols)), shape=(n, m))
        mask = None if kind == "sparse" else sp.csr_array(allowed)
    elif kind == "dense":
        matrix = np.where(allowed, scores, -100.0)
        mask = None
        min_score = max(min_score, -1.0)
        pinned = [p for p in pinned if allowed[p]]
    return Problem(
        matrix,
        capacity,
        allowed=mask,
        min_score=min_score,
        load=load,
        pinned=pinned,
        forbidden=forbidden,
        objective=chosen_objective,  # type: ignore[arg-type]
        load_penalty=penalty,
        priority=priority,
        demand=demand,
        max_capacity=top,
    )
