"""API routes of matching: suggestions for one mentee, runs for a school or a municipality,
proposals."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Query

from service.core.config import Settings
from service.core.deps import (
    ActorDep,
    DbDep,
    ListDep,
    SessionDep,
    SettingsDep,
    SolverDep,
    WriteSessionDep,
)
from service.core.listing import Page
from service.core.schemas import errors
from service.runs import region as regions
from service.runs import runs
from service.runs.schemas import (
    ProposalCreate,
    ProposalPublic,
    ProposalStatusName,
    RunCreate,
    RunPublic,
    RunResultPublic,
    SuggestionPublic,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["matching"])


def options(body: RunCreate | None, settings: Settings) -> runs.RunOptions:
    """The options of a run: the body's, with the server's minimum score by default."""
    body = body or RunCreate()
    min_score = settings.min_score if body.min_score is None else body.min_score
    return runs.RunOptions(
        objective=body.objective, min_score=min_score, max_pairs=settings.pairs_per_run
    )


@router.get("/orgs/{org}/mentees/{mentee_id}/suggestions", responses=errors(409))
def suggest(
    org: str,
    mentee_id: int,
    session: SessionDep,
    actor: ActorDep,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[SuggestionPublic]:
    """Mentors who could take this mentee, best first, with reasons (409 without consent)."""
    return runs.suggestions(session, actor, org, mentee_id, k)


@router.post("/orgs/{org}/matching-runs", status_code=201)
def run_school(
    org: str,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
    body: Annotated[RunCreate | None, Body()] = None,
) -> RunPublic:
    """Propose pairs for every mentee of the school who has none (confirmed pairs are kept)."""
    return runs.run_matching(db, solver, actor, options(body, settings), org=org)


@router.post(
    "/municipalities/{municipality}/matching-runs", status_code=201, responses=errors(403, 409)
)
def run_municipality(
    municipality: str,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
    body: Annotated[RunCreate | None, Body()] = None,
) -> RunPublic:
    """Coordinators: one batch over all schools of a municipality (virtual pairs may cross)."""
    return runs.run_matching(db, solver, actor, options(body, settings), municipality=municipality)


@router.post("/regions/{region}/matching-runs", status_code=201, responses=errors(403))
def run_region(
    region: str,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
    body: Annotated[RunCreate | None, Body()] = None,
) -> RunPublic:
    """Regional operators: one batch over all schools of a region, municipality by municipality
    and then across them (virtual pairs), block by block on Dask when it is configured."""
    return regions.run_region(db, solver, actor, options(body, settings), region)


@router.get("/matching-runs/{run_id}")
def run_result(run_id: int, session: SessionDep, actor: ActorDep) -> RunResultPublic:
    """A run's result: the mentees left without a pair, with the reason for each (no consent,
    no mentor allowed, places taken by better pairs, ...), and the mentors left with free places."""
    return runs.run_result(session, actor, run_id)


@router.get("/orgs/{org}/proposals")
def list_proposals(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[ProposalStatusName | None, Query()] = "open",
) -> list[ProposalPublic]:
    """Proposals of a school (open ones by default), best first."""
    return runs.proposals(session, actor, org, status)


@router.get("/orgs/{org}/proposals/paged", responses=errors(422))
def page_proposals(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    params: ListDep,
    status: Annotated[ProposalStatusName | None, Query()] = None,
    form: Annotated[str | None, Query(description="Key of the form of mentoring.")] = None,
    run: Annotated[int | None, Query(description="Proposals of one matching run.")] = None,
    grade: Annotated[
        str | None, Query(description="Mentees of this class (a number, 1 to 11).")
    ] = None,
    subject: Annotated[
        str | None,
        Query(description="Asked by the mentee or offered by the mentor (a subject key)."),
    ] = None,
) -> Page[ProposalPublic]:
    """One page of a school's proposals: search by either name (`q`), filters, sort `score`
    (`-score`, the default: best first), `mentee`, `mentor` or `created`."""
    chosen = {
        "status": status,
        "form": form,
        "run": None if run is None else str(run),
        "grade": grade,
        "subject": subject,
    }
    filters = {k: v for k, v in chosen.items() if v}
    return runs.proposals_page(session, actor, org, replace(params, filters=filters))


@router.post("/orgs/{org}/proposals", status_code=201, responses=errors(409))
def make_proposal(
    org: str, body: ProposalCreate, session: WriteSessionDep, actor: ActorDep
) -> ProposalPublic:
    """Propose a pair the curator chose (for instance from the suggestions)."""
    return runs.propose(session, actor, org, body.mentee_id, body.mentor_id)
