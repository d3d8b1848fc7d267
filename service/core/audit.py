"""The audit log: every change is recorded in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.core.models import AuditEvent
from service.core.security import Actor

__all__ = ["record"]


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    org_id: int | None = None,
    **detail: Any,
) -> None:
    """Add an audit event; ``detail`` must hold ids, counts and statuses only, never personal data."""
    session.add(
        AuditEvent(
            user_id=actor.user_id,
            actor=actor.login,
            action=action,
            entity=entity,
            entity_id=entity_id,
            org_id=org_id,
            detail=detail,
        )
    )
