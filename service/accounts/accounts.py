"""Organisations and users: created by an administrator at the server's command line."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, Invalid, NotFound
from service.core.models import Organisation, Role, User
from service.core.security import Actor, hash_token, new_token, visible_organisations

__all__ = ["add_organisation", "add_user", "organisations"]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def add_organisation(
    session: Session,
    code: str,
    name: str,
    municipality: str | None = None,
    region: str | None = None,
) -> int:
    """Create a school; return its id.

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
    org = Organisation(
        code=code, name=name.strip(), municipality=municipality or None, region=region or None
    )
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
) -> str:
    """Create a user and return their new token (it is stored only as a hash).

    A curator needs ``org_code``; a coordinator needs a municipality, taken from ``municipality``
    or from the municipality of ``org_code``.
    """
    try:
        user_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"Роль {role!r} неизвестна; допустимы: {allowed}.") from None
    if not login.strip():
        raise Invalid("Логин не может быть пустым.")
    token = new_token()
    org = None
    if org_code is not None:
        org = session.scalar(select(Organisation).where(Organisation.code == org_code))
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
        token_hash=hash_token(token, secret),
    )
    session.add(user)
    session.flush()
    record(session, Actor.command_line(), "create", "user", user.id, user.org_id, role=user.role)
    return token


def organisations(session: Session, actor: Actor) -> list[Organisation]:
    """Return the schools ``actor`` may see, by code."""
    return list(session.scalars(visible_organisations(actor)))
