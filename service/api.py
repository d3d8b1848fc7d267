"""The HTTP API (``/api/v1``): thin routes over the workflow modules.

Routes are plain functions, so FastAPI runs them in its thread pool, never on the event loop;
a matching run additionally hands the solver its own pool (see ``service.solving``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from service import consents, listing, orders, pairs, people, reports, runs, surveys
from service.config import Settings
from service.db import Database
from service.errors import Conflict, Denied, Invalid, NotFound, ServiceError, Unauthorized
from service.models import User
from service.schemas import (
    ConsentIn,
    ConsentOut,
    EndIn,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    ImportOut,
    LimitIn,
    OrderIn,
    PairOut,
    PersonOut,
    ProposalIn,
    ProposalOut,
    ReplaceIn,
    RunIn,
    RunOut,
    SuggestionOut,
)
from service.security import Actor, hash_token
from service.solving import Solver

__all__ = [
    "COOKIE",
    "ActorDep",
    "DbDep",
    "actor_for_token",
    "install_error_handlers",
    "router",
    "status_of",
]

COOKIE = "nastavnik_token"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Unauthorized: 401, Denied: 403}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)
}


def get_db(request: Request) -> Database:
    """The application's database."""
    return request.app.state.db


def get_settings_dep(request: Request) -> Settings:
    """The application's settings."""
    return request.app.state.settings


def get_solver(request: Request) -> Solver:
    """The application's solver pool."""
    return request.app.state.solver


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SolverDep = Annotated[Solver, Depends(get_solver)]
_bearer = HTTPBearer(auto_error=False, description="The token printed by `nastavnik users add`.")


def actor_for_token(db: Database, settings: Settings, token: str | None) -> Actor:
    """Return the actor of a token, or raise Unauthorized."""
    if not token:
        raise Unauthorized()
    with db.read() as session:
        user = session.scalar(
            select(User).where(User.token_hash == hash_token(token, settings.secret_key))
        )
        if user is None or not user.active:
            raise Unauthorized()
        return Actor.from_user(user)


