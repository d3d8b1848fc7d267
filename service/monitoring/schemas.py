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
    "CuratorOrderCreate",
    "DenominatorsCreate",
    "DenominatorsImported",
    "DenominatorsPublic",
    "FeedbackCreate",
    "FeedbackCreated",
    "FeedbackPublic",
    "FeedbackRow",
    "FormStatistics",
    "IndicatorPublic",
    "IndicatorsPublic",
    "MentorLoadRow",
    "MentorLoadSummary",
    "MentorsOrderCreate",
    "MunicipalityReport",
    "OrderCreate",
    "OrderHeading",
    "ReplacementOrderCreate",
    "ReportPublic",
    "Satisfaction",
    "SchoolIndicators",
    "SchoolSummary",
    "StatisticCount",
    "StatisticsPublic",
    "SurveyPublic",
    "TrendPoint",
    "UnitIndicators",
    "UnitStatistics",
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


class FeedbackRow(FeedbackPublic):
    """A response in a school's list of feedback, with the pair's people."""

    mentee_name: str | None
    mentor_name: str | None


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


class SchoolIndicators(BaseModel):
    """Coverage, waiting, satisfaction and mentors' load of one school (or of a municipality's
    schools together), as a school's report counts them."""

    code: str | None = Field(description="The school's code; null for the municipality's total.")
    name: str
    coverage: Coverage
    waiting: WaitingSummary
    satisfaction: SatisfactionBySide
    mentor_load: MentorLoadSummary = Field(
        description="Mentors' load (``by_mentor`` left empty: see each school's report)."
    )


class MunicipalityReport(BaseModel):
    """A coordinator's report: each school of a municipality and all of them together."""

    municipality: str
    generated_at: dt.datetime
    total: SchoolIndicators
    schools: list[SchoolIndicators]


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


# -- indicators and their denominators (issue 13) ----------------------------------------------


class DenominatorsBase(BaseModel):
    """What a school counts for the indicators of one programme year (docs/rules.md#indicators)."""

    pupils_10_19: int = Field(ge=0, le=1_000_000, description="Pupils aged 10 to 19.")
    pupils_15_19: int = Field(ge=0, le=1_000_000, description="Pupils aged 15 to 19.")
    young_teachers: int = Field(
        ge=0, le=100_000, description="Teachers in their first 3 years (молодые специалисты)."
    )
    enterprises: int = Field(
        ge=0, le=1_000_000, description="Enterprises (organisations) of the school's territory."
    )


class DenominatorsCreate(DenominatorsBase):
    """Denominators to store; refused (422) when a share would exceed 100 %."""


class DenominatorsPublic(DenominatorsBase):
    """Stored denominators of a school and a programme year."""

    org: str
    year: int = Field(description="Programme year: the year its school year starts (1 September).")
    year_label: str
    updated_at: dt.datetime


class DenominatorsImported(BaseModel):
    """The rows an XLSX file of denominators stored."""

    stored: list[DenominatorsPublic]


class TrendPoint(BaseModel):
    """The value of an indicator in one programme year."""

    year: int
    label: str
    value: float | None


class IndicatorPublic(BaseModel):
    """One indicator of the target model against the year's target (docs/rules.md#indicators)."""

    key: str
    title: str
    definition: str
    numerator: int | None = Field(description="Counted people, enterprises or questionnaires.")
    denominator: int | None = Field(description="Entered denominator; none for satisfaction.")
    value: float | None = Field(description="Percent; none without a denominator or answers.")
    target: float = Field(description="Target of the programme year, percent.")
    gap: float | None = Field(description="Value minus target, percentage points.")
    meets_target: bool | None
    above_hundred: bool = Field(
        description="The share exceeds 100 %: the denominator is older than the pairs."
    )
    trend: list[TrendPoint] = Field(description="Earlier programme years, oldest first.")


class UnitIndicators(BaseModel):
    """The indicators of one part (a school of a municipality, a municipality of a region)."""

    code: str
    name: str
    indicators: list[IndicatorPublic]


class IndicatorsPublic(BaseModel):
    """The indicators of a school, a municipality or a region for a programme year."""

    scope: Literal["school", "municipality", "region"]
    code: str = Field(description="The school's code, or the municipality's or region's name.")
    name: str
    year: int
    year_label: str
    schools: int
    schools_without_denominators: int
    denominators: dict[str, int] | None
    indicators: list[IndicatorPublic]
    parts: list[UnitIndicators] = Field(default=[], description="Each school or municipality.")


# -- the orders appointing mentors, the curator, and replacing a mentor (issue 13) ------------


class OrderHeading(BaseModel):
    """What every order has: number, date, basis and the head who signs."""

    number: SafeText = Field(description="Number of the order, e.g. '46-о'.", max_length=50)
    date: dt.date
    basis: SafeText = Field(
        default="Положением о системе наставничества",
        description="What the order is based on; follows «В соответствии с».",
        max_length=2000,
    )
    head: SafeText | None = Field(
        default=None, description="Name of the head who signs.", max_length=200
    )


class MentorsOrderCreate(OrderHeading):
    """The order appointing mentors: only mentors whose written consent is recorded."""

    mentor_ids: list[DbId] = Field(min_length=1, description="Mentors of the school to appoint.")


class CuratorOrderCreate(OrderHeading):
    """The order appointing the curator of the mentoring programme."""

    curator_name: SafeText = Field(max_length=300, description="ФИО of the curator.")
    curator_post: SafeText = Field(max_length=300, description="Post of the curator.")


class ReplacementOrderCreate(OrderHeading):
    """The order replacing mentors: pairs that replaced another pair's mentor."""

    pair_ids: list[DbId] | None = Field(
        default=None, description="Active pairs that replaced a mentor; all when omitted."
    )


# -- counts for the federal statistics forms (branch monitoring2, issue 13) ---------------------


class StatisticCount(BaseModel):
    """One count of participants for the federal statistics forms (docs/rules.md#statistics)."""

    key: str
    section: Literal["mentees", "mentors", "pairs", "denominators"]
    title: str
    definition: str
    value: int | None = Field(description="None: a denominator no school entered for the year.")


class FormStatistics(BaseModel):
    """The pairs of one form of mentoring in a programme year, and their people."""

    form: str
    title: str
    pairs: int = Field(description="Pairs going on at least one day of the year.")
    started: int
    completed: int = Field(description="Ended in the year: the programme was completed.")
    ended_early: int = Field(description="Ended in the year for another reason.")
    continuing: int = Field(description="Not ended before the year's end.")
    virtual: int = Field(description="The mentor is of another school.")
    mentees: int
    mentors: int


class UnitStatistics(BaseModel):
    """The counts of one part: a school of a municipality, a municipality of a region."""

    code: str
    name: str
    values: dict[str, int | None] = Field(description="Count key -> value, as in ``counts``.")


class StatisticsPublic(BaseModel):
    """Counts of participants of a school, a municipality or a region for a programme year."""

    scope: Literal["school", "municipality", "region"]
    code: str = Field(description="The school's code, or the municipality's or region's name.")
    name: str
    year: int
    year_label: str
    schools: int
    schools_without_denominators: int
    counts: list[StatisticCount]
    forms: list[FormStatistics] = Field(description="Forms of mentoring with a pair in the year.")
    parts: list[UnitStatistics] = Field(default=[], description="Each school or municipality.")
