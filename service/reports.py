"""The monitoring report of a school: people, pairs, coverage, load, waiting, satisfaction."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from features import ASSIGN_WITHIN_DAYS
from service.db import Database
from service.models import Feedback, Pair, PairStatus, Person, Side, utcnow
from service.scoring import form_title
from service.security import Actor, organisation_for
from service.surveys import satisfaction_value

__all__ = [
    "ASSIGN_WITHIN_DAYS",
    "SATISFACTION_TARGETS",
    "Waiting",
    "overview",
    "report",
    "satisfaction_target",
    "waiting_mentees",
    "waiting_since",
]

# Federal targets of satisfaction with the programme, by year (004 §7.7).
SATISFACTION_TARGETS = {2022: 65.0, 2023: 75.0, 2024: 85.0}


def satisfaction_target(year: int) -> float:
    """Return the target share of satisfied participants (percent) for ``year``."""
    years = sorted(SATISFACTION_TARGETS)
    return SATISFACTION_TARGETS[min(max(year, years[0]), years[-1])]


def _satisfaction(scores: list[float], target: float) -> dict[str, Any]:
    percent = round(10.0 * statistics.fmean(scores), 1) if scores else None
    return {
        "responses": len(scores),
        "percent": percent,
        "target": target,
        "meets_target": None if percent is None else percent >= target,
    }


@dataclass(frozen=True)
class Waiting:
    """A mentee with consent and no active pair, waiting for a mentor since ``since``."""

    mentee_id: int
    name: str | None
    since: datetime
    days: int

    @property
    def overdue(self) -> bool:
        """Waiting longer than the regulation allows (30 days, 000 §3.7)."""
        return self.days > ASSIGN_WITHIN_DAYS


@dataclass
class _School:
    """What a report reads of one school, in one transaction."""

    code: str
    people: Sequence[Person]
    pairs: Sequence[Pair]
    responses: list[tuple[str, float]]  # (author, satisfaction on the 1-10 scale)


def _read(db: Database, actor: Actor, org: str) -> _School:
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
        people = session.scalars(
            select(Person).where(Person.org_id == organisation.id).order_by(Person.id)
        ).all()
        pairs = session.scalars(
            select(Pair).where(
                (Pair.org_id == organisation.id)
                | Pair.mentor_id.in_([p.id for p in people if p.side == Side.mentor.value])
            )
        ).all()
        rows = session.execute(
            select(Feedback.author, Feedback.score, Feedback.answers).where(
                Feedback.kind == "satisfaction", Feedback.pair_id.in_([p.id for p in pairs])
            )
        )
        responses = [
            (author, value)
            for author, score, answers in rows
            if (value := satisfaction_value(score, answers)) is not None
        ]
        return _School(organisation.code, people, pairs, responses)


def waiting_since(
    entered_at: datetime, ended: Iterable[tuple[str, datetime | None]]
) -> datetime | None:
    """When a mentee's wait for a mentor began, given the (status, ended_at) of their ended pairs.

    A mentee whose programme was completed waits for nobody (None); one whose pair ended for
    another reason waits again from that day (the mentor is to be replaced, 000 §3.8). Reports
    and matching runs (which favour the longest waiting) both count waiting this way.
    """
    since = entered_at
    for status, ended_at in ended:
        if status == PairStatus.completed.value:
            return None
        if ended_at is not None:
            since = max(since, ended_at)
    return since


def _waiting(school: _School, now: datetime) -> list[Waiting]:
    """Mentees waiting for a mentor, the longest wait first."""
    active = {p.mentee_id for p in school.pairs if p.status == PairStatus.active.value}
    ended: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    for pair in school.pairs:
        if pair.ended_at is not None:
            ended[pair.mentee_id].append((pair.status, pair.ended_at))
    waiting = []
    for m in school.people:
        if m.side != Side.mentee.value or not m.consent or m.id in active:
            continue
        since = waiting_since(m.entered_at, ended.get(m.id, ()))
        if since is not None:
            waiting.append(Waiting(m.id, m.name, since, (now - since).days))
    return sorted(waiting, key=lambda w: (-w.days, w.mentee_id))


def waiting_mentees(
    db: Database, actor: Actor, org: str, now: datetime | None = None
) -> list[Waiting]:
    """Return the mentees of school ``org`` waiting for a mentor (with names: for the pages)."""
    return _waiting(_read(db, actor, org), now or utcnow())


def report(db: Database, actor: Actor, org: str, now: datetime | None = None) -> dict[str, Any]:
    """Return the monitoring report of school ``org`` (no names: counts, ids and shares)."""
    return overview(db, actor, org, now)[0]


def overview(
    db: Database, actor: Actor, org: str, now: datetime | None = None
) -> tuple[dict[str, Any], list[Waiting]]:
    """Return the report of school ``org`` and its waiting mentees, read in one transaction."""
    now = now or utcnow()
    school = _read(db, actor, org)
    waiting = _waiting(school, now)
    return _summary(school, waiting, now), waiting


def _summary(school: _School, waiting: list[Waiting], now: datetime) -> dict[str, Any]:
    people, pairs = school.people, school.pairs
    active = [p for p in pairs if p.status == PairStatus.active.value]
    paired_mentees = {p.mentee_id for p in active}
    mentees = [p for p in people if p.side == Side.mentee.value]
    mentors = [p for p in people if p.side == Side.mentor.value]
    load = Counter(p.mentor_id for p in active)
    waiting_days = sorted(w.days for w in waiting)
    target = satisfaction_target(now.year)
    consenting = [m for m in mentees if m.consent]
    return {
        "org": school.code,
        "generated_at": now.isoformat(),
        "people": [
            {"form": form_title(form), "role": role, "count": n}
            for (form, role), n in sorted(Counter((p.spec, p.side) for p in people).items())
        ],
        "pairs": [
            {"form": form_title(form), "status": status, "count": n}
            for (form, status), n in sorted(Counter((p.form, p.status) for p in pairs).items())
        ],
        "coverage": {
            "mentees": len(mentees),
            "mentees_with_consent": len(consenting),
            "mentees_with_pair": len(paired_mentees),
            "share": round(len(paired_mentees) / len(consenting), 4) if consenting else None,
        },
        "mentor_load": {
            "mentors": len(mentors),
            "active_pairs": len(active),
            "by_mentor": [
                {
                    "mentor_id": m.id,
                    "active": load.get(m.id, 0),
                    "capacity": m.places(),
                    "consent": m.consent,
                }
                for m in mentors
            ],
            "full": sum(1 for m in mentors if m.consent and load.get(m.id, 0) >= m.places()),
            # A mentor without consent has no places, but their pairs are not an overload: they
            # wait for the curator's decision (service.consents), counted apart.
            "over_capacity": sum(
                1 for m in mentors if m.consent and load.get(m.id, 0) > m.places()
            ),
            "without_consent": sum(1 for m in mentors if not m.consent and load.get(m.id, 0)),
        },
        "waiting": {
            "mentees": len(waiting_days),
            "max_days": waiting_days[-1] if waiting_days else None,
            "median_days": statistics.median(waiting_days) if waiting_days else None,
            f"over_{ASSIGN_WITHIN_DAYS}_days": sum(d > ASSIGN_WITHIN_DAYS for d in waiting_days),
        },
        "satisfaction": {
            "mentees": _satisfaction(
                [v for a, v in school.responses if a == Side.mentee.value], target
            ),
            "mentors": _satisfaction(
                [v for a, v in school.responses if a == Side.mentor.value], target
            ),
        },
    }
