"""API shapes of pairs: a pair, ending it, replacing its mentor, deciding on a proposal."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from service.core.rules import END_REASONS
from service.core.text import DbId

__all__ = [
    "BulkConfirm",
    "BulkConfirmPublic",
    "BulkConfirmed",
    "BulkRefused",
    "Decision",
    "EndReason",
    "PairEnd",
    "PairPublic",
    "PairReplace",
    "PairStatusName",
    "ReplaceReason",
]

PairStatusName = Literal["active", "completed", "ended"]

EndReason = StrEnum("EndReason", {key: key for key in END_REASONS})  # type: ignore[misc]
EndReason.__doc__ = "Why a pair ends (docs/rules.md#replacement); `GET /end-reasons` names them."
ReplaceReason = StrEnum(  # type: ignore[misc]
    "ReplaceReason", {key: key for key in END_REASONS if key != "completed"}
)
ReplaceReason.__doc__ = "Why a mentor is replaced (every end reason but `completed`)."


class PairPublic(BaseModel):
    """A pair and its state, with both names and both schools."""

    pair_id: int
    org: str = Field(description="The mentee's school (the pair's own).")
    mentor_org: str = Field(description="The mentor's school (another one for a virtual pair).")
    mentee_id: int
    mentor_id: int
    mentee_name: str | None = None
    mentor_name: str | None = None
    form: str = Field(description="Key of the form of mentoring.")
    status: PairStatusName
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: EndReason | None
    previous_pair_id: int | None = Field(description="The pair this one replaced.")
    proposal_id: int | None
    missing_consent: list[Literal["mentee", "mentor"]] = Field(
        default=[],
        description="Sides of an active pair whose consent is no longer recorded: the pair is "
        "kept until a curator ends it or replaces the mentor.",
    )
    group_id: int | None = Field(
        default=None, description="The group: the mentor's mentees of this form at this school."
    )
    planned_start: dt.date | None = Field(default=None, description="The planned term's start.")
    planned_end: dt.date | None = Field(default=None, description="The planned term's end.")
    term: Literal["ok", "ending", "overdue"] | None = Field(
        default=None,
        description="An active pair's term: `ending` within 14 days, `overdue` past its planned "
        "end (docs/rules.md#term).",
    )
    days_left: int | None = Field(default=None, description="Days to the planned end (< 0: past).")


class PairEnd(BaseModel):
    """Why a pair ends: `completed` or one of the reasons of a replacement."""

    reason: EndReason


class PairReplace(BaseModel):
    """The new mentor of a pair and why the old one leaves."""

    mentor_id: DbId
    reason: ReplaceReason


class Decision(BaseModel):
    """A curator's decision on a proposal."""

    proposal_id: int
    status: Literal["open", "rejected"]


class BulkConfirm(BaseModel):
    """Proposals to confirm at once, in this order (best first, as the pages send them)."""

    proposal_ids: list[DbId] = Field(min_length=1, max_length=1000)


class BulkConfirmed(BaseModel):
    """A proposal confirmed by a bulk confirmation, and its pair."""

    proposal_id: int
    pair_id: int
    mentee_name: str | None
    mentor_name: str | None


class BulkRefused(BaseModel):
    """A proposal a bulk confirmation left as it was, and why (in Russian, by name)."""

    proposal_id: int
    mentee_name: str | None
    mentor_name: str | None
    code: str = Field(description="The error code a single confirmation would answer.")
    reason: str


class BulkConfirmPublic(BaseModel):
    """What a bulk confirmation did: each proposal is either confirmed or refused."""

    confirmed: list[BulkConfirmed]
    refused: list[BulkRefused]
