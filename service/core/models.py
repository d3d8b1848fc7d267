"""The database: SQLAlchemy 2 models of organisations, people, answers, runs, proposals and pairs.

Rules that a database can hold are written here as constraints, so that no code path, however
concurrent, can break them: one active pair per mentee, at most three active pairs per mentor
(a mentor's active pairs occupy numbered places 1..3), one pair per confirmed proposal.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from service.core.rules import MAX_CAPACITY, MAX_DEMAND, MAX_GROUP_SIZE, ORG_KINDS, SERVICE_MODES

__all__ = [
    "Answers",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Consent",
    "ConsentEvidence",
    "ConsentKind",
    "Denominators",
    "Feedback",
    "FinalReport",
    "GroupLimit",
    "GroupStatus",
    "Import",
    "Invitation",
    "LinkPurpose",
    "MatchingRun",
    "Meeting",
    "MentorGroup",
    "MentorService",
    "Message",
    "MessageStatus",
    "Organisation",
    "Pair",
    "PairChange",
    "PairStatus",
    "Person",
    "Plan",
    "Proposal",
    "ProposalResponse",
    "ProposalStatus",
    "Ranking",
    "Role",
    "Side",
    "User",
    "WebSession",
    "places",
    "utcnow",
]


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware times")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Side(enum.StrEnum):
    """Which questionnaire a person answered."""

    mentor = "mentor"
    mentee = "mentee"


class Role(enum.StrEnum):
    """What a user may see: everything, one region (субъект РФ), one municipality, or one school."""

    admin = "admin"
    region = "region"
    coordinator = "coordinator"
    curator = "curator"


class ConsentKind(enum.StrEnum):
    """Whose written consent (docs/rules.md#consent): the participant's own, or a parent's."""

    participant = "participant"  # to take part and to have personal data processed
    parent = "parent"  # of the legal representative of a minor


class ProposalStatus(enum.StrEnum):
    """The life of a proposal: open until a curator decides, or a newer run replaces it."""

    open = "open"
    confirmed = "confirmed"
    rejected = "rejected"
    superseded = "superseded"


class PairStatus(enum.StrEnum):
    """The life of a pair."""

    active = "active"
    completed = "completed"
    ended = "ended"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with named constraints, so that migrations can refer to them."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Organisation(Base):
    """A school (образовательная организация); schools are grouped into municipalities."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(repr(k) for k in ORG_KINDS) + ")", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    municipality: Mapped[str | None] = mapped_column(String(200), index=True)
    region: Mapped[str | None] = mapped_column(
        String(200), index=True, doc="The region (субъект РФ) of the school's municipality."
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # branch groups-service: a school, or the home of external mentors (docs/rules.md#external-mentors)
    kind: Mapped[str] = mapped_column(String(20), default="school", server_default="school")
    # branch importlock: the hidden holder of a big import's new people until its last
    # transaction moves them to their school (service.people.people); None for every real one
    pending_import: Mapped[str | None] = mapped_column(
        String(32), doc="The random key of the import whose new people this hides, if any."
    )


class User(Base):
    """Someone who uses the API or the pages: a password (an argon2 hash) for the pages, API tokens
    (:class:`ApiToken`) for scripts."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint("role != 'curator' OR org_id IS NOT NULL", name="curator_has_org"),
        CheckConstraint(
            "role != 'coordinator' OR municipality IS NOT NULL", name="coordinator_has_municipality"
        ),
        CheckConstraint("role != 'region' OR region IS NOT NULL", name="region_has_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    municipality: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organisation | None] = relationship()


class Person(Base):
    """A mentor or a mentee of one school, known by the identifying answer of their questionnaire."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("org_id", "side", "external_id", name="uq_people_identity"),
        CheckConstraint(_in("side", Side), name="side"),
        CheckConstraint(f"capacity BETWEEN 0 AND {MAX_GROUP_SIZE}", name="capacity"),
        CheckConstraint(f"capacity_limit BETWEEN 0 AND {MAX_GROUP_SIZE}", name="capacity_limit"),
        CheckConstraint(f"demand BETWEEN 1 AND {MAX_DEMAND}", name="demand"),
        # the parent key of a pair's (mentee_id, mentee_demand): see Pair
        UniqueConstraint("id", "demand", name="uq_people_id_demand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(300))
    spec: Mapped[str] = mapped_column(String(100))
    consent: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="Every consent the regulation asks of this person is given."
    )
    capacity: Mapped[int | None] = mapped_column(Integer, doc="From the mentor's own answer.")
    capacity_limit: Mapped[int | None] = mapped_column(
        Integer, doc="A lower limit set by a curator."
    )
    version: Mapped[int] = mapped_column(Integer, default=1, doc="Current version of the answers.")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # branch pages: left the programme (history kept); not matched, not waiting
    archived_at: Mapped[datetime | None]
    # branch groups-service: how many distinct mentors a mentee needs at once (docs/rules.md#co-mentors)
    demand: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    org: Mapped[Organisation] = relationship()

    def places(self) -> int:
        """Return how many mentees this mentor may have at once."""
        return places(self.capacity, self.capacity_limit, self.consent)


def places(capacity: int | None, capacity_limit: int | None, consent: bool) -> int:
    """How many mentees a mentor may have at once, from their columns (:meth:`Person.places`)."""
    if capacity is None:
        capacity = MAX_CAPACITY
    if capacity_limit is not None:
        capacity = min(capacity, capacity_limit)
    return capacity if consent else 0


class Import(Base):
    """One uploaded questionnaire file and what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    spec: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(300))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Answers(Base):
    """One version of a person's questionnaire answers; re-imports add versions, never overwrite."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("person_id", "version", name="uq_answers_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[str] = mapped_column(String(100))
    records: Mapped[dict[str, Any]]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class Consent(Base):
    """A recorded consent (or its withdrawal): whose, its date and where it came from.

    The latest record of each kind is the person's current state of that consent;
    ``Person.consent`` sums them up (see ``service.people.consents``).
    """

    __tablename__ = "consents"
    __table_args__ = (CheckConstraint(_in("kind", ConsentKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(20),
        default=ConsentKind.participant.value,
        server_default=ConsentKind.participant.value,
    )
    given: Mapped[bool] = mapped_column(Boolean)
    signed_on: Mapped[date | None] = mapped_column(
        Date, doc="The date written on a paper consent (None for a questionnaire answer)."
    )
    source: Mapped[str] = mapped_column(String(20), doc="'questionnaire' or 'curator'.")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class MatchingRun(Base):
    """One batch match of a school or of a municipality."""

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    municipality: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200), doc="A region-wide batch.")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    objective: Mapped[str] = mapped_column(String(20))
    min_score: Mapped[float] = mapped_column(Float)
    mentees: Mapped[int] = mapped_column(Integer, default=0)
    mentors: Mapped[int] = mapped_column(Integer, default=0)
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    kept: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[list[Any]] = mapped_column(default=list)
    total_score: Mapped[float] = mapped_column(Float, default=0.0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # branch pages: why each mentee got no pair (mentee id -> a key of UNMATCHED_REASONS), and
    # the mentors left with free places (mentor id -> free places), for the run's result page
    unmatched_reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    free_mentors: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Proposal(Base):
    """A proposed pair with its score and the reasons a curator reads."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(_in("status", ProposalStatus), name="status"),
        Index("ix_proposals_pair", "mentee_id", "mentor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    form: Mapped[str | None] = mapped_column(String(100), doc="Key of the form of mentoring.")
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.open.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # branch pages: why a proposal was superseded (a key of service.core.rules.SUPERSEDED_REASONS)
    status_reason: Mapped[str | None] = mapped_column(String(40))

    mentee: Mapped[Person] = relationship(foreign_keys=[mentee_id])
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])


