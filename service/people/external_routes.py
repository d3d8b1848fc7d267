"""API routes of external mentors: a municipality's pool, the schools each serves and how."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.core.deps import ActorDep, SessionDep, WriteSessionDep
from service.core.schemas import errors
from service.people import external
from service.people.schemas import (
    ExternalMentorPublic,
    ExternalOrgCreate,
    ExternalOrgPublic,
    ServeSet,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["external mentors"])


@router.get("/municipalities/{municipality}/external-mentors", responses=errors(403))
def pool(municipality: str, session: SessionDep, actor: ActorDep) -> list[ExternalMentorPublic]:
    """The municipality's pool: mentors of its colleges and enterprises, with the schools each
    serves (in person or remotely)."""
    return external.external_mentors(session, actor, municipality=municipality)


@router.post(
    "/municipalities/{municipality}/organisations",
    status_code=201,
    responses=errors(403, 409, 422),
)
def add_organisation(
    municipality: str, body: ExternalOrgCreate, session: WriteSessionDep, actor: ActorDep
) -> ExternalOrgPublic:
    """Add a college or an enterprise whose mentors serve the municipality's schools (import
    its mentors with `POST /orgs/{code}/imports/mentors`)."""
    return external.add_external_organisation(
        session, actor, municipality, body.code, body.name, body.kind
    )


@router.get("/orgs/{org}/external-mentors")
def school_external(org: str, session: SessionDep, actor: ActorDep) -> list[ExternalMentorPublic]:
    """The external mentors serving a school; the school's runs and suggestions take them."""
    return external.external_mentors(session, actor, org=org)


@router.put("/orgs/{org}/external-mentors/{mentor_id}", responses=errors(422))
def serve(
    org: str, mentor_id: int, body: ServeSet, session: WriteSessionDep, actor: ActorDep
) -> ExternalMentorPublic:
    """Record that an external mentor serves the school, in person or remotely."""
    return external.serve(session, actor, mentor_id, org, body.mode)


@router.delete("/orgs/{org}/external-mentors/{mentor_id}", status_code=204)
def stop_serving(org: str, mentor_id: int, session: WriteSessionDep, actor: ActorDep) -> Response:
    """The external mentor no longer serves the school (their pairs there go on)."""
    external.stop_serving(session, actor, mentor_id, org)
    return Response(status_code=204)
