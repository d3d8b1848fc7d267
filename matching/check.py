"""Check any proposed set of pairs against every rule of a :class:`~matching.Problem`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from matching.errors import Violation
from matching.problem import Problem

__all__ = ["violations"]


def violations(problem: Problem, pairs: Iterable[Any]) -> list[Violation]:
    """Every rule that ``pairs`` break in ``problem``; empty when the answer is valid.

    Checks, for each pair, that it is in range, allowed, not forbidden and scores at least
    ``min_score`` (pinned pairs are exempt from the minimum); that no mentee has more mentors
    than its ``demand`` (one by default: no mentee has two mentors), and no pair comes twice (a
    mentee's mentors are distinct); that no mentor has more than ``capacity`` mentees counting
    ``load``; and that every pinned pair is present.

    Examples
    --------
    >>> import numpy as np
    >>> from matching import Problem, violations
    >>> p = Problem(np.array([[0.5], [0.7]]), capacity=[1])
    >>> [v.rule for v in violations(p, [(0, 0), (1, 0)])]
    ['over_capacity']
    """
    found: list[Violation] = []
    valid: list[tuple[int, int]] = []
    for pair in pairs:
        mentee, mentor = (int(x) for x in pair)
        if 0 <= mentee < problem.n_mentees and 0 <= mentor < problem.n_mentors:
            valid.append((mentee, mentor))
        else:
            found.append(Violation("out_of_range", mentee, mentor, f"pair {pair!r} out of range"))

    for pair, times in sorted(Counter(valid).items()):
        if times > 1:
            found.append(Violation("pair_repeated", *pair, f"pair {pair} appears {times} times"))
    unique = sorted(set(valid))
    for mentee, times in sorted(Counter(i for i, _ in unique).items()):
        wanted = int(problem.demand[mentee])
        if times > wanted:
            needs = "" if wanted == 1 else f", needs {wanted}"
            found.append(
                Violation(
                    "mentee_repeated", mentee, None, f"mentee {mentee} has {times} mentors{needs}"
                )
            )

    if unique:
        mentees, mentors = np.array(unique, dtype=np.int64).T
        allowed, scores = problem.lookup(mentees, mentors)
        pinned = set(problem.pinned)
        for k, pair in enumerate(unique):
            if not allowed[k]:
                found.append(Violation("not_allowed", *pair, f"pair {pair} is not allowed"))
            elif pair in problem.forbidden:
                found.append(Violation("forbidden", *pair, f"pair {pair} was rejected"))
            elif pair not in pinned and scores[k] < problem.min_score:
                found.append(
                    Violation(
                        "below_min_score",
                        *pair,
                        f"pair {pair} scores {scores[k]:.6g} < min_score {problem.min_score:.6g}",
                    )
                )

    taken = Counter(j for _, j in unique)
    for mentor, count in sorted(taken.items()):
        total = count + int(problem.load[mentor])
        if total > problem.capacity[mentor]:
            found.append(
                Violation(
                    "over_capacity",
                    None,
                    mentor,
                    f"mentor {mentor} has {total} mentees (load {int(problem.load[mentor])}), "
                    f"capacity {int(problem.capacity[mentor])}",
                )
            )

    present = set(unique)
    for pair in problem.pinned:
        if pair not in present:
            found.append(Violation("pinned_missing", *pair, f"pinned pair {pair} is missing"))
    return found