class Pair(Base):
    """A confirmed pair: one mentor and one mentee of a group, active, then completed or ended.

    The database holds the rules of groups and co-mentors itself (docs/rules.md#group,
    docs/rules.md#co-mentors), so that no code path, however concurrent, breaks them:

    - ``place`` numbers the active members of a group 1..size; (``group_id``, ``group_size``)
      refers to the group's (id, size_limit), and an active pair's place may not exceed it, so a
      group never grows past its form's maximum (a partial unique index on (group, place) among
      active pairs);
    - ``mentee_place`` numbers a mentee's active pairs 1..demand the same way, against the
      mentee's (id, demand); and one mentor is never twice a mentee's active mentor.
    """

    __tablename__ = "pairs"
    __table_args__ = (
        CheckConstraint(_in("status", PairStatus), name="status"),
        CheckConstraint(f"place BETWEEN 1 AND {MAX_GROUP_SIZE}", name="place"),
        CheckConstraint("(status = 'active') = (ended_at IS NULL)", name="ended_at_iff_not_active"),
        CheckConstraint(
            "status != 'active' OR (group_id IS NOT NULL AND group_size IS NOT NULL "
            "AND place <= group_size)",
            name="group_place",
        ),
        CheckConstraint(
            "status != 'active' OR mentee_place BETWEEN 1 AND mentee_demand", name="mentee_place"
        ),
        CheckConstraint("planned_end > planned_start", name="planned_term"),
        ForeignKeyConstraint(
            ["group_id", "group_size"],
            ["mentor_groups.id", "mentor_groups.size_limit"],
            name="fk_pairs_group_size",
            onupdate="CASCADE",
        ),
        ForeignKeyConstraint(
            ["mentee_id", "mentee_demand"],
            ["people.id", "people.demand"],
            name="fk_pairs_mentee_demand",
            onupdate="CASCADE",
        ),
        Index(
            "uq_pairs_active_mentee_place",
            "mentee_id",
            "mentee_place",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_pairs_active_mentee_mentor",
            "mentee_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_pairs_active_group_place",
            "group_id",
            "place",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), unique=True)
    previous_pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id"))
    form: Mapped[str] = mapped_column(String(100))
    place: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PairStatus.active.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # branch groups-service: the group, the mentee's place among their mentors, the planned term
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    group_size: Mapped[int | None] = mapped_column(Integer, doc="The group's size_limit (a copy).")
    mentee_place: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    mentee_demand: Mapped[int] = mapped_column(
        Integer, default=1, server_default="1", doc="The mentee's demand (a copy)."
    )
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)

    mentee: Mapped[Person] = relationship(foreign_keys=[mentee_id])
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    group: Mapped[MentorGroup | None] = relationship(foreign_keys=[group_id])


