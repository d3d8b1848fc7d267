"""The start page: the schools a user may see (a curator goes straight to their school)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.accounts import accounts
from service.core.deps import ActorDep, SessionDep
from service.ui.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    """Start at the curator's pages."""
    return RedirectResponse("/ui", status_code=303)


@router.get("/ui")
def home(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """The schools the user may see (a curator goes straight to their school)."""
    orgs = accounts.organisations(session, actor)
    if len(orgs) == 1:
        return RedirectResponse(f"/ui/orgs/{orgs[0].code}", status_code=303)
    return render(request, "orgs.html", actor=actor, orgs=orgs)
