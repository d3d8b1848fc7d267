"""The figures behind the charts of a school, a municipality or a region: coverage month by month
over a programme year, the days mentees have been waiting, the satisfaction answers, the load of
mentors; and the charts themselves as SVG (``chart``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, tzinfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.core.models import Pair, PairStatus, Person, Side, utcnow
from service.core.rules import ASSIGN_WITHIN_DAYS, MAX_CAPACITY, programme_year_bounds
from service.core.security import Actor
from service.monitoring import charts, indicators
from service.people.waiting import waiting_list

__all__ = ["CHARTS", "chart", "coverage_by_month", "mentor_load", "waiting_days"]

#: The charts a page may ask for: name -> Russian title.
CHARTS = {
    "indicators": "Показатели и целевые значения",
    "trend": "Показатели по учебным годам",
    "coverage": "Охват наставляемых по месяцам",
    "waiting": "Ожидание наставника",
    "satisfaction": "Оценки удовлетворённости",
    "load": "Загрузка наставников",
}

_MONTHS = ("сен", "окт", "ноя", "дек", "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг")


def coverage_by_month(
    session: Session, orgs: list[int], year: int, zone: tzinfo, now: datetime
) -> list[tuple[str, float | None]]:
    """Share (percent) of the mentees in the programme who had an active pair at each month's end.

    A mentee is in the programme from the day they entered it; months after ``now`` are left out.
    """
    first, _ = programme_year_bounds(year)
    mentees = session.execute(
        select(Person.id, Person.entered_at).where(
            Person.org_id.in_(orgs), Person.side == Side.mentee.value
        )
    ).all()
    pairs = session.execute(
        select(Pair.mentee_id, Pair.started_at, Pair.ended_at).where(
            Pair.mentee_id.in_([m.id for m in mentees])
        )
    ).all()
    points: list[tuple[str, float | None]] = []
    for k, label in enumerate(_MONTHS):
        end = datetime.combine(first + relativedelta(months=k + 1), time(), zone)
        if end - relativedelta(months=1) > now:
            break
        moment = min(end, now)
        present = {m.id for m in mentees if m.entered_at < moment}
        paired = {
            p.mentee_id
            for p in pairs
            if p.mentee_id in present
            and p.started_at < moment
            and (p.ended_at is None or p.ended_at >= moment)
        }
        points.append((label, round(100 * len(paired) / len(present), 1) if present else None))
    return points


def waiting_days(session: Session, orgs: list[int], now: datetime) -> list[int]:
    """Days each mentee with consent and without a pair has been waiting, longest first."""
    people = session.scalars(
        select(Person).where(Person.org_id.in_(orgs), Person.side == Side.mentee.value)
    ).all()
    return [w.days for w in waiting_list(session, people, now)]


def mentor_load(session: Session, orgs: list[int]) -> dict[int, int]:
    """How many mentors with consent have 0, 1, 2 or 3 active pairs."""
    mentors = session.scalars(
        select(Person.id).where(
            Person.org_id.in_(orgs), Person.side == Side.mentor.value, Person.consent.is_(True)
        )
    ).all()
    load = Counter(
        session.scalars(
            select(Pair.mentor_id).where(
                Pair.mentor_id.in_(mentors), Pair.status == PairStatus.active.value
            )
        )
    )
    counts = Counter(min(load.get(m, 0), MAX_CAPACITY) for m in mentors)
    return {n: counts.get(n, 0) for n in range(MAX_CAPACITY + 1)}


def chart(
    session: Session,
    actor: Actor,
    scope: str,
    name: str,
    kind: str,
    year: int,
    zone: tzinfo,
    now: datetime | None = None,
) -> bytes:
    """Return chart ``kind`` (a key of ``CHARTS``) of a school, municipality or region as SVG."""
    now = now or utcnow()
    if kind not in CHARTS:
        raise NotFound("chart", kind)
    orgs, _ = indicators.scope_orgs(session, actor, scope, name)
    ids = [o.id for o in orgs]
    if kind in ("indicators", "trend"):
        result = indicators.scope_indicators(session, actor, scope, name, year, zone)
        draw = charts.indicators_chart if kind == "indicators" else charts.trend_chart
        return draw(result.indicators)
    if kind == "coverage":
        points = coverage_by_month(session, ids, year, zone, now)
        return charts.bars_chart(
            [p[0] for p in points],
            [p[1] or 0.0 for p in points],
            title=CHARTS[kind],
            ylabel="% наставляемых с парой",
        )
    if kind == "waiting":
        days = waiting_days(session, ids, now)
        buckets = ("до 10", "11–20", "21–30", "31–60", "больше 60")
        counts = Counter(
            buckets[0]
            if d <= 10
            else buckets[1]
            if d <= 20
            else buckets[2]
            if d <= ASSIGN_WITHIN_DAYS
            else buckets[3]
            if d <= 60
            else buckets[4]
            for d in days
        )
        overdue = sum(d > ASSIGN_WITHIN_DAYS for d in days)
        return charts.bars_chart(
            list(buckets),
            [counts.get(b, 0) for b in buckets],
            title=f"{CHARTS[kind]}: дольше {ASSIGN_WITHIN_DAYS} дней — {overdue}",
            ylabel="наставляемых",
        )
    if kind == "satisfaction":
        answers = indicators.satisfaction_answers(session, orgs, year, zone)
        series = {
            "наставляемые": answers[Side.mentee.value],
            "наставники": answers[Side.mentor.value],
        }
        return charts.distribution_chart(series, title=CHARTS[kind])
    load = mentor_load(session, ids)
    return charts.bars_chart(
        [f"{n} наставл." for n in load],
        list(load.values()),
        title=CHARTS[kind],
        ylabel="наставников",
    )
