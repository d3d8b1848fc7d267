"""The API's shapes of participants' links, answers, consents and pair work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.core.text import DbId, SafeText

__all__ = [
    "ChoicePublic",
    "ChoiceView",
    "ConsentByLink",
    "ConsentText",
    "FinalReportCreate",
    "FinalReportPublic",
    "FlagPublic",
    "InvitationCreate",
    "InvitationPublic",
    "LinkView",
    "MeetingCreate",
    "MeetingPublic",
    "MonthlyFeedback",
    "PairWork",
    "PlanCreate",
    "PlanPublic",
    "PlanTask",
    "ProposalForMentor",
    "QuestionnaireView",
    "RankingCreate",
    "RemindersPublic",
    "ResponseCreate",
    "SchoolLinkCreate",
    "SuggestedMentor",
]

Purpose = Literal["questionnaire", "consent", "parent", "pair", "choice"]


class InvitationCreate(BaseModel):
    """A personal link: whose, what for, where to send it and for how many days."""

    person_id: DbId
    purpose: Purpose
    pair_id: DbId | None = Field(default=None, description="For purpose 'pair': which pair.")
    email: SafeText | None = Field(
        default=None,
        max_length=300,
        description="Send the link there (queued in the outbox); default: the person's e-mail.",
    )
    days: int | None = Field(default=None, ge=1, le=366)


class SchoolLinkCreate(BaseModel):
    """A school's link for new people's questionnaires, opened with a code."""

    side: Literal["mentor", "mentee"]
    spec: str = "teacher"
    code: SafeText | None = Field(
        default=None, min_length=4, max_length=40, description="Default: six random digits."
    )
    days: int | None = Field(default=None, ge=1, le=366)


class InvitationPublic(BaseModel):
    """A link as its curator sees it; ``url`` and ``code`` only in the answer that creates it."""

    invitation_id: int
    purpose: str
    person_id: int | None
    person_name: str | None
    pair_id: int | None
    side: str | None
    email: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    url: str | None = None
    code: str | None = None


class QuestionnaireView(BaseModel):
    """A questionnaire as a link shows it: the questions and the current answers."""

    purpose: str
    spec: str
    side: str
    title: str
    person_name: str | None
    answers: dict[str, Any]
    questions: list[dict[str, Any]]
    open: bool = Field(description="Answers may still be corrected (no proposal or pair yet).")
    url: str | None = Field(
        default=None, description="After a school link: the person's own link to come back by."
    )


class ConsentText(BaseModel):
    """The text a participant or a parent agrees to, and its version."""

    kind: str
    version: str
    title: str
    text: str


class LinkView(BaseModel):
    """What a personal link opens (no data of anyone else)."""

    purpose: str
    person_name: str | None
    expires_at: datetime
    consent: ConsentText | None = None
    given: bool | None = Field(default=None, description="The current state of this consent.")


class ConsentByLink(BaseModel):
    """Agree, or withdraw; a parent gives their name."""

    given: bool
    agree: bool = Field(default=False, description="Must be true to give consent: 'I have read'.")
    signer_name: SafeText | None = Field(default=None, max_length=300)


class PlanTask(BaseModel):
    """One task of a plan."""

    title: SafeText = Field(min_length=1, max_length=300)
    due: date


class PlanCreate(BaseModel):
    """A pair's plan (the mentor writes it)."""

    goals: SafeText = Field(min_length=1, max_length=5000)
    tasks: list[PlanTask] = Field(min_length=1, max_length=50)
    starts_on: date
    ends_on: date


class PlanPublic(PlanCreate):
    """A stored plan."""

    pair_id: int
    version: int
    updated_at: datetime
    acknowledged_at: datetime | None


class MeetingCreate(BaseModel):
    """A meeting of a pair, logged by either side with that side's note."""

    held_on: date
    format: Literal["in_person", "remote"]
    topic: SafeText = Field(min_length=1, max_length=300)
    note: SafeText | None = Field(default=None, max_length=2000)


class MeetingPublic(BaseModel):
    """A logged meeting with both sides' notes."""

    meeting_id: int
    pair_id: int
    held_on: date
    format: str
    topic: str
    mentor_note: str | None
    mentee_note: str | None


class FinalReportCreate(BaseModel):
    """One side's final report."""

    text: SafeText = Field(min_length=1, max_length=10000)
    score: int | None = Field(default=None, ge=1, le=10)


class FinalReportPublic(FinalReportCreate):
    """A stored final report."""

    pair_id: int
    author: str
    created_at: datetime


class PairWork(BaseModel):
    """One side's view of their pair: the other person's name only, plan, meetings, reports."""

    pair_id: int
    side: str
    status: str
    partner_name: str | None
    started_at: datetime
    plan: PlanPublic | None
    meetings: list[MeetingPublic]
    reports: list[FinalReportPublic]
    feedback_this_month: bool


class FlagPublic(BaseModel):
    """A pair the curator should look at: what is missing and since when."""

    pair_id: int
    mentee_name: str | None
    mentor_name: str | None
    missing: list[str] = Field(description="plan, feedback, final_report_mentor, ...")
    titles: list[str] = Field(description="The same in Russian.")


class MonthlyFeedback(BaseModel):
    """One side's monthly feedback: a score, a comment, or both."""

    score: int | None = Field(default=None, ge=1, le=10)
    comment: SafeText | None = Field(default=None, max_length=2000)


class RemindersPublic(BaseModel):
    """How many reminders were queued."""

    queued: int


class SuggestedMentor(BaseModel):
    """A mentor suggested to a mentee: name, post and subjects, reasons; no scores."""

    mentor_id: int
    name: str | None
    post: str
    reasons: list[str]
    rank: int | None = Field(default=None, description="The mentee's rank (1 = first choice).")


class RankingCreate(BaseModel):
    """A mentee's choice: mentor ids, first choice first (at most the suggested ones)."""

    mentor_ids: list[DbId] = Field(max_length=10)


class ProposalForMentor(BaseModel):
    """An open proposal as its mentor sees it: the mentee's name and the reasons."""

    proposal_id: int
    mentee_name: str | None
    reasons: list[str]
    accepted: bool | None = Field(default=None, description="The mentor's answer, if given.")


class ResponseCreate(BaseModel):
    """A mentor's answer to a proposal."""

    accepted: bool
    note: SafeText | None = Field(default=None, max_length=1000)


class ChoiceView(BaseModel):
    """What a choice link shows: a mentee's suggestions or a mentor's open proposals."""

    side: str
    person_name: str | None
    suggestions: list[SuggestedMentor] = []
    proposals: list[ProposalForMentor] = []


class ChoicePublic(BaseModel):
    """An open proposal of a school with the mentor's answer and the mentee's rank of the mentor."""

    proposal_id: int
    mentee_name: str | None
    mentor_name: str | None
    mentor_accepted: bool | None
    mentee_rank: int | None
