"""Mentees waiting for a mentor, and since when (docs/rules.md#thirty-days).

One rule, used by the waiting list, the report and matching runs (which match the longest waiting
first): a mentee waits from entering the programme, or again from the end of a pair that ended for
another reason than completion (the mentor is to be replaced); after a completed programme the
mentee waits for nobody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from service.core.db import among, columns
from service.core.errors import Invalid
from service.core.listing import ListParams, Page, fold, page_of, unknown_sort
from service.core.models import Pair, PairStatus, Person, Side, utcnow
from service.people.answered import answered
from service.people.schemas import WaitingPublic

__all__ = [
    "WAITING_SORTS",
    "school_waiting",
    "school_waiting_top",
    "waiting_among",
    "waiting_list",
    "waiting_page",
    "waiting_public",
    "waiting_rows",
    "waiting_since",
    "waiting_since_of",
]


def waiting_since(
    entered_at: datetime, ended: Iterable[tuple[str, datetime | None]]
) -> datetime | None:
    """When a mentee's wait for a mentor began, given the (status, ended_at) of their ended pairs."""
    since = entered_at
    for status, ended_at in ended:
        if status == PairStatus.completed.value:
            return None
        if ended_at is not None:
            since = max(since, ended_at)
    return since


def _ended(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[str, datetime | None]]]:
    ended: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    for mentee_id, status, ended_at in session.execute(
        select(Pair.mentee_id, Pair.status, Pair.ended_at).where(
            among(Pair.mentee_id, ids), Pair.ended_at.is_not(None)
        )
    ):
        ended[mentee_id].append((status, ended_at))
    return ended


def waiting_since_of(session: Session, mentees: Sequence[Person]) -> dict[int, datetime | None]:
    """When each of these mentees began to wait (None: waits for nobody)."""
    ended = _ended(session, [m.id for m in mentees])
    return {m.id: waiting_since(m.entered_at, ended.get(m.id, ())) for m in mentees}


def waiting_list(
    session: Session, people: Sequence[Person], now: datetime | None = None
) -> list[WaitingPublic]:
    """The mentees among ``people`` with consent and no active pair, the longest wait first."""
    now = now or utcnow()
    mentees = [p for p in people if p.side == Side.mentee.value and p.consent]
    active = set(
        session.scalars(
            select(Pair.mentee_id).where(
                among(Pair.mentee_id, [m.id for m in mentees]),
                Pair.status == PairStatus.active.value,
            )
        )
    )
    since = waiting_since_of(session, [m for m in mentees if m.id not in active])
    found = [
        WaitingPublic(mentee_id=m.id, name=m.name, since=start, days=(now - start).days)
        for m in mentees
        if (start := since.get(m.id)) is not None
    ]
    return sorted(found, key=lambda w: (-w.days, w.mentee_id))


def _school_rows(
    session: Session, org_id: int, now: datetime
) -> list[tuple[int, int, str | None, datetime]]:
    """(days, mentee id, name, since) of a school's waiting mentees, the longest wait first."""
    return [row[:4] for row in waiting_rows(session, [org_id], now)]


_Waiting = Select[int, str | None, datetime, int, Any, Any]


def _statement() -> _Waiting:
    """The waiting mentees of the schools ``:org_ids``: one statement of columns, the ended
    pairs summed up by the database (the latest end, and whether any was completed).

    Built once, at import: the school page, the waiting page and the report ask at every view,
    and building a statement and its cache key costs more than running it.
    """
    current = aliased(Pair)
    paired = (
        select(current.id)
        .where(current.mentee_id == Person.id, current.status == PairStatus.active.value)
        .exists()
    )
    ended = Pair.ended_at.is_not(None)
    return (
        select(
            Person.id,
            Person.name,
            Person.entered_at,
            Person.org_id,
            func.max(case((ended, Pair.ended_at))),
            func.max(case((ended & (Pair.status == PairStatus.completed.value), 1), else_=0)),
        )
        .outerjoin(Pair, (Pair.mentee_id == Person.id) & ended)
        .where(
            Person.org_id.in_(bindparam("org_ids", expanding=True)),
            Person.side == Side.mentee.value,
            Person.archived_at.is_(None),  # left the programme: waits for nobody
            Person.consent.is_(True),
            ~paired,
        )
        .group_by(Person.id, Person.name, Person.entered_at, Person.org_id)
    )


_WAITING = _statement()


