"""API shapes of monitoring: feedback and surveys, the report, the order, the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.core.rules import ASSIGN_WITHIN_DAYS
from service.core.text import DbId, SafeText

__all__ = [
    "AuditEventPublic",
    "Coverage",
    "FeedbackCreate",
    "FeedbackCreated",
    "FeedbackPublic",
    "MentorLoadRow",
    "MentorLoadSummary",
    "OrderCreate",
    "ReportPublic",
    "Satisfaction",
    "SchoolSummary",
    "SurveyPublic",
    "WaitingSummary",
]

Author = Literal["mentor", "mentee"]
FeedbackKind = Literal["feedback", "satisfaction"]


class FeedbackBase(BaseModel):
    """Feedback (monthly) or a satisfaction questionnaire (at the end) from one side of a pair."""

    author: Author
    kind: FeedbackKind = "feedback"
    score: int | None = Field(default=None, ge=1, le=10)
    answers: dict[str, Any] = {}
    comment: SafeText | None = Field(default=None, max_length=5000)


class FeedbackCreate(FeedbackBase):
    """A response to store."""


class FeedbackCreated(BaseModel):
    """The stored response."""

    feedback_id: int
    pair_id: int


class FeedbackPublic(FeedbackBase):
    """A stored response about a pair."""

    feedback_id: int
    pair_id: int
    created_at: dt.datetime
    withheld: bool = Field(
        default=False,
        description="A response of the other school's person of a virtual pair: its comment and "
        "open answers are shown to their own school only.",
    )


class SurveyPublic(BaseModel):
    """The satisfaction questionnaire: items scored 1-10, open questions, "would you continue"."""

    items: dict[str, str]
    open_questions: dict[str, str]
    would_continue: str


class OrderCreate(BaseModel):
    """The order fixing pairs: number, date, basis and which active pairs (all when omitted)."""

    number: SafeText = Field(description="Number of the order, e.g. '45-о'.", max_length=50)
    date: dt.date
    basis: SafeText = Field(
        default="Положением о системе наставничества",
        description="What the order is based on; follows «В соответствии с».",
        max_length=2000,
    )
    end_date: dt.date | None = Field(
        default=None,
        description="Planned end of every pair; by default one year after each pair's start.",
    )
    pair_ids: list[DbId] | None = Field(default=None, description="Active pairs; all when omitted.")
    head: SafeText | None = Field(
        default=None, description="Name of the head who signs.", max_length=200
    )


class PeopleCount(BaseModel):
    """How many people of one side answered a questionnaire of one form."""

    form: str
    role: Author
    count: int


class PairCount(BaseModel):
    """How many pairs of one form are in one state."""

    form: str
    status: str
    count: int


class Coverage(BaseModel):
    """Mentees with a pair among those with consent."""

    mentees: int
    mentees_with_consent: int
    mentees_with_pair: int
    share: float | None = Field(description="Mentees with a pair / mentees with consent.")


class MentorLoadRow(BaseModel):
    """One mentor's active pairs against their places."""

    mentor_id: int
    active: int
    capacity: int
    consent: bool


class MentorLoadSummary(BaseModel):
    """Mentors' load."""

    mentors: int
    active_pairs: int
    by_mentor: list[MentorLoadRow]
    full: int = Field(description="Mentors with consent and no free place.")
    over_capacity: int = Field(description="Mentors with more pairs than places (a lowered limit).")
    without_consent: int = Field(description="Mentors without consent who still have pairs.")


class WaitingSummary(BaseModel):
    """Mentees waiting for a mentor."""

    mentees: int
    max_days: int | None
    median_days: float | None
    overdue: int = Field(
        serialization_alias=f"over_{ASSIGN_WITHIN_DAYS}_days",
        description=f"Waiting longer than {ASSIGN_WITHIN_DAYS} days (docs/rules.md#thirty-days).",
    )


class Satisfaction(BaseModel):
    """The share of satisfied participants of one side against the year's target."""

    responses: int
    percent: float | None
    target: float
    meets_target: bool | None


class SatisfactionBySide(BaseModel):
    """Satisfaction of mentees and of mentors."""

    mentees: Satisfaction
    mentors: Satisfaction


class ReportPublic(BaseModel):
    """The monitoring report of a school: counts, ids and shares, no names."""

    org: str
    generated_at: dt.datetime
    people: list[PeopleCount]
    pairs: list[PairCount]
    coverage: Coverage
    mentor_load: MentorLoadSummary
    waiting: WaitingSummary
    satisfaction: SatisfactionBySide


class AuditEventPublic(BaseModel):
    """Who changed what and when (ids and statuses, no names)."""

    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any]


class SchoolSummary(BaseModel):
    """One school of a municipality with its counts."""

    code: str
    name: str
    mentors: int
    mentees: int
    active_pairs: int
    open_proposals: int
    across_schools: int = Field(description="Open proposals with a mentor of another school.")
