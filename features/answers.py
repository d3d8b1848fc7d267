"""Validated answers of one side (mentors or mentees), and what the rules and the service read from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from features.spec import Form, Spec

__all__ = ["ASSIGN_WITHIN_DAYS", "OVERDUE_PRIORITY", "Answers", "person_forms", "waiting_priority"]

ASSIGN_WITHIN_DAYS = 30
"""A mentee is to get a mentor within 30 calendar days of starting (docs/rules.md#thirty-days)."""

OVERDUE_PRIORITY = 1.0
"""The solver's priority of a mentee waiting longer: scores lie in [0, 1], so among answers that
match as many mentees, an overdue mentee is matched before any gain in score."""


def waiting_priority(days: Any) -> np.ndarray:
    """Solver priority of each mentee from the days they have waited (NaN: unknown, 0).

    Examples
    --------
    >>> waiting_priority([3, 30, 31, float("nan")]).tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    waited = np.asarray(days, dtype=float)
    overdue = np.nan_to_num(waited, nan=0.0) > ASSIGN_WITHIN_DAYS
    return np.where(overdue, OVERDUE_PRIORITY, 0.0)


class Answers:
    """The validated answers of one questionnaire file (one side), one person per row.

    Build it with :func:`features.read_answers` (a file) or :func:`features.answers_from_records`
    (stored records); both validate everything first, so the values here are trusted.

    Attributes
    ----------
    spec : Spec
        The spec the answers follow.
    side : {"mentors", "mentees"}
        Which questionnaire.
    rows : list of int
        Spreadsheet row number of each person (header = row 1); for records, the position from 1.
    records : list of dict
        JSON-serialisable answers by question key (what a service stores).
    frame : pandas.DataFrame
        The answers as a table indexed by ``person_ids``.
    person_ids : list of str
        The identifying answer (code, or e-mail in lower case), unique.
    names : list of str or None
        Full names.
    organisations : list of str or None
        The school each person named (None without the question or the answer).
    roles : list of str or None
        The role answer (``teacher``, ``head``, ``young``, ``pupil``...).
    entry_dates : list of datetime.date or None
        When each person entered the programme; see :meth:`waiting_days`.
    remote : numpy.ndarray of bool
        Accepts remote (virtual) mentoring, which lets a pair cross organisations.
    forms : list of tuple of str
        Keys of the forms of mentoring each person fits (role and own choice).
    consent : numpy.ndarray of bool
        Every required consent given, a parent's too for a minor.
    minor : numpy.ndarray of bool
        Younger than the spec's adult age.
    capacity : numpy.ndarray of int
        Mentees each person can take, 0..3 (mentors), or up to the largest group of their forms
        (``max_capacity``), before the consent rule.
    max_capacity : numpy.ndarray of int
        The largest group each person's forms allow (docs/rules.md#group-size), 3 by default.
    demand : numpy.ndarray of int
        Mentors each person needs (mentees; docs/rules.md#co-mentors), 1 by default.

    Examples
    --------
    >>> from features import answers_from_records, load_spec
    >>> spec = load_spec("teacher")
    >>> answers = answers_from_records(spec, "mentees", [{
    ...     "person_id": "Ivanova@School.ru", "full_name": "Иванова Анна", "status": "young",
    ...     "subjects": ["physics"], "experience": 1, "meeting_format": ["in_person", "remote"],
    ...     "entered": "2024-09-02", "consent": True,
    ...     "difficulties": {"methods": "постоянно", "ict": "иногда"}}])
    >>> answers.person_ids, answers.names
    (['ivanova@school.ru'], ['Иванова Анна'])
    >>> answers.records[0]["difficulties"], answers.records[0]["entered"]
    ({'methods': 2.0, 'ict': 1.0}, '2024-09-02')
    >>> answers.consent.tolist(), answers.remote.tolist(), answers.forms
    ([True], [True], [('teacher_teacher', 'head_teacher')])
    >>> answers.waiting_days(dt.date(2024, 10, 2)).tolist()
    [30.0]
    """

    def __init__(
        self,
        spec: Spec,
        side: str,
        columns: Mapping[str, Sequence[Any]],
        rows: Sequence[int] | None = None,
    ) -> None:
        self.spec = spec
        self.side = side
        self._side = spec.side(side)
        self._columns = {q.key: list(columns[q.key]) for q in self._side.questions}
        size = len(self._columns[self._side.fields.id])
        self.rows = list(rows) if rows is not None else list(range(1, size + 1))
        self._numbers: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"Answers(spec={self.spec.name!r}, side={self.side!r}, people={len(self)})"

    def answers(self, key: str) -> list[Any]:
        """Canonical answers to one question, one per person (None = not answered)."""
        return self._columns[key]

    def _field(self, name: str) -> list[Any] | None:
        key = getattr(self._side.fields, name)
        return self._columns[key] if key else None

    @cached_property
    def person_ids(self) -> list[str]:
        """The identifying answer of each person (a code, or an e-mail in lower case); unique."""
        return [str(v) for v in self._columns[self._side.fields.id]]

    @cached_property
    def names(self) -> list[str | None]:
        """Full names (ФИО), or None for everybody when the spec does not ask for them."""
        values = self._field("name")
        return list(values) if values is not None else [None] * len(self)

    @cached_property
    def organisations(self) -> list[str | None]:
        """The organisation (school) each person named, None when not asked or not answered."""
        values = self._field("organisation")
        return [None if v is None else str(v) for v in values] if values else [None] * len(self)

    @cached_property
    def roles(self) -> list[str | None]:
        """The role answer (a choice key such as ``teacher`` or ``pupil``), None without a role question."""
        values = self._field("role")
        return list(values) if values is not None else [None] * len(self)

    @cached_property
    def entry_dates(self) -> list[dt.date | None]:
        """Date each person entered the programme: the first answered of ``fields.entry_date``."""
        dates: list[dt.date | None] = [None] * len(self)
        for key in reversed(self._side.fields.entry_date):
            dates = [
                v if v is not None else d for v, d in zip(self._columns[key], dates, strict=True)
            ]
        return dates

    def waiting_days(self, today: dt.date | None = None) -> np.ndarray:
        """Days since entering the programme (NaN when unknown); see docs/rules.md#thirty-days."""
        today = today or dt.date.today()
        return np.array(
            [np.nan if d is None else float((today - d).days) for d in self.entry_dates],
            dtype=float,
        )

    @cached_property
    def remote(self) -> np.ndarray:
        """Whether each person accepts remote (virtual) mentoring, which lets a pair cross schools."""
        key = self._side.fields.remote
        if not key:
            return np.zeros(len(self), dtype=bool)
        question = self._side.question(key)
        if question.type in ("yesno", "consent"):
            return np.array([v is True for v in self._columns[key]], dtype=bool)
        remote_keys = {c.key for c in question.choices if c.remote}
        return np.array([bool(_as_set(v) & remote_keys) for v in self._columns[key]], dtype=bool)

    @cached_property
    def minor(self) -> np.ndarray:
        """Under ``fields.adult_age``; an unknown age counts as minor when a parent's consent is asked."""
        fields = self._side.fields
        if not fields.age:
            return np.zeros(len(self), dtype=bool)
        unknown_is_minor = fields.parent_consent is not None
        return np.array(
            [
                unknown_is_minor if a is None else a < fields.adult_age
                for a in self._columns[fields.age]
            ],
            dtype=bool,
        )

    @cached_property
    def consent(self) -> np.ndarray:
        """All required consents given, and a parent's consent for a minor (True without consent questions)."""
        fields = self._side.fields
        given = np.ones(len(self), dtype=bool)
        for key in fields.consents:
            given &= np.array([v is True for v in self._columns[key]], dtype=bool)
        if fields.parent_consent:
            parent = np.array([v is True for v in self._columns[fields.parent_consent]], dtype=bool)
            given &= parent | ~self.minor
        return given

    @cached_property
    def capacity(self) -> np.ndarray:
        """How many mentees each person can take, from the answer, else the side's default; at
        most ``max_capacity`` (3 unless the person's forms allow groups)."""
        side = self._side
        default = side.default_capacity
        key = side.fields.capacity
        top = self.max_capacity
        if not key:
            return np.minimum(np.full(len(self), default, dtype=np.int64), top)
        question = side.question(key)
        values = self._columns[key]
        if question.type == "single":
            values = [None if v is None else question.choice(v).value for v in values]
        wanted = np.array(
            [default if v is None else max(0, round(v)) for v in values], dtype=np.int64
        )
        return np.minimum(wanted, top)

    @cached_property
    def max_capacity(self) -> np.ndarray:
        """The largest group the forms each person fits allow (``Form.max_group``); 3
        (docs/rules.md#capacity) for a person who fits no form."""
        sizes = {form.key: form.max_group for form in self.spec.forms}
        return np.array(
            [max((sizes[f] for f in forms), default=3) for forms in self.forms], dtype=np.int64
        )

    @cached_property
    def demand(self) -> np.ndarray:
        """How many distinct mentors each person needs (docs/rules.md#co-mentors): the answer
        to the side's ``demand`` question, else 1."""
        key = self._side.fields.demand
        if not key:
            return np.ones(len(self), dtype=np.int64)
        return np.array(
            [1 if v is None else max(1, round(v)) for v in self._columns[key]], dtype=np.int64
        )

    @cached_property
    def forms(self) -> list[tuple[str, ...]]:
        """Keys of the forms each person fits: the role allows it and the person accepts it."""
        accepted = self._field("forms") or [None] * len(self)
        known: dict[tuple[Any, ...], tuple[str, ...]] = {}
        result = []
        for role, answer in zip(self.roles, accepted, strict=True):
            wanted = _as_set(answer)
            key = (role, *sorted(wanted))
            if key not in known:
                known[key] = person_forms(self.spec, self.side, role, answer)
            result.append(known[key])
        return result

    @cached_property
    def form_mask(self) -> np.ndarray:
        """:attr:`forms` as bits (bit k = the spec's k-th form), one ``uint64`` per person."""
        bit = {f.key: 1 << k for k, f in enumerate(self.spec.forms)}
        mask_of = {keys: sum(bit[key] for key in keys) for keys in set(self.forms)}
        return np.array([mask_of[keys] for keys in self.forms], dtype=np.uint64)

    def numbers(self, key: str) -> np.ndarray:
        """The number behind each answer to a numeric question (NaN when missing); cached."""
        if key not in self._numbers:
            question = self._side.question(key)
            values = self._columns[key]
            if question.type == "single":
                table = {c.key: c.value for c in question.choices}
                values = [table.get(v) if v is not None else None for v in values]
            self._numbers[key] = np.array(
                [np.nan if v is None else float(v) for v in values], dtype=float
            )
        return self._numbers[key]

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """JSON-serialisable answers by question key, one dict per person (dates as ISO strings)."""
        keys = list(self._columns)
        columns = [[_jsonable(v) for v in self._columns[k]] for k in keys]
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The answers as a table: one column per question key, index = :attr:`person_ids`."""
        return pd.DataFrame(
            self._columns, index=pd.Index(self.person_ids, name="person_id"), dtype=object
        )

    def index(self, person_id: str) -> int:
        """Position of a person by identifying answer."""
        return self._positions[person_id]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.person_ids)}


def _as_set(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return set(value)
    return {value}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def person_forms(spec: Spec, side: str, role: str | None, accepted: Any = None) -> tuple[str, ...]:
    """Keys of the forms of ``spec`` one person fits: the role allows it and the person accepts
    it (``accepted``: the answer to the forms question, None when not asked or not answered).

    ``side`` is ``"mentors"`` or ``"mentees"``; see docs/rules.md#forms.
    """
    wanted = _as_set(accepted)
    return tuple(
        f.key for f in spec.forms if _role_fits(f, side, role) and (not wanted or f.key in wanted)
    )


def _role_fits(form: Form, side: str, role: str | None) -> bool:
    roles = form.mentor if side == "mentors" else form.mentee
    return roles == ("any",) or role in roles
