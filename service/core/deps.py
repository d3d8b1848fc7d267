"""FastAPI dependencies shared by the API and the pages (the full-stack-fastapi-template's ``deps``).

A request owns its unit of work: ``SessionDep`` is one read transaction, ``WriteSessionDep`` one
write transaction (``BEGIN IMMEDIATE`` on SQLite). Both end when the route function returns —
commit on success, rollback on any error — *before* the answer is sent, so a client that got
201 can read what it made with its next request.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.core.config import Settings
from service.core.db import Database
from service.core.errors import CsrfRefused, Invalid, NotFound, Unauthorized
from service.core.listing import DEFAULT_PER_PAGE, MAX_PER_PAGE, ListParams
from service.core.models import utcnow
from service.core.security import (
    Actor,
    PageSession,
    actor_for_token,
    page_session,
    touch_web_session,
)
from service.core.text import MAX_ID, control_characters

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "ActorDep",
    "DbDep",
    "ListDep",
    "SessionDep",
    "SettingsDep",
    "SolverDep",
    "WriteSessionDep",
    "check_address",
    "cookie_session",
    "current_actor",
    "guard_page",
    "same_origin",
]

COOKIE = "nastavnik_session"
CSRF_FIELD = "csrf_token"  # the hidden field of every POST form ({{ csrf_input() }})
CSRF_HEADER = "X-CSRF-Token"  # the same token, for clients that send it as a header
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most once a minute


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
        yield from _lent(request, session)


def write_session(request: Request) -> Iterator[Session]:
    """One write transaction for the whole request: all of it is stored, or nothing."""
    with get_db(request).write() as session:
        yield from _lent(request, session)


def _lent(request: Request, session: Session) -> Iterator[Session]:
    # The page's template reads through the request's own transaction while it is open
    # (``request.state.session``: school names) instead of opening one more.
    request.state.session = session
    try:
        yield session
    finally:
        request.state.session = None


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SolverDep = Annotated[Any, Depends(get_solver)]
SessionDep = Annotated[Session, Depends(read_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(write_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="The token printed by `nastavnik users add`.")


def cookie_session(request: Request) -> PageSession | None:
    """The live page session of the request's cookie (looked up once per request), or None.

    Also sets ``request.state.csrf_token``, which the pages' forms carry.
    """
    if hasattr(request.state, "page_session"):
        found: PageSession | None = request.state.page_session
        return found
    settings = get_settings(request)
    key = request.cookies.get(COOKIE)
    found = None
    if key:
        with get_db(request).read() as session:
            found = page_session(session, settings.secret_key, key, settings.session_idle_minutes)
        if found is not None and utcnow() - found.last_seen_at >= _TOUCH_EVERY:
            with get_db(request).write() as session:
                touch_web_session(session, found.id)
    request.state.page_session = found
    request.state.csrf_token = found.csrf_token if found else None
    return found


def same_origin(request: Request) -> bool | None:
    """Whether the request was sent from our own pages, by its ``Origin`` (else ``Referer``)
    header: None when it has neither."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return None
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:
        return False  # "null" (a sandboxed or privacy-stripped origin) or garbage
    if f"{parts.scheme}://{parts.netloc}" in get_settings(request).allowed_origins:
        return True
    return parts.netloc == request.headers.get("host", request.url.netloc)


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user of the request: a bearer token, or the session cookie of the pages.

    An unsafe API request authenticated by the cookie must come from our own origin
    (``Origin``/``Referer``); the pages' unsafe requests are checked by :func:`guard_page`.
    """
    if credentials:
        with get_db(request).read() as session:
            return actor_for_token(
                session, get_settings(request).secret_key, credentials.credentials
            )
    found = cookie_session(request)
    if found is None:
        raise Unauthorized()
    if (
        request.method in UNSAFE
        and request.url.path.startswith("/api/")
        and same_origin(request) is not True
    ):
        raise CsrfRefused()
    return found.actor


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


async def guard_page(request: Request) -> None:
    """Every page request: find its session; refuse an unsafe one sent from another site.

    An unsafe request must not name a foreign origin (``Origin``, else ``Referer``) and, once
    logged in, must carry the session's anti-forgery token (the form's ``csrf_token`` field or
    the ``X-CSRF-Token`` header). The login form itself has no session yet: its origin is checked.
    """
    found = await run_in_threadpool(cookie_session, request)
    if request.method not in UNSAFE:
        return
    if found is None and request.url.path.startswith("/p/"):
        # A participant's page: the signed link is the credential, and it is sent with no
        # Referer (and so an ``Origin: null`` on a form), so that the link never leaks.
        return
    if same_origin(request) is False:
        raise CsrfRefused()
    if found is None or request.url.path == "/login":
        return  # not logged in: the page answers with the login form
    sent: Any = request.headers.get(CSRF_HEADER)
    if not sent:
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), found.csrf_token.encode()
    ):
        raise CsrfRefused()


def check_address(request: Request) -> None:
    """Check a request's address before any route reads it (every API and page route).

    Answer 404 for an id in the path (``.../pairs/{pair_id}``) outside 1..2^31-1: no row has it,
    and the database would refuse to compare with it (PostgreSQL's INTEGER, SQLite's 64 bits).

    Answer 422 for a control character in the path or the query (``/orgs/s1%00/report``,
    ``?q=%00``): PostgreSQL refuses a text holding U+0000, so a school code, a search or a link's
    token with one answered 500 there."""
    problems = [
        {"row": None, "column": name, "value": value, "message": f"управляющие символы ({found})"}
        for name, value in [*request.path_params.items(), *request.query_params.multi_items()]
        if isinstance(value, str) and (found := ", ".join(control_characters(value)))
    ]
    if problems:
        named = "; ".join(f"{p['column']}: {p['message']}" for p in problems)
        raise Invalid(f"В адресе запроса управляющие символы: {named}. Уберите их.", problems)
    for name, value in request.path_params.items():
        if not name.endswith("_id") or not isinstance(value, str):
            continue
        digits = value.strip()
        if digits[:1] in "+-":
            digits = digits[1:]
        if digits.isdigit() and digits.isascii() and not 1 <= int(value) <= MAX_ID:
            raise NotFound(name.removesuffix("_id"), value)
