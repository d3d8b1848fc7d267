"""API shapes of matching: runs, proposals and suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from service.core.text import DbId

__all__ = [
    "FreeMentorPublic",
    "ProposalCreate",
    "ProposalPublic",
    "ProposalStatusName",
    "RunCreate",
    "RunPublic",
    "RunResultPublic",
    "SuggestionPublic",
    "UnmatchedPublic",
]

ProposalStatusName = Literal["open", "confirmed", "rejected", "superseded"]


class RunCreate(BaseModel):
    """Options of a matching run."""

    objective: Literal["coverage", "score"] = Field(
        default="coverage",
        description="coverage: most mentees matched, then the best total score; score: the best "
        "total score.",
    )
    min_score: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Pairs below are never proposed."
    )


class ProposalCreate(BaseModel):
    """A pair a curator chose (say, from the suggestions)."""

    mentee_id: DbId
    mentor_id: DbId


class ProposalPublic(BaseModel):
    """A proposed pair with the names a curator needs to decide on it."""

    proposal_id: int
    run_id: int | None = None
    mentee_id: int
    mentor_id: int
    mentee_name: str | None = None
    mentor_name: str | None = None
    score: float = Field(description="Compatibility in [0, 1].")
    reasons: list[str] = Field(description="Why the pair fits, in Russian, the strongest first.")
    form: str | None = Field(default=None, description="Key of the form of mentoring.")
    status: ProposalStatusName = "open"
    status_reason: str | None = Field(
        default=None,
        description="Why a superseded proposal can no longer be confirmed: new_run, "
        "mentee_paired, mentor_full, no_consent.",
    )
    created_at: dt.datetime | None = None
    mentee_org: str | None = Field(default=None, description="The mentee's school (its name).")
    mentor_org: str | None = Field(default=None, description="The mentor's school (its name).")
    remote: bool = Field(default=False, description="The two are of different schools.")


class RunPublic(BaseModel):
    """The answer of a matching run."""

    run_id: int
    proposals: list[ProposalPublic]
    unmatched: list[int] = Field(description="Mentees (with consent) left without a mentor.")
    kept: list[int] = Field(description="Active pairs kept as they are.")
    without_consent: int = Field(description="Mentees left out for lack of recorded consent.")
    seconds: float


class SuggestionPublic(BaseModel):
    """A mentor who could take this mentee, and why."""

    mentor_id: int
    mentor_name: str | None = None
    score: float
    reasons: list[str]


class UnmatchedPublic(BaseModel):
    """A mentee a run left without a pair, and why."""

    mentee_id: int
    name: str | None
    school: str = Field(description="The mentee's school (its name).")
    reason: str = Field(
        description="no_consent, no_mentors, no_allowed_mentor, only_rejected, places_taken."
    )
    why: str = Field(description="The reason in Russian.")


class FreeMentorPublic(BaseModel):
    """A mentor left with free places after a run."""

    mentor_id: int
    name: str | None
    school: str
    free: int


class RunResultPublic(BaseModel):
    """What a run did: its counts, the mentees left without a pair and why, the mentors left
    with free places (its proposals: ``GET /orgs/{org}/proposals/paged?run=...``)."""

    run_id: int
    org: str | None = Field(description="The school's code, for a school's run.")
    municipality: str | None
    created_at: dt.datetime
    proposed: int
    kept: int
    unmatched: list[UnmatchedPublic]
    free_mentors: list[FreeMentorPublic]
