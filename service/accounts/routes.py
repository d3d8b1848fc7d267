"""API routes of schools."""

from __future__ import annotations

from fastapi import APIRouter

from service.accounts import accounts
from service.accounts.schemas import OrganisationPublic
from service.core.deps import ActorDep, SessionDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["organisations"])


@router.get("/orgs")
def list_orgs(session: SessionDep, actor: ActorDep) -> list[OrganisationPublic]:
    """Schools the user may see."""
    return [OrganisationPublic.model_validate(o) for o in accounts.organisations(session, actor)]
