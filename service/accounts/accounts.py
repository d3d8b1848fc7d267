"""Organisations and users: created by an administrator at the server's command line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, Invalid, NotFound
from service.core.models import ApiToken, Organisation, Role, User, WebSession, utcnow
from service.core.rules import ORG_KINDS
from service.core.security import (
    MIN_PASSWORD,
    Actor,
    hash_password,
    issue_token,
    visible_organisations,
)

__all__ = [
    "TokenRow",
    "UserRow",
    "add_organisation",
    "add_token",
    "add_user",
    "organisations",
    "revoke",
    "set_password",
    "users",
]

DEFAULT_TOKEN_DAYS = 365

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def add_organisation(
    session: Session,
    code: str,
    name: str,
    municipality: str | None = None,
    region: str | None = None,
    kind: str = "school",
) -> int:
    """Create a school (or, by ``kind``, a college or an enterprise whose mentors serve schools,
    docs/rules.md#external-mentors); return its id.

    Raises
    ------
    Invalid
        When ``code`` is not 1-64 Latin letters, digits, ``_``, ``.`` or ``-`` (it is part of URLs).
    Conflict
        When a school with this code already exists.
    """
    if not _CODE.match(code):
        raise Invalid(
            f"Код организации {code!r} должен состоять из латинских букв, цифр, '_', '.' или '-' "
            "(не более 64 символов)."
        )
    if not name.strip():
        raise Invalid("Название организации не может быть пустым.")
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise Conflict("org_exists", f"Организация с кодом {code!r} уже есть.")
    if kind not in ORG_KINDS:
        raise Invalid(f"Вид организации {kind!r} неизвестен; допустимы: {', '.join(ORG_KINDS)}.")
    org = Organisation(
        code=code, name=name.strip(), municipality=municipality or None, region=region or None,
        kind=kind,
    )  # fmt: skip
    session.add(org)
    session.flush()
    record(session, Actor.command_line(), "create", "organisation", org.id, org.id)
    return org.id


def add_user(
    session: Session,
    secret: str,
    login: str,
    role: str,
    org_code: str | None = None,
    municipality: str | None = None,
    region: str | None = None,
    *,
    password: str | None = None,
    token_days: int = DEFAULT_TOKEN_DAYS,
) -> str:
    """Create a user and return their first API token (it is stored only as a hash).

    A curator needs ``org_code``; a coordinator needs a municipality, taken from ``municipality``
    or from the municipality of ``org_code``. The pages need a ``password`` (set now or later
    with :func:`set_password`); the token works for ``token_days`` days.
    """
    try:
        user_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"Роль {role!r} неизвестна; допустимы: {allowed}.") from None
    if not login.strip():
        raise Invalid("Логин не может быть пустым.")
    org = None
    if org_code is not None:
        org = session.scalar(
            select(Organisation).where(
                Organisation.code == org_code, Organisation.pending_import.is_(None)
            )
        )
        if org is None:
            raise NotFound("organisation", org_code)
    if user_role is Role.curator and org is None:
        raise Invalid("Куратору нужна организация: укажите --org КОД.")
    if user_role is Role.coordinator:
        municipality = municipality or (org.municipality if org else None)
        if not municipality:
            raise Invalid("Координатору нужен муниципалитет: укажите --municipality или --org.")
    if user_role is Role.region:
        region = region or (org.region if org else None)
        if not region:
            raise Invalid("Региональному оператору нужен регион: укажите --region или --org.")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Conflict("user_exists", f"Пользователь {login!r} уже есть.")
    user = User(
        login=login,
        role=user_role.value,
        org_id=org.id if org and user_role is Role.curator else None,
        municipality=municipality if user_role is Role.coordinator else None,
        region=region if user_role is Role.region else None,
        password_hash=_checked_hash(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    record(session, Actor.command_line(), "create", "user", user.id, user.org_id, role=user.role)
    return issue_token(session, secret, user.id, token_days)


def _checked_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"Пароль слишком короткий: нужно не меньше {MIN_PASSWORD} символов.")
    if len(password) > 1000:
        raise Invalid("Пароль слишком длинный: не больше 1000 символов.")
    return hash_password(password)


def _user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise Invalid(f"Пользователя {login!r} нет.")
    return user


def set_password(session: Session, login: str, password: str) -> None:
    """Set the user's password for the pages; their open page sessions end."""
    user = _user(session, login)
    user.password_hash = _checked_hash(password)
    _end_sessions(session, user.id)
    record(session, Actor.command_line(), "password", "user", user.id, user.org_id)


def add_token(session: Session, secret: str, login: str, days: int = DEFAULT_TOKEN_DAYS) -> str:
    """Issue one more API token to the user (for a script); return it (shown once)."""
    if not 1 <= days <= 3650:
        raise Invalid("Срок токена — от 1 до 3650 дней.")
    user = _user(session, login)
    token = issue_token(session, secret, user.id, days)
    record(session, Actor.command_line(), "create", "token", user.id, user.org_id, days=days)
    return token


def _end_sessions(session: Session, user_id: int) -> int:
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke(session: Session, login: str, token_id: int | None = None) -> int:
    """Revoke one API token of the user (``token_id``), or all their tokens and page sessions.

    Returns how many tokens and sessions were revoked.
    """
    user = _user(session, login)
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    count = int(session.execute(query.values(revoked_at=utcnow())).rowcount or 0)  # type: ignore[attr-defined]
    if token_id is None:
        count += _end_sessions(session, user.id)
    elif count == 0:
        raise Invalid(f"У пользователя {login!r} нет действующего токена № {token_id}.")
    record(session, Actor.command_line(), "revoke", "user", user.id, user.org_id, token=token_id)
    return count


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One API token as ``nastavnik users list`` shows it (never the token itself)."""

    id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user, their scope, whether they have a password, their tokens and live sessions."""

    login: str
    role: str
    scope: str
    has_password: bool
    active: bool
    tokens: list[TokenRow]
    sessions: int


def users(session: Session) -> list[UserRow]:
    """Every user with their tokens, by login."""
    now = utcnow()
    rows = []
    for user in session.scalars(select(User).order_by(User.login)):
        tokens = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
        live = session.scalar(
            select(func.count(WebSession.id)).where(
                WebSession.user_id == user.id,
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > now,
            )
        )
        scope = user.org.code if user.org else user.municipality or "все школы"
        rows.append(
            UserRow(
                user.login,
                user.role,
                scope,
                user.password_hash is not None,
                user.active,
                [
                    TokenRow(t.id, t.created_at, t.expires_at, t.revoked_at, t.last_used_at)
                    for t in tokens
                ],
                int(live or 0),
            )
        )
    return rows


def organisations(session: Session, actor: Actor) -> list[Organisation]:
    """Return the schools ``actor`` may see, by code."""
    return list(session.scalars(visible_organisations(actor)))
