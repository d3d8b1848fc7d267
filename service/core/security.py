"""Users, tokens and scopes: who may see which organisation.

Tokens are random (256 bits) and shown once; the database keeps only an HMAC-SHA256 of each,
keyed by the server's secret, so a copy of the database does not let anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.core.errors import Denied, NotFound, Unauthorized
from service.core.models import Organisation, Role, User

__all__ = [
    "Actor",
    "actor_for_token",
    "hash_token",
    "new_token",
    "organisation_for",
    "visible_organisations",
]


def new_token() -> str:
    """Return a fresh random bearer token."""
    return secrets.token_urlsafe(32)


def hash_token(token: str, secret: str) -> str:
    """Return the keyed hash under which ``token`` is stored."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """The user behind a request, detached from any database session."""

    user_id: int | None
    login: str
    role: Role
    org_id: int | None = None
    municipality: str | None = None
    region: str | None = None

    @classmethod
    def from_user(cls, user: User) -> Actor:
        """Build the actor of a stored user."""
        return cls(
            user.id, user.login, Role(user.role), user.org_id, user.municipality, user.region
        )

    @classmethod
    def command_line(cls) -> Actor:
        """The operator at the server's command line (an admin)."""
        return cls(None, "cli", Role.admin)

    def sees(self, org: Organisation) -> bool:
        """Return whether this actor may see the organisation ``org``."""
        if self.role is Role.admin:
            return True
        if self.role is Role.region:
            return org.region is not None and org.region == self.region
        if self.role is Role.coordinator:
            return org.municipality is not None and org.municipality == self.municipality
        return org.id == self.org_id

    def require_municipality(self, municipality: str) -> None:
        """Raise unless the actor may run work over the whole ``municipality``.

        A regional operator passes here; the municipality's schools are then those of their own
        region only (``visible_organisations``), so another region's municipality is not found.
        """
        if self.role in (Role.admin, Role.region):
            return
        if self.role is Role.coordinator and self.municipality == municipality:
            return
        if self.role is Role.coordinator:
            raise NotFound("municipality", municipality)
        raise Denied("подбор по муниципалитету доступен координатору или администратору")

    def require_region(self, region: str) -> None:
        """Raise unless the actor may see the whole ``region`` (a regional operator or admin)."""
        if self.role is Role.admin:
            return
        if self.role is Role.region and self.region == region:
            return
        if self.role is Role.region:
            raise NotFound("region", region)
        raise Denied("показатели региона доступны региональному оператору или администратору")


def visible_organisations(actor: Actor) -> Select[Organisation]:
    """Return a query of the organisations ``actor`` may see."""
    query = select(Organisation).order_by(Organisation.code)
    if actor.role is Role.region:
        return query.where(Organisation.region == actor.region)
    if actor.role is Role.coordinator:
        return query.where(Organisation.municipality == actor.municipality)
    if actor.role is Role.curator:
        return query.where(Organisation.id == actor.org_id)
    return query


def organisation_for(session: Session, actor: Actor, code: str) -> Organisation:
    """Return the organisation with ``code`` if ``actor`` may see it, else raise NotFound."""
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None or not actor.sees(org):
        raise NotFound("organisation", code)
    return org


def actor_for_token(session: Session, secret: str, token: str | None) -> Actor:
    """Return the actor of a bearer token (or the pages' cookie), or raise Unauthorized."""
    if not token:
        raise Unauthorized()
    user = session.scalar(select(User).where(User.token_hash == hash_token(token, secret)))
    if user is None or not user.active:
        raise Unauthorized()
    return Actor.from_user(user)
