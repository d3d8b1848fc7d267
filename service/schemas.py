"""Request and response bodies of the API (English field names; Russian messages)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ConsentIn",
    "ConsentOut",
    "ErrorOut",
    "FeedbackIn",
    "FeedbackOut",
    "ImportOut",
    "LimitIn",
    "OrderIn",
    "PairOut",
    "PersonOut",
    "ProposalIn",
    "ProposalOut",
    "ReplaceIn",
    "RunIn",
    "RunOut",
    "SuggestionOut",
]


class ErrorItem(BaseModel):
    """One problem: where (row, column as the curator sees them) and what."""

    row: int | None = None
    column: str | None = None
    value: Any = None
    message: str


class ErrorOut(BaseModel):
    """An error answer: a code for programs, a Russian message for people."""

    code: str
    detail: str
    errors: list[ErrorItem] = []


class ImportOut(BaseModel):
    """What an import changed."""

    import_id: int
    created: int
    updated: int
    unchanged: int


class PersonOut(BaseModel):
    """A mentor or mentee of a school."""

    id: int
    side: Literal["mentor", "mentee"]
    external_id: str
    name: str | None
    spec: str
    consent: bool
    capacity: int | None = Field(description="Mentors: mentees they may have at once.")
    capacity_limit: int | None = Field(
        default=None, description="Mentors: a curator's limit (it only lowers the capacity)."
    )
    active_pairs: int
    version: int


class SuggestionOut(BaseModel):
    """A mentor who could take this mentee, and why."""

    mentor_id: int
    score: float
    reasons: list[str]


class RunIn(BaseModel):
    """Options of a matching run."""

    objective: Literal["coverage", "score"] = "coverage"
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)


class ProposalOut(BaseModel):
    """A proposed pair."""

    proposal_id: int
    mentee_id: int
    mentor_id: int
    score: float
    reasons: list[str]
    form: str | None = Field(default=None, description="Key of the form of mentoring.")
    status: str = "open"
    run_id: int | None = None


class RunOut(BaseModel):
    """The answer of a matching run."""

    run_id: int
    proposals: list[ProposalOut]
    unmatched: list[int] = Field(description="Mentees (with consent) left without a mentor.")
    kept: list[int] = Field(description="Active pairs kept as they are.")
    without_consent: int = Field(description="Mentees left out for lack of recorded consent.")
    seconds: float


class ProposalIn(BaseModel):
    """A pair a curator chose (say, from the suggestions)."""

    mentee_id: int
    mentor_id: int


class PairOut(BaseModel):
    """A pair and its state."""

    pair_id: int
    org: str
    mentee_id: int
    mentor_id: int
    form: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    previous_pair_id: int | None
    proposal_id: int | None
    mentor_org: str | None = Field(
        default=None, description="The mentor's school (differs from `org` for a virtual pair)."
    )
    missing_consent: list[Literal["mentee", "mentor"]] = Field(
        default=[],
        description="Sides of an active pair whose consent is no longer recorded: the pair is "
        "kept until a curator ends it or replaces the mentor.",
    )


class EndIn(BaseModel):
    """Why a pair ends: ``completed`` or a reason for replacement (see ``GET /api/v1/end-reasons``)."""

    reason: str


class ReplaceIn(BaseModel):
    """The new mentor of a pair and why the old one leaves."""

    mentor_id: int
    reason: str


class FeedbackIn(BaseModel):
    """Feedback (monthly) or a satisfaction questionnaire (at the end) from one side of a pair."""

    author: Literal["mentor", "mentee"]
    kind: Literal["feedback", "satisfaction"] = "feedback"
    score: int | None = Field(default=None, ge=1, le=10)
    answers: dict[str, Any] = {}
    comment: str | None = Field(default=None, max_length=5000)


class ConsentIn(BaseModel):
    """A consent given (or withdrawn) on paper: whose, and the date on the document."""

    given: bool
    kind: Literal["participant", "parent"] = Field(
        default="participant",
        description="The participant's own consent, or a parent's (legal representative's) "
        "for a minor, when the person's questionnaire asks for it.",
    )
    signed_on: dt.date | None = Field(
        default=None, description="The date on the document; today (school time) when omitted."
    )


class ConsentOut(BaseModel):
    """What recording a consent changed."""

    person_id: int
    kind: str
    given: bool
    signed_on: dt.date
    consent: bool = Field(description="Every consent asked of the person is given now.")
    superseded: list[int] = Field(
        description="Open proposals of a person left without consent, superseded."
    )
    pairs_to_decide: list[int] = Field(
        description="Active pairs of a person without consent: kept, for the curator to decide."
    )


class LimitIn(BaseModel):
    """A curator's limit of a mentor's mentees (None clears it)."""

    capacity_limit: int | None = Field(default=None, ge=0, le=3)


class FeedbackOut(BaseModel):
    """A stored response about a pair (the curator's own school only)."""

    feedback_id: int
    pair_id: int
    author: Literal["mentor", "mentee"]
    kind: Literal["feedback", "satisfaction"]
    score: int | None
    answers: dict[str, Any]
    comment: str | None
    created_at: datetime
    withheld: bool = Field(
        default=False,
        description="A response of the other school's person of a virtual pair: its comment and "
        "open answers are shown to their own school only.",
    )


class OrderIn(BaseModel):
    """The order fixing pairs: number, date, basis and which active pairs (all when omitted)."""

    number: str = Field(description="Number of the order, e.g. '45-о'.", max_length=50)
    date: dt.date
    basis: str = Field(
        default="Положением о системе наставничества",
        description="What the order is based on; follows «В соответствии с».",
        max_length=2000,
    )
    end_date: dt.date | None = Field(
        default=None,
        description="Planned end of every pair; by default one year after each pair's start.",
    )
    pair_ids: list[int] | None = Field(default=None, description="Active pairs; all when omitted.")
    head: str | None = Field(
        default=None, description="Name of the head who signs.", max_length=200
    )