def waiting_rows(
    session: Session, org_ids: list[int], now: datetime | None = None
) -> list[tuple[int, int, str | None, datetime, int]]:
    """(days, mentee id, name, since, school id) of the waiting mentees of schools ``org_ids``,
    the longest wait first: what :func:`school_waiting` says of each school (the monitoring
    report counts the same mentees as the school's waiting list), in one statement of columns."""
    now = now or utcnow()
    found = []
    for id_, name, entered_at, org_id, last_end, completed in columns(
        session, _WAITING, {"org_ids": org_ids}
    ):
        # waiting_since: from entering, or again from the latest end; never after completion
        if completed:
            continue
        since = entered_at if last_end is None else max(entered_at, last_end)
        found.append(((now - since).days, id_, name, since, org_id))
    found.sort(key=lambda w: (-w[0], w[1]))
    return found


def waiting_public(days: int, mentee_id: int, name: str | None, since: datetime) -> WaitingPublic:
    """A waiting mentee of :func:`waiting_rows` as the API gives it."""
    # the database's own types: built without validating each of hundreds again
    return WaitingPublic.model_construct(mentee_id=mentee_id, name=name, since=since, days=days)


def school_waiting(
    session: Session, org_id: int, now: datetime | None = None
) -> list[WaitingPublic]:
    """The waiting list of one school, the longest wait first (what :func:`waiting_list` says
    of the school's mentees in the programme)."""
    return [waiting_public(*row) for row in _school_rows(session, org_id, now or utcnow())]


def school_waiting_top(
    session: Session, org_id: int, shown: int, now: datetime | None = None
) -> tuple[list[WaitingPublic], int]:
    """The ``shown`` longest waiting mentees of a school and how many wait in all."""
    rows = _school_rows(session, org_id, now or utcnow())
    return [waiting_public(*row) for row in rows[:shown]], len(rows)


def waiting_among(
    session: Session, ids: Iterable[int], now: datetime | None = None
) -> list[WaitingPublic]:
    """The waiting list restricted to the people ``ids`` (a page of people, one mentee): what
    :func:`school_waiting` says of them, without computing it for the whole school.

    Two statements of columns: the consenting mentees in the programme among ``ids``, then their
    active and ended pairs (a page of people asks at every view)."""
    now = now or utcnow()
    mentees = session.execute(
        select(Person.id, Person.name, Person.entered_at).where(
            among(Person.id, list(ids)),
            Person.archived_at.is_(None),
            Person.side == Side.mentee.value,
            Person.consent.is_(True),
        )
    ).all()
    paired: set[int] = set()
    ended: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    if mentees:
        for mentee_id, status, ended_at in session.execute(
            select(Pair.mentee_id, Pair.status, Pair.ended_at).where(
                among(Pair.mentee_id, [m[0] for m in mentees]),
                (Pair.status == PairStatus.active.value) | Pair.ended_at.is_not(None),
            )
        ):
            if status == PairStatus.active.value:
                paired.add(mentee_id)
            if ended_at is not None:
                ended[mentee_id].append((status, ended_at))
    found = [
        WaitingPublic.model_construct(
            mentee_id=id_, name=name, since=start, days=(now - start).days
        )
        for id_, name, entered_at in mentees
        if id_ not in paired
        and (start := waiting_since(entered_at, ended.get(id_, ()))) is not None
    ]
    return sorted(found, key=lambda w: (-w.days, w.mentee_id))


WAITING_SORTS = {"days": "дольше всех ждущие", "name": "по имени"}


def waiting_page(
    session: Session, org_id: int, params: ListParams, now: datetime | None = None
) -> Page[WaitingPublic]:
    """One page of a school's waiting list: searched by name, filtered (``overdue=yes``: past
    the 30 days), sorted by days waited (``days``, the default: longest first) or ``name``.

    A wait is computed from the history of pairs, so the list is made whole, then paged.
    """
    found = school_waiting(session, org_id, now)
    for word in fold(params.q or "").split():
        found = [w for w in found if word in fold(w.name or "")]
    overdue = params.filters.get("overdue")
    if overdue not in (None, "yes", "no"):
        raise Invalid(
            f"Фильтр «Срок»: неизвестное значение «{overdue}»; возможны: yes, no.",
            [{"row": None, "column": "Срок", "value": overdue, "message": "возможны: yes, no"}],
        )
    if overdue is not None:
        found = [w for w in found if w.overdue == (overdue == "yes")]
    for key, question in (("grade", "grade"), ("subject", "subjects")):
        value = params.filters.get(key)
        if value and found:
            chosen = set(
                session.scalars(
                    select(Person.id).where(
                        among(Person.id, [w.mentee_id for w in found]),
                        answered(question, value),
                    )
                )
            )
            found = [w for w in found if w.mentee_id in chosen]
    key = params.sort or "days"
    if key.removeprefix("-") not in WAITING_SORTS:
        raise unknown_sort(key, {"days": "Дней ожидания", "name": "Наставляемый"})
    if key.removeprefix("-") == "name":
        found = sorted(found, key=lambda w: (fold(w.name or ""), w.mentee_id))
    if key.startswith("-"):
        found.reverse()
    return page_of(found, params)
