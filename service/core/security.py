"""Users, passwords, tokens, sessions and scopes: who may see which organisation.

Curators log in to the pages with a login and a password (stored as an argon2id hash) and get a
server-side session (:class:`~service.core.models.WebSession`): the cookie holds a random id,
the database an HMAC of it, its anti-forgery token and its idle and absolute expiry; logout
revokes it. Scripts use API tokens (:class:`~service.core.models.ApiToken`): random (256 bits),
shown once, stored as an HMAC-SHA256 keyed by the server's secret (a copy of the database does
not let anyone in), with an expiry, and revocable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from service.core.errors import Denied, NotFound, Unauthorized
from service.core.models import ApiToken, Organisation, Role, User, WebSession, utcnow
from service.core.text import control_characters

__all__ = [
    "Actor",
    "PageSession",
    "actor_for_token",
    "authenticate",
    "close_web_session",
    "hash_password",
    "hash_token",
    "issue_token",
    "new_token",
    "open_web_session",
    "organisation_for",
    "page_session",
    "touch_web_session",
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
        if org.pending_import is not None:  # an import's hidden people (service.people.people)
            return False
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
    query = (
        select(Organisation)
        .where(Organisation.pending_import.is_(None))  # no one sees an import's hidden people
        .order_by(Organisation.code)
    )
    if actor.role is Role.region:
        return query.where(Organisation.region == actor.region)
    if actor.role is Role.coordinator:
        return query.where(Organisation.municipality == actor.municipality)
    if actor.role is Role.curator:
        return query.where(Organisation.id == actor.org_id)
    return query


def organisation_for(session: Session, actor: Actor, code: str) -> Organisation:
    """Return the organisation with ``code`` if ``actor`` may see it, else raise NotFound."""
    # Read once per session (a request): a page asks for its school three or four times.
    known: dict[str, Organisation] = session.info.setdefault("organisations", {})
    org = known.get(code)
    if org is None:
        org = session.scalar(select(Organisation).where(Organisation.code == code))
        if org is not None:
            known[code] = org
    if org is None or not actor.sees(org):
        raise NotFound("organisation", code)
    return org


def issue_token(session: Session, secret: str, user_id: int, days: int) -> str:
    """Store a new API token of the user, valid ``days`` days; return it (shown once)."""
    token = new_token()
    session.add(
        ApiToken(
            user_id=user_id,
            token_hash=hash_token(token, secret),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return token


def actor_for_token(session: Session, secret: str, token: str | None) -> Actor:
    """Return the actor of a bearer token, or raise Unauthorized (unknown, expired, revoked)."""
    if not token:
        raise Unauthorized()
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token, secret))
    ).first()
    if row is None:
        raise Unauthorized()
    user, stored = row
    if not user.active or stored.revoked_at is not None or stored.expires_at <= utcnow():
        raise Unauthorized()
    return Actor.from_user(user)


# --- passwords ---------------------------------------------------------------------------------

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
_DUMMY_HASH = _hasher.hash("not a password of anyone")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` to store."""
    return _hasher.hash(password)


def authenticate(session: Session, login: str, password: str) -> User | None:
    """Return the active user with this login and password, else None.

    An unknown login costs as much as a wrong password (a hash is checked either way), so the
    answer's time does not tell which logins exist.
    """
    # A login with a control character is no one's (and PostgreSQL refuses U+0000 in a text).
    user = (
        None
        if control_characters(login)
        else session.scalar(select(User).where(User.login == login))
    )
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    return user


# --- page sessions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageSession:
    """The login of the pages behind a request's cookie."""

    id: int
    actor: Actor
    csrf_token: str
    last_seen_at: datetime


def open_web_session(session: Session, secret: str, user_id: int, hours: int) -> tuple[str, str]:
    """Start a page session of the user; return (the cookie's value, its anti-forgery token)."""
    key = new_token()
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            user_id=user_id,
            key_hash=hash_token(key, secret),
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return key, csrf


def page_session(
    session: Session, secret: str, key: str | None, idle_minutes: int
) -> PageSession | None:
    """Return the live page session of the cookie ``key``, or None (unknown, ended, idle)."""
    if not key:
        return None
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.key_hash == hash_token(key, secret))
    ).first()
    if row is None:
        return None
    user, stored = row
    now = utcnow()
    if (
        not user.active
        or stored.revoked_at is not None
        or stored.expires_at <= now
        or stored.last_seen_at + timedelta(minutes=idle_minutes) <= now
    ):
        return None
    return PageSession(stored.id, Actor.from_user(user), stored.csrf_token, stored.last_seen_at)


def touch_web_session(session: Session, session_id: int) -> None:
    """Record that the page session was used now (its idle time starts again)."""
    session.execute(
        update(WebSession).where(WebSession.id == session_id).values(last_seen_at=utcnow())
    )


def close_web_session(session: Session, secret: str, key: str | None) -> None:
    """Revoke the page session of the cookie ``key`` (logout); nothing when there is none."""
    if not key:
        return
    session.execute(
        update(WebSession)
        .where(WebSession.key_hash == hash_token(key, secret), WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