def current_actor(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user of the request: a bearer token, or the cookie of the web pages."""
    token = credentials.credentials if credentials else request.cookies.get(COOKIE)
    return actor_for_token(db, settings, token)


ActorDep = Annotated[Actor, Depends(current_actor)]

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.get("/orgs", tags=["organisations"])
def list_orgs(db: DbDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Schools the user may see."""
    return listing.organisations(db, actor)


@router.post("/orgs/{org}/imports/{side}", status_code=201, tags=["people"])
def import_file(
    org: str,
    side: str,
    db: DbDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="XLSX or CSV export of one questionnaire.")],
    spec: Annotated[str, Form(description="Questionnaire spec: 'teacher' or 'pupil'.")] = "teacher",
) -> ImportOut:
    """Import a questionnaire file (``side`` = ``mentors`` or ``mentees``); all or nothing."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(f"Файл больше {MAX_UPLOAD_BYTES // 1024 // 1024} МБ.")
    result = people.import_answers(db, actor, org, side, data, file.filename, spec)
    return ImportOut(**asdict(result))


@router.get("/orgs/{org}/people", tags=["people"])
def list_people(
    org: str, db: DbDep, actor: ActorDep, side: Annotated[str | None, Query()] = None
) -> list[PersonOut]:
    """Mentors and mentees of a school (``side`` = ``mentor`` or ``mentee`` to filter)."""
    return [PersonOut(**row) for row in listing.people(db, actor, org, side)]


@router.post("/orgs/{org}/people/{person_id}/consent", tags=["people"])
def consent(
    org: str, person_id: int, body: ConsentIn, db: DbDep, actor: ActorDep, settings: SettingsDep
) -> ConsentOut:
    """Record a consent given on paper, or its withdrawal (whose, and the date on the paper).

    A person left without consent is left out of new proposals and their open proposals are
    superseded; their active pairs are kept and listed in ``pairs_to_decide``.
    """
    result = consents.record_consent(
        db, actor, org, person_id, body.given, body.kind, body.signed_on, settings.zone
    )
    return ConsentOut(**asdict(result))


@router.put("/orgs/{org}/mentors/{mentor_id}/capacity-limit", tags=["people"])
def capacity_limit(
    org: str, mentor_id: int, body: LimitIn, db: DbDep, actor: ActorDep
) -> dict[str, Any]:
    """Lower the number of mentees a mentor may have (their workload); null clears the limit.

    A limit below the mentor's active pairs keeps them and gives no new places; a limit above
    what the mentor agreed to in the questionnaire is refused (422).
    """
    return asdict(people.set_capacity_limit(db, actor, org, mentor_id, body.capacity_limit))


@router.get("/orgs/{org}/mentees/{mentee_id}/suggestions", tags=["matching"])
def suggest(
    org: str,
    mentee_id: int,
    db: DbDep,
    actor: ActorDep,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[SuggestionOut]:
    """Mentors who could take this mentee, best first, with reasons."""
    return [
        SuggestionOut(mentor_id=m, score=s, reasons=r)
        for m, s, r in runs.suggestions(db, actor, org, mentee_id, k)
    ]


def _run_out(result: runs.RunResult) -> RunOut:
    return RunOut(
        run_id=result.run_id,
        proposals=[ProposalOut(**asdict(p), run_id=result.run_id) for p in result.proposals],
        unmatched=result.unmatched,
        kept=result.kept,
        without_consent=result.without_consent,
        seconds=result.seconds,
    )


def _options(body: RunIn | None, settings: Settings) -> runs.RunOptions:
    body = body or RunIn()
    min_score = settings.min_score if body.min_score is None else body.min_score
    return runs.RunOptions(objective=body.objective, min_score=min_score)


@router.post("/orgs/{org}/matching-runs", status_code=201, tags=["matching"])
def run_school(
    org: str,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
    body: Annotated[RunIn | None, Body()] = None,
) -> RunOut:
    """Propose pairs for every mentee of the school who has none (confirmed pairs are kept)."""
    return _run_out(runs.run_matching(db, solver, actor, _options(body, settings), org=org))


@router.post("/municipalities/{municipality}/matching-runs", status_code=201, tags=["matching"])
def run_municipality(
    municipality: str,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
    body: Annotated[RunIn | None, Body()] = None,
) -> RunOut:
    """Coordinators: one batch over all schools of a municipality (virtual pairs may cross)."""
    options = _options(body, settings)
    return _run_out(runs.run_matching(db, solver, actor, options, municipality=municipality))


@router.get("/orgs/{org}/proposals", tags=["matching"])
def list_proposals(
    org: str, db: DbDep, actor: ActorDep, status: Annotated[str | None, Query()] = "open"
) -> list[ProposalOut]:
    """Proposals of a school (open ones by default), best first."""
    return [
        ProposalOut(
            proposal_id=p.proposal_id,
            mentee_id=p.mentee_id,
            mentor_id=p.mentor_id,
            score=p.score,
            reasons=p.reasons,
            form=p.form,
            status=p.status,
            run_id=p.run_id,
        )
        for p in listing.proposals(db, actor, org, status)
    ]


@router.post("/orgs/{org}/proposals", status_code=201, tags=["matching"])
def make_proposal(org: str, body: ProposalIn, db: DbDep, actor: ActorDep) -> ProposalOut:
    """Propose a pair the curator chose (for instance from the suggestions)."""
    p = runs.propose(db, actor, org, body.mentee_id, body.mentor_id)
    return ProposalOut(**asdict(p))


@router.post("/proposals/{proposal_id}/confirm", status_code=201, tags=["pairs"])
def confirm(proposal_id: int, db: DbDep, actor: ActorDep) -> PairOut:
    """Confirm a proposal: the pair becomes active (409 when the mentor is full)."""
    return PairOut(**asdict(pairs.confirm(db, actor, proposal_id)))


@router.post("/proposals/{proposal_id}/reject", tags=["pairs"])
def reject(proposal_id: int, db: DbDep, actor: ActorDep) -> dict[str, Any]:
    """Reject a proposal: this pair will not be proposed again."""
    pairs.reject(db, actor, proposal_id)
    return {"proposal_id": proposal_id, "status": "rejected"}


@router.get("/orgs/{org}/pairs", tags=["pairs"])
def list_pairs(
    org: str, db: DbDep, actor: ActorDep, status: Annotated[str | None, Query()] = None
) -> list[PairOut]:
    """Pairs of a school: its mentees' pairs and its mentors' pairs."""
    return [PairOut(**asdict(view)) for view, _, _ in listing.pairs(db, actor, org, status)]


@router.get("/pairs/{pair_id}", tags=["pairs"])
def get_pair(pair_id: int, db: DbDep, actor: ActorDep) -> PairOut:
    """One pair."""
    return PairOut(**asdict(listing.get_pair(db, actor, pair_id)))


@router.get("/end-reasons", tags=["pairs"])
def end_reasons() -> dict[str, str]:
    """Reasons for ending a pair or replacing a mentor (regulation 000 §3.8), in Russian."""
    return pairs.END_REASONS


@router.post("/pairs/{pair_id}/end", tags=["pairs"])
def end(pair_id: int, body: EndIn, db: DbDep, actor: ActorDep) -> PairOut:
    """End an active pair with a reason (``completed`` when the programme is done)."""
    return PairOut(**asdict(pairs.end_pair(db, actor, pair_id, body.reason)))


@router.post("/pairs/{pair_id}/replace-mentor", status_code=201, tags=["pairs"])
def replace_mentor(pair_id: int, body: ReplaceIn, db: DbDep, actor: ActorDep) -> PairOut:
    """End the pair with a reason and give the mentee another mentor; returns the new pair."""
    view = pairs.replace_mentor(db, actor, pair_id, body.mentor_id, body.reason)
    return PairOut(**asdict(view))


@router.post("/pairs/{pair_id}/feedback", status_code=201, tags=["pairs"])
def feedback(pair_id: int, body: FeedbackIn, db: DbDep, actor: ActorDep) -> dict[str, Any]:
    """Store feedback or a satisfaction questionnaire (score 1-10) of one side of a pair."""
    item = pairs.give_feedback(
        db, actor, pair_id, body.author, body.kind, body.score, body.answers, body.comment
    )
    return {"feedback_id": item, "pair_id": pair_id}


@router.get("/pairs/{pair_id}/feedback", tags=["pairs"])
def list_feedback(pair_id: int, db: DbDep, actor: ActorDep) -> list[FeedbackOut]:
    """Feedback and satisfaction answers of one pair, oldest first."""
    return [FeedbackOut(**row) for row in listing.feedback(db, actor, pair_id)]


@router.get("/surveys/satisfaction", tags=["pairs"])
def satisfaction_survey() -> dict[str, Any]:
    """The satisfaction questionnaire: items scored 1-10, open questions, "would you continue"."""
    return {
        "items": surveys.SATISFACTION_ITEMS,
        "open_questions": surveys.OPEN_QUESTIONS,
        "would_continue": surveys.CONTINUE[1],
    }


@router.post(
    "/orgs/{org}/orders",
    tags=["pairs"],
    response_class=Response,
    responses={200: {"content": {orders.MEDIA_TYPE: {}}, "description": "The order (DOCX)."}},
)
def make_order(
    org: str, body: OrderIn, db: DbDep, actor: ActorDep, settings: SettingsDep
) -> Response:
    """The order fixing pairs (приказ о закреплении наставнических пар) as a DOCX document."""
    order = orders.make_order(
        db,
        actor,
        org,
        orders.OrderRequest(
            body.number, body.date, body.basis, body.end_date, body.pair_ids, body.head
        ),
        zone=settings.zone,
    )
    return _document(order)


def _document(order: orders.Order) -> Response:
    return Response(
        order.content,
        media_type=orders.MEDIA_TYPE,
        headers={"Content-Disposition": order.content_disposition},
    )


@router.get("/orgs/{org}/waiting", tags=["monitoring"])
def waiting(org: str, db: DbDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Mentees waiting for a mentor, the longest wait first (30 days at most, 000 §3.7)."""
    return [
        {"mentee_id": w.mentee_id, "since": w.since, "days": w.days, "overdue": w.overdue}
        for w in reports.waiting_mentees(db, actor, org)
    ]


@router.get("/orgs/{org}/report", tags=["monitoring"])
def report(org: str, db: DbDep, actor: ActorDep) -> dict[str, Any]:
    """Monitoring: people and pairs by form, coverage, mentor load, waiting, satisfaction."""
    return reports.report(db, actor, org)


@router.get("/orgs/{org}/audit", tags=["monitoring"])
def audit(
    org: str, db: DbDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Who changed what and when in this school, newest first (ids and statuses, no names)."""
    return listing.audit(db, actor, org, limit)


def status_of(exc: ServiceError) -> int:
    """The HTTP status code of a domain error."""
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)


def _error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = status_of(exc)
    body = {"code": exc.code, "detail": exc.message, **exc.extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map the domain errors to HTTP answers, in one place."""
    app.add_exception_handler(ServiceError, _error_response)
