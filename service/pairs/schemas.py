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
    "DemandPublic",
    "DemandSet",
    "EndReason",
    "FormChange",
    "GroupConfirm",
    "GroupConfirmPublic",
    "GroupEnd",
    "GroupLimitPublic",
    "GroupLimitSet",
    "GroupPublic",
    "MemberReplace",
    "PairChangePublic",
    "PairEnd",
    "PairFinishPublic",
    "PairPublic",
    "PairReplace",
    "PairStatusName",
    "ProposedGroup",
    "ProposedMember",
    "ReplaceReason",
    "TermChange",
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
    detail: str = Field(description="What was done, in Russian, naming the mentor and the mentee.")


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


# -- branch groups-service: groups, terms ---------------------------------------------------


class GroupPublic(BaseModel):
    """A group: a mentor and the mentees they mentor in one form at one school."""

    group_id: int
    org: str = Field(description="The school of the group's mentees.")
    mentor_org: str = Field(description="The mentor's organisation.")
    mentor_id: int
    mentor_name: str | None
    form: str = Field(description="Key of the form of mentoring.")
    form_title: str
    size_limit: int = Field(description="The largest the group may be (the form's maximum).")
    status: Literal["active", "ended"]
    created_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None
    members: list[PairPublic] = Field(description="The active members' pairs.")
    former_members: list[PairPublic] = Field(description="Members who left, with the reason.")
    ending: int = Field(description="Active members whose term ends within 14 days.")
    overdue: int = Field(description="Active members past their planned end.")


class ProposedMember(BaseModel):
    """One open proposal of a proposed group."""

    proposal_id: int
    mentee_id: int
    mentee_name: str | None
    score: float
    reasons: list[str]


class ProposedGroup(BaseModel):
    """A school's open proposals of one mentor in one form: the group they would form."""

    mentor_id: int
    mentor_name: str | None
    form: str
    form_title: str
    group_id: int | None = Field(description="The mentor's active group of the form, if any.")
    size_limit: int
    members_now: int = Field(description="Active members the group has already.")
    proposals: list[ProposedMember]


class GroupConfirm(BaseModel):
    """Which proposed group to confirm: a mentor and a form."""

    mentor_id: DbId
    form: str = Field(min_length=1, max_length=100)


class GroupConfirmPublic(BaseModel):
    """A confirmed group and what happened to each of its proposals."""

    group: GroupPublic | None
    confirmed: list[BulkConfirmed]
    refused: list[BulkRefused]


class MemberReplace(BaseModel):
    """The new mentee of a group and why the member leaves."""

    mentee_id: DbId
    reason: ReplaceReason


class GroupEnd(BaseModel):
    """Why a group (every active member) ends."""

    reason: EndReason


class GroupLimitPublic(BaseModel):
    """The largest group of a form at a school."""

    form: str
    form_title: str
    max_size: int = Field(description="In force: the school's own setting, else the default.")
    default: int
    own: int | None = Field(description="The school's own setting (None: the default holds).")
    ceiling: int = Field(description="The most a school may set (3 for the teacher forms).")


class GroupLimitSet(BaseModel):
    """A school's largest group of a form."""

    max_size: int = Field(ge=1, le=100)


class TermChange(BaseModel):
    """A new planned end of a pair or a group, agreed by both sides, and why."""

    planned_end: dt.date
    reason: str = Field(min_length=1, max_length=2000)


class FormChange(BaseModel):
    """A new form of mentoring of a pair, agreed by both sides, and why."""

    form: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class PairChangePublic(BaseModel):
    """A recorded change of a pair's term or form."""

    kind: Literal["term", "form"]
    old_value: str | None
    new_value: str
    reason: str
    at: dt.datetime


class PairFinishPublic(BaseModel):
    """A pair at the end of its term: the final survey each side still owes, or the closed pair."""

    pair: PairPublic
    missing_surveys: list[Literal["mentee", "mentor"]] = Field(
        description="Sides whose final satisfaction survey is not recorded yet."
    )
    finished: bool


class DemandSet(BaseModel):
    """How many distinct mentors a mentee needs at once."""

    demand: int = Field(ge=1, le=10)


class DemandPublic(BaseModel):
    """A mentee's demand for mentors and their active pairs (docs/rules.md#co-mentors)."""

    mentee_id: int
    mentee_name: str | None
    demand: int
    pairs: list[PairPublic]
