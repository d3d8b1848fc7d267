"""Errors of the solver: a typed error for bad arguments, and the rule a pair breaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ProblemError", "Violation"]


class ProblemError(ValueError):
    """A bad argument of :class:`matching.Problem`.

    Attributes
    ----------
    argument : str
        The name of the offending argument (``"capacity"``, ``"pinned"``, ...).
    value : object
        The offending value: the entry, the pair or the shape that broke the rule.
    expected : str
        What the argument must be.
    where : str or None
        Where the value was found (``"mentor 7"``), when the argument is an array.
    """

    def __init__(self, argument: str, value: Any, expected: str, where: str | None = None) -> None:
        self.argument = argument
        self.value = value
        self.expected = expected
        self.where = where
        at = f" at {where}" if where else ""
        super().__init__(
            f"The {argument!r} parameter of Problem must be {expected}. Got {value!r}{at} instead."
        )


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule in a proposed set of pairs.

    Attributes
    ----------
    rule : str
        One of ``"out_of_range"``, ``"mentee_repeated"``, ``"pair_repeated"``, ``"not_allowed"``,
        ``"forbidden"``, ``"below_min_score"``, ``"over_capacity"``, ``"pinned_missing"``;
        ``"mentee_repeated"`` means more mentors than the mentee's ``demand`` (one by default).
    mentee, mentor : int or None
        The people involved (``mentee`` is None for a mentor's capacity, and so on).
    detail : str
        What is wrong, in words.
    """

    rule: str
    mentee: int | None
    mentor: int | None
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"
