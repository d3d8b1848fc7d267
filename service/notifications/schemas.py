"""The API's shapes of the outbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["DeliveryPublic", "MessagePublic"]


class MessagePublic(BaseModel):
    """One outgoing message and what became of it."""

    message_id: int
    kind: str
    person_id: int | None
    to_address: str | None
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPublic(BaseModel):
    """What one delivery round did."""

    sent: int
    retried: int
    failed: int
    shown: int
