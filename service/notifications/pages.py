"""The curator's outbox page: every message of the school, its state, and sending now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.core.deps import ActorDep, DbDep, SessionDep, SettingsDep
from service.core.security import organisation_for
from service.notifications import outbox
from service.ui.rendering import back, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

STATUS = {"queued": "в очереди", "sent": "отправлено", "failed": "не отправлено",
          "shown": "почта не настроена: только здесь"}  # fmt: skip


@router.get("/ui/orgs/{org}/outbox")
def outbox_page(
    request: Request, org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> HTMLResponse:
    """The school's messages, newest first (their full text when no mail server is set)."""
    return render(
        request, "outbox.html", actor=actor, org=org, states=STATUS,
        messages=outbox.messages(session, actor, org), mail=settings.smtp_host is not None,
    )  # fmt: skip


@router.post("/ui/orgs/{org}/outbox/deliver")
def deliver(org: str, db: DbDep, actor: ActorDep, settings: SettingsDep) -> Response:
    """Send the due messages now."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
    done = outbox.deliver(db, settings, organisation.id)
    return back(
        f"/ui/orgs/{org}/outbox",
        f"Отправлено: {done.sent}; повторим позже: {done.retried}; не отправлено: {done.failed}; "
        f"без почты (только на этой странице): {done.shown}.",
    )