class Feedback(Base):
    """Feedback on a pair (monthly) or a satisfaction questionnaire at its end."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(_in("author", Side), name="author"),
        CheckConstraint("kind IN ('feedback', 'satisfaction')", name="kind"),
        CheckConstraint("score BETWEEN 1 AND 10", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who changed what and when; ``detail`` holds ids and statuses, never names or contacts."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# -- branch participation (issue 12): links, answers by link, plans, meetings, reports, outbox --


class LinkPurpose(enum.StrEnum):
    """What a participant's signed link opens: one purpose per link (docs/rules.md#links)."""

    questionnaire = "questionnaire"  # one person's questionnaire, answered and corrected
    school = "school"  # a school's questionnaire for new people, opened with a code
    consent = "consent"  # the participant's own consent
    parent = "parent"  # a parent's consent for a minor
    pair = "pair"  # one person's side of a pair: plan, meetings, feedback, final report
    choice = "choice"  # a mentee ranks suggested mentors; a mentor answers proposals


class Invitation(Base):
    """A participant's link: one person (or one school's new people) and one purpose.

    The link carries only this row's id, signed with the server's secret and a time stamp
    (``service.participation.links``); the row says whose it is, what for, until when, and
    whether the curator has revoked it. ``code_hash`` is the keyed hash of a school link's code.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(_in("purpose", LinkPurpose), name="purpose"),
        CheckConstraint("(purpose = 'school') = (person_id IS NULL)", name="person_iff_personal"),
        CheckConstraint("side IS NULL OR " + _in("side", Side), name="side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    side: Mapped[str | None] = mapped_column(String(10), doc="A school link: whose questionnaire.")
    spec: Mapped[str | None] = mapped_column(String(100), doc="A school link: which spec.")
    code_hash: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(300), doc="Where the link was sent.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()


class ConsentEvidence(Base):
    """How a consent given or withdrawn by link was given: when, from where, which text, by whom."""

    __tablename__ = "consent_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), unique=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    text_version: Mapped[str] = mapped_column(String(40))
    signer_name: Mapped[str | None] = mapped_column(String(300), doc="A parent's name.")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Plan(Base):
    """A pair's personalised programme (docs/rules.md#programme): goals, tasks with dates."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), unique=True)
    goals: Mapped[str] = mapped_column(Text)
    tasks: Mapped[list[Any]] = mapped_column(default=list, doc="[{title, due (ISO date)}]")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(doc="The mentee has read it.")


