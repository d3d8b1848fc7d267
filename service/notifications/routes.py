"""API of the outbox: what was queued and sent, and a delivery round on demand."""

from __future__ import annotations

from fastapi import APIRouter

from service.core.deps import ActorDep, DbDep, SessionDep, SettingsDep
from service.core.security import organisation_for
from service.notifications import outbox
from service.notifications.schemas import DeliveryPublic, MessagePublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/orgs/{org}/outbox")
def messages(
    org: str, session: SessionDep, actor: ActorDep, person_id: int | None = None
) -> list[MessagePublic]:
    """The school's messages (of one person), newest first, with what became of each."""
    return outbox.messages(session, actor, org, person_id)


@router.post("/orgs/{org}/outbox/deliver")
def deliver(org: str, db: DbDep, actor: ActorDep, settings: SettingsDep) -> DeliveryPublic:
    """Send the school's due messages now (over SMTP; without a mail server, mark them shown)."""
    with db.read() as session:
        organisation = organisation_for(session, actor, org)
    return outbox.deliver(db, settings, organisation.id)
