"""API routes of monitoring: feedback and surveys, the waiting list, the report, the order, the
audit log, a municipality's schools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.core.deps import ActorDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.schemas import errors
from service.core.security import organisation_for
from service.monitoring import feedback as responses
from service.monitoring import orders, reports, surveys
from service.monitoring.schemas import (
    AuditEventPublic,
    FeedbackCreate,
    FeedbackCreated,
    FeedbackPublic,
    OrderCreate,
    ReportPublic,
    SchoolSummary,
    SurveyPublic,
)
from service.people.schemas import WaitingPublic
from service.people.waiting import school_waiting

__all__ = ["document", "router"]

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


@router.post("/pairs/{pair_id}/feedback", status_code=201, responses=errors(403))
def feedback(
    pair_id: int, body: FeedbackCreate, session: WriteSessionDep, actor: ActorDep
) -> FeedbackCreated:
    """Store feedback or a satisfaction questionnaire (score 1-10) of one side of a pair."""
    item = responses.give_feedback(
        session, actor, pair_id, body.author, body.kind, body.score, body.answers, body.comment
    )
    return FeedbackCreated(feedback_id=item.id, pair_id=pair_id)


@router.get("/pairs/{pair_id}/feedback")
def list_feedback(pair_id: int, session: SessionDep, actor: ActorDep) -> list[FeedbackPublic]:
    """Feedback and satisfaction answers of one pair, oldest first."""
    return responses.responses(session, actor, pair_id)


@router.get("/surveys/satisfaction")
def satisfaction_survey() -> SurveyPublic:
    """The satisfaction questionnaire: items scored 1-10, open questions, "would you continue"."""
    return SurveyPublic(
        items=surveys.SATISFACTION_ITEMS,
        open_questions=surveys.OPEN_QUESTIONS,
        would_continue=surveys.CONTINUE[1],
    )


def document(order: orders.Order) -> Response:
    """The DOCX answer of an order."""
    return Response(
        order.content,
        media_type=orders.MEDIA_TYPE,
        headers={"Content-Disposition": order.content_disposition},
    )


@router.post(
    "/orgs/{org}/orders",
    response_class=Response,
    responses={200: {"content": {orders.MEDIA_TYPE: {}}, "description": "The order (DOCX)."}},
)
def make_order(
    org: str, body: OrderCreate, session: WriteSessionDep, actor: ActorDep, settings: SettingsDep
) -> Response:
    """The order fixing pairs (приказ о закреплении наставнических пар) as a DOCX document."""
    request = orders.OrderRequest(
        body.number, body.date, body.basis, body.end_date, body.pair_ids, body.head
    )
    return document(orders.make_order(session, actor, org, request, zone=settings.zone))


@router.get("/orgs/{org}/waiting")
def waiting(org: str, session: SessionDep, actor: ActorDep) -> list[WaitingPublic]:
    """Mentees waiting for a mentor, the longest wait first (docs/rules.md#thirty-days)."""
    return school_waiting(session, organisation_for(session, actor, org).id)


@router.get("/orgs/{org}/report")
def report(org: str, session: SessionDep, actor: ActorDep) -> ReportPublic:
    """Monitoring: people and pairs by form, coverage, mentor load, waiting, satisfaction."""
    return reports.report(session, actor, org)


@router.get("/orgs/{org}/audit")
def audit(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventPublic]:
    """Who changed what and when in this school, newest first (ids and statuses, no names)."""
    return reports.audit(session, actor, org, limit)


@router.get("/municipalities/{municipality}/schools", responses=errors(403))
def municipality(municipality: str, session: SessionDep, actor: ActorDep) -> list[SchoolSummary]:
    """Coordinators: the schools of a municipality with their counts."""
    return reports.municipality(session, actor, municipality)