class Meeting(Base):
    """One meeting of a pair: date, format, topic and each side's short note."""

    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("format IN ('in_person', 'remote')", name="format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    format: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(300))
    mentor_note: Mapped[str | None] = mapped_column(Text)
    mentee_note: Mapped[str | None] = mapped_column(Text)
    logged_by: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FinalReport(Base):
    """One side's final report of a pair (docs/rules.md#final-reports)."""

    __tablename__ = "final_reports"
    __table_args__ = (
        UniqueConstraint("pair_id", "author", name="uq_final_reports_author"),
        CheckConstraint(_in("author", Side), name="author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageStatus(enum.StrEnum):
    """The life of an outgoing message."""

    queued = "queued"
    sent = "sent"
    failed = "failed"  # gave up after the last attempt
    shown = "shown"  # no mail server set: the message is only shown on the outbox page


class Message(Base):
    """An outgoing e-mail: queued in the same transaction as its cause, sent later, retried.

    ``key`` makes a reminder idempotent: the same reminder of the same person is queued once.
    """

    __tablename__ = "outbox"
    __table_args__ = (CheckConstraint(_in("status", MessageStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.queued.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Ranking(Base):
    """A mentee's ranking of a suggested mentor (1 = first choice): a priority for the solver
    (``service.runs.runs``: a bonus on the pair's score), never a hard rule."""

    __tablename__ = "rankings"
    __table_args__ = (
        UniqueConstraint("mentee_id", "mentor_id", name="uq_rankings_pair"),
        CheckConstraint("rank >= 1", name="rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalResponse(Base):
    """A mentor's answer to a proposal (accept or decline); the curator still decides."""

    __tablename__ = "proposal_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# -- monitoring (branch monitoring, issue 13): denominators of the indicators ------------------


class Denominators(Base):
    """What a school counts for the indicators of one programme year (docs/rules.md#indicators).

    ``year`` is the programme year: the calendar year its school year starts in (1 September).
    """

    __tablename__ = "denominators"
    __table_args__ = (
        UniqueConstraint("org_id", "year", name="uq_denominators_org_year"),
        CheckConstraint(
            "pupils_10_19 >= 0 AND pupils_15_19 >= 0 AND young_teachers >= 0 AND enterprises >= 0",
            name="not_negative",
        ),
        CheckConstraint("pupils_15_19 <= pupils_10_19", name="ages_nested"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    pupils_10_19: Mapped[int] = mapped_column(Integer, doc="Pupils aged 10 to 19.")
    pupils_15_19: Mapped[int] = mapped_column(Integer, doc="Pupils aged 15 to 19.")
    young_teachers: Mapped[int] = mapped_column(Integer, doc="Teachers in their first 3 years.")
    enterprises: Mapped[int] = mapped_column(Integer, doc="Enterprises of the school's territory.")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organisation] = relationship()


# --- hardening (issue 9): API tokens and the pages' server-side sessions ---


class ApiToken(Base):
    """A bearer token of a script, kept only as a keyed hash; it expires and can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebSession(Base):
    """A login to the pages: the cookie holds a random id, the database its keyed hash.

    It ends at logout (``revoked_at``), after ``idle`` minutes without a request or at
    ``expires_at`` (the absolute limit), whichever comes first.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


# -- branch monitoring2 (issue 13): curators appointed by an order ------------------------------


class CuratorAppointment(Base):
    """A school's curator of the mentoring programme, as the order appointing them names them
    (docs/rules.md#orders-more); on a given day the latest appointment is the curator.

    The municipal base of curators lists them (docs/rules.md#bases).
    """

    __tablename__ = "curator_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    post: Mapped[str] = mapped_column(String(300))
    order_number: Mapped[str] = mapped_column(String(50))
    appointed_on: Mapped[date] = mapped_column(Date, doc="The date of the order.")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- branch groups-service (issue 11): groups, their sizes, terms, external mentors ---------


class GroupStatus(enum.StrEnum):
    """The life of a group: active while it works, ended when its last member's pair ends."""

    active = "active"
    ended = "ended"


class MentorGroup(Base):
    """A mentor and the mentees they mentor in one form at one school (docs/rules.md#group).

    ``size_limit`` is the form's largest group at the school when the group was formed; the
    active members' places (``Pair.place``) may not exceed it. One active group per mentor,
    form and school.
    """

    __tablename__ = "mentor_groups"
    __table_args__ = (
        CheckConstraint(_in("status", GroupStatus), name="status"),
        CheckConstraint(f"size_limit BETWEEN 1 AND {MAX_GROUP_SIZE}", name="size_limit"),
        CheckConstraint("(status = 'active') = (ended_at IS NULL)", name="ended_at_iff_not_active"),
        UniqueConstraint("id", "size_limit", name="uq_mentor_groups_id_size"),
        Index(
            "uq_mentor_groups_active",
            "mentor_id",
            "form",
            "org_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    form: Mapped[str] = mapped_column(String(100))
    size_limit: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=GroupStatus.active.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    mentor: Mapped[Person] = relationship()
    org: Mapped[Organisation] = relationship()


class GroupLimit(Base):
    """A school's own largest group of a form (docs/rules.md#group); the default is in rules."""

    __tablename__ = "group_limits"
    __table_args__ = (
        UniqueConstraint("org_id", "form", name="uq_group_limits_form"),
        CheckConstraint(f"max_size BETWEEN 1 AND {MAX_GROUP_SIZE}", name="max_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    form: Mapped[str] = mapped_column(String(100))
    max_size: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PairChange(Base):
    """A change of a pair's term or form by mutual consent (docs/rules.md#term), with the reason."""

    __tablename__ = "pair_changes"
    __table_args__ = (CheckConstraint("kind IN ('term', 'form')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    old_value: Mapped[str | None] = mapped_column(String(100))
    new_value: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MentorService(Base):
    """A school an external mentor serves, in person or remotely (docs/rules.md#external-mentors)."""

    __tablename__ = "mentor_services"
    __table_args__ = (
        UniqueConstraint("mentor_id", "org_id", name="uq_mentor_services_school"),
        CheckConstraint("mode IN (" + ", ".join(repr(m) for m in SERVICE_MODES) + ")", name="mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentor: Mapped[Person] = relationship()
    org: Mapped[Organisation] = relationship()
