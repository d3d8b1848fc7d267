"""FastAPI dependencies shared by the API and the pages (the full-stack-fastapi-template's ``deps``).

A request owns its unit of work: ``SessionDep`` is one read transaction, ``WriteSessionDep`` one
write transaction (``BEGIN IMMEDIATE`` on SQLite). Both end when the route function returns —
commit on success, rollback on any error — *before* the answer is sent, so a client that got
201 can read what it made with its next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.core.config import Settings
from service.core.db import Database
from service.core.listing import DEFAULT_PER_PAGE, MAX_PER_PAGE, ListParams
from service.core.security import Actor, actor_for_token

__all__ = [
    "COOKIE",
    "ActorDep",
    "DbDep",
    "ListDep",
    "SessionDep",
    "SettingsDep",
    "SolverDep",
    "WriteSessionDep",
    "current_actor",
]

COOKIE = "nastavnik_token"


def get_db(request: Request) -> Database:
    """The application's database."""
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    """The application's settings."""
    return request.app.state.settings


def get_solver(request: Request) -> Any:
    """The application's solver pool (``service.runs.executor.Solver``)."""
    return request.app.state.solver


def read_session(request: Request) -> Iterator[Session]:
    """One read transaction for the whole request: a page reads one snapshot."""
    with get_db(request).read() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """One write transaction for the whole request: all of it is stored, or nothing."""
    with get_db(request).write() as session:
        yield session


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SolverDep = Annotated[Any, Depends(get_solver)]
SessionDep = Annotated[Session, Depends(read_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(write_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="The token printed by `nastavnik users add`.")


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user of the request: a bearer token, or the login cookie of the pages."""
    token = credentials.credentials if credentials else request.cookies.get(COOKIE)
    with get_db(request).read() as session:
        return actor_for_token(session, get_settings(request).secret_key, token)


ActorDep = Annotated[Actor, Depends(current_actor)]


def list_params(
    q: Annotated[
        str | None, Query(max_length=200, description="Search: every word in a name.")
    ] = None,
    sort: Annotated[
        str | None, Query(max_length=40, description="Sort key; `-key` the other way.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10**6, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
) -> ListParams:
    """The search, sort and page of a list in the API (filters are each route's own)."""
    return ListParams(q=q, sort=sort, page=page, per_page=per_page)


ListDep = Annotated[ListParams, Depends(list_params)]
