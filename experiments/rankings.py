"""What mentees' rankings change (issue 12, docs/rules.md#choice).

Each mentee of a synthetic cohort sees up to 5 suggested mentors (``matching.suggest``) and ranks
them by their own taste: the hidden true compatibility plus noise (a mentee knows the people a
little better than the questionnaire does). The solver then runs twice on the same scores: without
the rankings, and with the service's bonus on the ranked pairs (0.1 for a first choice, 0.1 × (6 −
k) / 5 for the k-th: ``service.runs.runs.RANK_BONUS``, ``RANK_LEVELS``; this module may not import
the service, ``tests/experiments`` checks that the two agree). Printed per cohort: mentees matched,
the mean score of the pairs (without the bonus), the mean hidden compatibility, and the shares of
matched mentees who got a mentor they ranked and their first choice.

    python -m experiments.rankings [--seeds 3] [--noise 0.1]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

RANK_BONUS = 0.1
RANK_LEVELS = 5


def rankings_of(
    problem: Any, taste: np.ndarray, rng: np.random.Generator, noise: float
) -> dict[tuple[int, int], int]:
    """Each mentee's ranking of their suggestions by ``taste`` (n_mentees × n_mentors) + noise."""
    from matching import suggest

    ranked: dict[tuple[int, int], int] = {}
    for mentee in range(problem.n_mentees):
        offered = [m for m, _ in suggest(problem, mentee, k=RANK_LEVELS)]
        liked = sorted(offered, key=lambda m: -(taste[mentee, m] + rng.normal(0, noise)))
        for rank, mentor in enumerate(liked, start=1):
            ranked[(mentee, mentor)] = rank
    return ranked


def with_bonus(scores: Any, ranked: dict[tuple[int, int], int]) -> Any:
    """The sparse scores with the ranking bonus on ranked, allowed pairs (as the service adds it)."""
    bonus = scores.copy().tocsr()
    for row in range(bonus.shape[0]):
        for k in range(bonus.indptr[row], bonus.indptr[row + 1]):
            rank = ranked.get((row, int(bonus.indices[k])))
            if rank is not None and rank <= RANK_LEVELS:
                bonus.data[k] += RANK_BONUS * (RANK_LEVELS + 1 - rank) / RANK_LEVELS
    return bonus


def measure(seed: int, noise: float, kind: str = "school") -> list[dict[str, Any]]:
    """Both runs of one synthetic cohort, measured."""
    from experiments.evaluate import synthetic
    from features import score_pairs
    from matching import Problem, solve

    programme = synthetic(kind, seed=seed)
    scored = score_pairs(programme.spec, programme.mentors, programme.mentees,
                         programme.mentee_orgs, programme.mentor_orgs)  # fmt: skip
    base = Problem(scored.scores, scored.capacity)
    n_e, n_o = scored.scores.shape
    assert programme.truth is not None
    e, o = np.meshgrid(np.arange(n_e), np.arange(n_o), indexing="ij")
    truth = programme.truth(e.ravel(), o.ravel()).reshape(n_e, n_o)
    ranked = rankings_of(base, truth, np.random.default_rng(seed), noise)
    rows = []
    for name, problem in (("без выбора", base),
                          ("с выбором", Problem(with_bonus(scored.scores, ranked), scored.capacity))):  # fmt: skip
        pairs = solve(problem).pairs
        dense = scored.scores.toarray()
        rows.append({
            "seed": seed, "run": name, "matched": len(pairs),
            "mean_score": float(np.mean([dense[i, j] for i, j in pairs])) if pairs else 0.0,
            "mean_truth": float(np.mean([truth[i, j] for i, j in pairs])) if pairs else 0.0,
            "ranked_share": float(np.mean([(i, j) in ranked for i, j in pairs])) if pairs else 0.0,
            "first_choice": float(np.mean([ranked.get((i, j)) == 1 for i, j in pairs])) if pairs else 0.0,
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--kind", choices=["school", "city"], default="school")
    args = parser.parse_args(argv)
    print("| seed | run | matched | mean score | mean truth | ranked mentor | first choice |")
    print("|---|---|---|---|---|---|---|")
    for seed in range(args.seeds):
        for r in measure(seed, args.noise, args.kind):
            print(f"| {r['seed']} | {r['run']} | {r['matched']} | {r['mean_score']:.3f} | "
                  f"{r['mean_truth']:.3f} | {r['ranked_share']:.0%} | {r['first_choice']:.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
