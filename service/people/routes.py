"""API routes of people: questionnaire imports, the people of a school, consents, capacity limits."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile

from features.numbers import size
from service.core.deps import ActorDep, DbDep, ListDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Invalid
from service.core.listing import Page
from service.core.schemas import errors
from service.core.security import organisation_for
from service.people import consents, editing, people
from service.people.schemas import (
    ConsentCreate,
    ConsentPublic,
    ConsentStatus,
    ImportPublic,
    LimitPublic,
    LimitUpdate,
    MentorLoad,
    PersonAnswers,
    PersonEdit,
    PersonPublic,
    PersonRemoved,
    WaitingPublic,
)
from service.people.waiting import waiting_page

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
        raise Invalid(f"Файл больше {size(limit)}: разделите выгрузку на части.")
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"Файл больше {size(limit)}: разделите выгрузку на части.")
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


YesNo = Literal["yes", "no"]


@router.get("/orgs/{org}/people/paged", responses=errors(422))
def page_people(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    params: ListDep,
    side: Annotated[SideFilter | None, Query()] = None,
    consent: Annotated[YesNo | None, Query(description="All consents recorded, or not.")] = None,
    pair: Annotated[YesNo | None, Query(description="Has an active pair, or not.")] = None,
    form: Annotated[str | None, Query(description="Questionnaire spec: teacher, pupil.")] = None,
    archived: Annotated[YesNo | None, Query(description="Left the programme, or not.")] = None,
    grade: Annotated[
        str | None, Query(description="Pupils of this class (a number, 1 to 11).")
    ] = None,
    subject: Annotated[
        str | None, Query(description="Teaches, or asks or offers help in, this subject (a key).")
    ] = None,
) -> Page[PersonPublic]:
    """One page of a school's people: search by name (`q`), filters, sort `name` or `entered`."""
    chosen = {
        "side": side.value if side else None,
        "consent": consent,
        "pair": pair,
        "form": form,
        "archived": archived,
        "grade": grade,
        "subject": subject,
    }
    filters = {k: v for k, v in chosen.items() if v}
    return people.people_page(session, actor, org, replace(params, filters=filters))


@router.get("/orgs/{org}/waiting/paged", responses=errors(422))
def page_waiting(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    params: ListDep,
    overdue: Annotated[YesNo | None, Query(description="Waiting past 30 days, or not.")] = None,
    grade: Annotated[
        str | None, Query(description="Mentees of this class (a number, 1 to 11).")
    ] = None,
    subject: Annotated[
        str | None, Query(description="Mentees asking for help in this subject (a key).")
    ] = None,
) -> Page[WaitingPublic]:
    """One page of a school's waiting mentees: search by name, sort `days` (longest first) or
    `name`."""
    organisation = organisation_for(session, actor, org)
    chosen = {"overdue": overdue, "grade": grade, "subject": subject}
    filters = {k: v for k, v in chosen.items() if v}
    return waiting_page(session, organisation.id, replace(params, filters=filters))


@router.post("/orgs/{org}/people/{person_id}/archive", responses=errors(409))
def archive_person(
    org: str, person_id: int, session: WriteSessionDep, actor: ActorDep
) -> PersonPublic:
    """The person leaves the programme: history kept, out of runs and the waiting list, open
    proposals superseded (409 while the person has an active pair)."""
    return people.archive(session, actor, org, person_id)


@router.delete("/orgs/{org}/people/{person_id}", responses=errors(409))
def remove_person(
    org: str, person_id: int, session: WriteSessionDep, actor: ActorDep
) -> PersonRemoved:
    """Remove a wrongly imported person (answers, consents, proposals); 409 for a person who was
    ever in a pair (archive them instead)."""
    return people.remove(session, actor, org, person_id)


def _version(body: int | None, if_match: str | None) -> int:
    """The version a correction was made from: the body's, else the If-Match header's."""
    if body is not None:
        return body
    raw = (if_match or "").strip().removeprefix("W/").strip('"')
    if raw.isdigit():
        return int(raw)
    raise Invalid(
        "Укажите версию анкеты, с которой сделано изменение: поле version или заголовок If-Match "
        "(её даёт GET .../answers, заголовок ETag).",
        [{"row": None, "column": "version", "value": if_match,
          "message": "нужна версия анкеты (целое число)"}],
    )  # fmt: skip


@router.get("/orgs/{org}/people/{person_id}/answers")
def person_answers(
    org: str, person_id: int, session: SessionDep, actor: ActorDep, response: Response
) -> PersonAnswers:
    """A person's current answers and the questions a curator may correct; the ETag header is
    the version to send back with a correction."""
    found = editing.answers_of(session, actor, org, person_id)
    response.headers["ETag"] = f'"{found.version}"'
    return found


@router.patch("/orgs/{org}/people/{person_id}/answers", responses=errors(409))
def correct_answers(
    org: str,
    person_id: int,
    body: PersonEdit,
    session: WriteSessionDep,
    actor: ActorDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The version (ETag) corrected.")] = None,
) -> PersonAnswers:
    """Correct a person's answers (name, contacts, class or subjects, role, meeting format...):
    a new version, validated as an import is (422 names every question at fault), audited.
    409 ``edited_meanwhile`` when someone stored a newer version since ``version``."""
    found = editing.correct(
        session, actor, org, person_id, body.answers, _version(body.version, if_match)
    )
    response.headers["ETag"] = f'"{found.version}"'
    return found


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
