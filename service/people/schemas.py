"""API shapes of people: the Base/Create/Public family of each concept (English fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from service.core.rules import ASSIGN_WITHIN_DAYS, MAX_CAPACITY

__all__ = [
    "ConsentCreate",
    "ConsentEntry",
    "ConsentPublic",
    "ConsentStatus",
    "ExternalMentorPublic",
    "ExternalOrgCreate",
    "ExternalOrgPublic",
    "ImportPublic",
    "LimitPublic",
    "LimitUpdate",
    "MentorLoad",
    "MentorPair",
    "PersonAnswers",
    "PersonEdit",
    "PersonPublic",
    "PersonRemoved",
    "ServeSet",
    "ServedSchool",
    "WaitingPublic",
]

SideName = Literal["mentor", "mentee"]
ConsentKindName = Literal["participant", "parent"]


class ImportPublic(BaseModel):
    """What an import changed."""

    import_id: int
    created: int
    updated: int
    unchanged: int


class PersonPublic(BaseModel):
    """A mentor or mentee of a school."""

    id: int
    side: SideName
    external_id: str
    name: str | None
    spec: str
    consent: bool
    capacity: int | None = Field(description="Mentors: mentees they may have at once now.")
    capacity_limit: int | None = Field(
        default=None, description="Mentors: a curator's limit (it only lowers the capacity)."
    )
    agreed: int | None = Field(
        default=None, description="Mentors: mentees they agreed to take in the questionnaire."
    )
    active_pairs: int
    version: int
    details: str | None = Field(
        default=None, description="Post and subjects, or class, from the current answers."
    )
    archived_at: dt.datetime | None = Field(
        default=None, description="When the person left the programme (history kept)."
    )
    forms: list[str] = Field(
        default_factory=list,
        description="Forms of mentoring (keys): the active pairs' forms, else those the person's "
        "role fits and they accept (docs/rules.md#forms). Filled in the paged list.",
    )


class ConsentBase(BaseModel):
    """Whose consent, given or withdrawn."""

    given: bool
    kind: ConsentKindName = Field(
        default="participant",
        description="The participant's own consent, or a parent's (legal representative's) "
        "for a minor, when the person's questionnaire asks for it.",
    )


class ConsentCreate(ConsentBase):
    """A consent given (or withdrawn) on paper, with the date on the document."""

    signed_on: dt.date | None = Field(
        default=None, description="The date on the document; today (school time) when omitted."
    )


class ConsentPublic(ConsentBase):
    """What recording a consent changed."""

    person_id: int
    signed_on: dt.date
    consent: bool = Field(description="Every consent asked of the person is given now.")
    superseded: list[int] = Field(
        default=[], description="Open proposals of a person left without consent, superseded."
    )
    pairs_to_decide: list[int] = Field(
        default=[],
        description="Active pairs of a person without consent: kept, for the curator to decide.",
    )


class ConsentEntry(BaseModel):
    """One record of a person's consent."""

    model_config = ConfigDict(from_attributes=True)

    kind: ConsentKindName
    given: bool
    signed_on: dt.date | None = Field(description="The date on a paper; None for a questionnaire.")
    recorded_at: dt.datetime
    source: Literal["questionnaire", "curator"]
    by: str | None = Field(default=None, description="Login of the curator who recorded it.")


class ConsentStatus(BaseModel):
    """A person's consents: which are asked, the current state of each, and every record."""

    person_id: int
    name: str | None
    side: SideName
    spec: str
    consent: bool
    asked: list[ConsentKindName]
    parent_needed: bool
    current: dict[str, ConsentEntry]
    history: list[ConsentEntry] = Field(description="Newest first.")
    active_pairs: list[int]


class LimitUpdate(BaseModel):
    """A curator's limit of a mentor's mentees (null clears it)."""

    model_config = ConfigDict(strict=True)

    capacity_limit: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)


class LimitPublic(BaseModel):
    """A mentor's places after a curator's limit, and the pairs they already have."""

    mentor_id: int
    capacity_limit: int | None
    places: int = Field(description="Mentees the mentor may have at once.")
    active_pairs: int = Field(description="May exceed `places`: a lower limit keeps the pairs.")


class MentorPair(BaseModel):
    """An active pair taking one of a mentor's places."""

    pair_id: int
    mentee_id: int
    mentee_name: str | None
    mentee_org: str = Field(description="The mentee's school (another one for a virtual pair).")
    started_at: dt.datetime


class MentorLoad(BaseModel):
    """A mentor and the active pairs that take their places."""

    mentor: PersonPublic
    pairs: list[MentorPair]


class WaitingPublic(BaseModel):
    """A mentee with consent and no active pair, waiting for a mentor since ``since``."""

    mentee_id: int
    name: str | None
    since: dt.datetime
    days: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Waiting longer than the regulation allows (docs/rules.md#thirty-days)."""
        return self.days > ASSIGN_WITHIN_DAYS


class PersonRemoved(BaseModel):
    """A person removed as a wrong import, and what went with them."""

    person_id: int
    name: str | None
    proposals: int = Field(description="Proposals of the person removed with them.")


# branch pages2: a curator corrects a person's answers
class PersonAnswers(BaseModel):
    """A person's current answers and the questions a curator may correct."""

    person: PersonPublic
    version: int = Field(
        description="Version of the answers: send it back with a correction (or as If-Match)."
    )
    answers: dict[str, Any] = Field(description="Answers by question key (choice keys).")
    questions: list[dict[str, Any]] = Field(
        description="The questions (key, header, type, choices...), in the questionnaire's order."
    )


class PersonEdit(BaseModel):
    """A correction of a person's answers, made from one version of them."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None,
        ge=1,
        description="The version the correction was made from (or the If-Match header); a newer "
        "version stored meanwhile refuses the correction (409 edited_meanwhile).",
    )
    answers: dict[str, Any] = Field(
        description="Changed answers by question key (choice keys or the form's words); a "
        "question left out keeps its answer, null clears it.",
        min_length=1,
    )


# -- branch groups-service: external mentors (docs/rules.md#external-mentors) -----------------

OrgKind = Literal["school", "college", "enterprise", "other"]


class ServedSchool(BaseModel):
    """A school an external mentor serves, and how."""

    org: str
    name: str
    mode: Literal["in_person", "remote"]


class ExternalMentorPublic(BaseModel):
    """A mentor of a college or an enterprise and the schools they serve."""

    mentor_id: int
    name: str | None
    spec: str
    home_org: str = Field(description="The mentor's own organisation (code).")
    home_name: str
    home_kind: OrgKind
    schools: list[ServedSchool]


class ExternalOrgCreate(BaseModel):
    """A college or an enterprise of the municipality whose mentors serve schools."""

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    kind: Literal["college", "enterprise", "other"]


class ExternalOrgPublic(BaseModel):
    """An organisation of external mentors."""

    code: str
    name: str
    kind: OrgKind
    municipality: str


class ServeSet(BaseModel):
    """How an external mentor serves a school."""

    mode: Literal["in_person", "remote"]
