"""API routes of people: questionnaire imports, the people of a school, consents, capacity limits."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from service.core.deps import ActorDep, DbDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Invalid
from service.core.schemas import errors
from service.people import consents, people
from service.people.schemas import (
    ConsentCreate,
    ConsentPublic,
    ConsentStatus,
    ImportPublic,
    LimitPublic,
    LimitUpdate,
    MentorLoad,
    PersonPublic,
)

__all__ = ["MAX_UPLOAD_BYTES", "read_upload", "router"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["people"])


class ImportSide(StrEnum):
    """Whose questionnaires a file holds."""

    mentors = "mentors"
    mentees = "mentees"


class SideFilter(StrEnum):
    """One side of the people of a school."""

    mentor = "mentor"
    mentee = "mentee"


def read_upload(file: UploadFile, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read an uploaded file, refusing one larger than ``limit`` before reading all of it."""
    if file.size is not None and file.size > limit:
        raise Invalid(f"Файл больше {limit / 2**20:.1f} МБ: разделите выгрузку на части.")
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"Файл больше {limit / 2**20:.1f} МБ: разделите выгрузку на части.")
    return data


@router.post("/orgs/{org}/imports/{side}", status_code=201, responses=errors(409))
def import_file(
    org: str,
    side: ImportSide,
    db: DbDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="XLSX or CSV export of one questionnaire.")],
    settings: SettingsDep,
    spec: Annotated[str, Form(description="Questionnaire spec: 'teacher' or 'pupil'.")] = "teacher",
) -> ImportPublic:
    """Import a questionnaire file of mentors or mentees; all or nothing (422 lists every problem)."""
    data = read_upload(file, settings.upload_bytes)
    return people.import_answers(
        db,
        actor,
        org,
        side.value,
        data,
        file.filename,
        spec,
        settings.file_limits(),
        settings.people_per_school,
    )


@router.get("/orgs/{org}/people")
def list_people(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    side: Annotated[SideFilter | None, Query()] = None,
) -> list[PersonPublic]:
    """Mentors and mentees of a school (``side`` to list one of them)."""
    return people.people(session, actor, org, side.value if side else None)


@router.get("/orgs/{org}/people/{person_id}/consent")
def consent_status(org: str, person_id: int, session: SessionDep, actor: ActorDep) -> ConsentStatus:
    """A person's consents: which are asked, the current state of each, and every record."""
    return consents.status(session, actor, org, person_id)


@router.post("/orgs/{org}/people/{person_id}/consent")
def consent(
    org: str,
    person_id: int,
    body: ConsentCreate,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> ConsentPublic:
    """Record a consent given on paper, or its withdrawal (whose, and the date on the paper).

    A person left without consent is left out of new proposals and their open proposals are
    superseded; their active pairs are kept and listed in ``pairs_to_decide``.
    """
    return consents.record_consent(
        session, actor, org, person_id, body.given, body.kind, body.signed_on, settings.zone
    )


@router.get("/orgs/{org}/mentors/{mentor_id}/load")
def mentor_load(org: str, mentor_id: int, session: SessionDep, actor: ActorDep) -> MentorLoad:
    """A mentor's places and the active pairs taking them."""
    return people.mentor_load(session, actor, org, mentor_id)


@router.put("/orgs/{org}/mentors/{mentor_id}/capacity-limit")
def capacity_limit(
    org: str, mentor_id: int, body: LimitUpdate, session: WriteSessionDep, actor: ActorDep
) -> LimitPublic:
    """Lower the number of mentees a mentor may have (their workload); null clears the limit.

    A limit below the mentor's active pairs keeps them and gives no new places; a limit above
    what the mentor agreed to in the questionnaire is refused (422).
    """
    return people.set_capacity_limit(session, actor, org, mentor_id, body.capacity_limit)
