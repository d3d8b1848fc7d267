"""Logging in with a password, server-side sessions, anti-forgery tokens, origin checks, the login
rate limit and the security headers, over HTTP through the real application on both engines."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.core.config import Settings
from service.core.db import Database
from service.core.deps import COOKIE, CSRF_HEADER
from service.core.models import Proposal, WebSession, utcnow
from service.ui.headers import inline_styles
from tests.service.util import (
    PASSWORD,
    SECRET,
    auth,
    login_of,
    org_id,
    person,
    proposal,
    school,
    settings_for,
    sign_in,
    token,
)

EVIL = "https://evil.example"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as found:
        yield found


def _login(client: TestClient, login: str, password: str = PASSWORD) -> int:
    answer = client.post("/login", data={"login": login, "password": password})
    return answer.status_code


def test_a_password_opens_a_session_whose_cookie_is_no_token(
    client: TestClient, db: Database
) -> None:
    value = token(db, "curator", "s1")
    login = login_of(db, value)
    assert _login(client, login, "неверный пароль") == 401
    answer = client.post("/login", data={"login": login, "password": PASSWORD})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # the test environment is plain HTTP
    key = client.cookies[COOKIE]
    assert key != value
    assert client.get("/ui/orgs/s1").status_code == 200
    assert client.get("/api/v1/orgs").status_code == 200  # the API reads the session too
    assert client.get("/api/v1/orgs", headers=auth(key), cookies={}).status_code == 401
    with db.read() as session:
        stored = session.scalars(select(WebSession.key_hash)).all()
    assert key not in stored


def test_logout_revokes_the_session_even_for_a_copied_cookie(
    client: TestClient, db: Database
) -> None:
    csrf = sign_in(client, db, token(db, "curator", "s1"))
    key = client.cookies[COOKIE]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set(COOKIE, key)  # the attacker kept a copy
    assert client.get("/ui/orgs/s1").headers["location"] == "/login"
    assert client.get("/api/v1/orgs").status_code == 401


@pytest.mark.parametrize("limit", ["idle", "absolute"])
def test_a_session_ends_when_idle_or_too_old(client: TestClient, db: Database, limit: str) -> None:
    sign_in(client, db, token(db, "curator", "s1"))
    assert client.get("/ui/orgs/s1").status_code == 200
    with db.write() as session:
        stored = session.scalars(select(WebSession)).one()
        if limit == "idle":
            stored.last_seen_at = utcnow() - timedelta(minutes=61)
        else:
            stored.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/ui/orgs/s1").headers["location"] == "/login"


def test_production_cookies_are_secure(db: Database) -> None:
    settings = Settings(environment="production", secret_key=SECRET, database_url=db.url)
    value = token(db, "admin", None)
    with TestClient(create_app(settings, db), base_url="https://testserver") as client:
        answer = client.post(
            "/login",
            data={"login": login_of(db, value), "password": PASSWORD},
            follow_redirects=False,
        )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


def _open_proposal(db: Database) -> int:
    org = org_id(db, "s1")
    mentor = person(db, org, "mentor", "m", capacity=2)
    return proposal(db, org, person(db, org, "mentee", "e"), mentor)


def _status(db: Database, proposal_id: int) -> str:
    with db.read() as session:
        found = session.get(Proposal, proposal_id)
        assert found is not None
        return found.status


def test_a_page_form_without_the_sessions_token_is_refused(
    client: TestClient, db: Database
) -> None:
    proposal_id = _open_proposal(db)
    csrf = sign_in(client, db, token(db, "curator", "s1"))
    del client.headers[CSRF_HEADER]  # a forged form knows no token
    url = f"/ui/proposals/{proposal_id}/reject"
    for data in ({}, {"csrf_token": "подделка"}, {"csrf_token": csrf[:-1]}):
        refused = client.post(url, data=data | {"org": "s1"})
        assert refused.status_code == 403
        assert "защита от подделки запросов" in refused.text
    assert _status(db, proposal_id) == "open"
    assert client.post(url, data={"csrf_token": csrf, "org": "s1"}).status_code == 303
    assert _status(db, proposal_id) == "rejected"


def test_every_form_of_a_page_carries_the_token(client: TestClient, db: Database) -> None:
    _open_proposal(db)
    csrf = sign_in(client, db, token(db, "curator", "s1"))
    html = client.get("/ui/orgs/s1").text
    forms = re.findall(r'<form method="post"[^>]*>(.{0,120})', html)
    assert len(forms) >= 3  # confirm, reject, logout, ...
    for form in forms:
        assert f'name="csrf_token" value="{csrf}"' in form


def test_a_cross_origin_post_is_refused_on_pages_and_api(client: TestClient, db: Database) -> None:
    proposal_id = _open_proposal(db)
    sign_in(client, db, token(db, "curator", "s1"))
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/ui/orgs/s1"}, {"Origin": "null"}):
        page = client.post(f"/ui/proposals/{proposal_id}/confirm", headers=headers)
        assert page.status_code == 403, headers
        api = client.post(f"/api/v1/proposals/{proposal_id}/confirm", headers=headers)
        assert api.status_code == 403, headers
        assert api.json()["code"] == "csrf"
    # the API with the cookie but no origin at all: refused too (a browser always sends one)
    assert client.post(f"/api/v1/proposals/{proposal_id}/reject").status_code == 403
    assert _status(db, proposal_id) == "open"
    assert client.post("/login", headers={"Origin": EVIL}, data={}).status_code == 403
    same = client.post(
        f"/api/v1/proposals/{proposal_id}/reject", headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 200, same.text
    assert _status(db, proposal_id) == "rejected"


def test_a_script_with_a_token_needs_no_origin(client: TestClient, db: Database) -> None:
    proposal_id = _open_proposal(db)
    headers = auth(token(db, "curator", "s1")) | {"Origin": EVIL}
    assert (
        client.post(f"/api/v1/proposals/{proposal_id}/reject", headers=headers).status_code == 200
    )


def test_the_21st_failed_login_in_a_minute_is_refused(client: TestClient, db: Database) -> None:
    login = login_of(db, token(db, "curator", "s1"))
    assert [_login(client, login, f"неверный-{i}") for i in range(20)] == [401] * 20
    refused = client.post("/login", data={"login": login, "password": PASSWORD})
    assert refused.status_code == 429  # even the right password: the account is paused
    assert "Слишком много неудачных попыток" in refused.text
    # the same address trying other logins is paused too
    assert _login(client, "someone-else", "x") == 429


def test_every_page_has_the_security_headers(client: TestClient, db: Database) -> None:
    _open_proposal(db)
    sign_in(client, db, token(db, "curator", "s1"))
    for url in ("/login", "/ui/orgs/s1", "/ui/orgs/s1/people", "/api/v1/orgs", "/ui/orgs/nope"):
        answer = client.get(url)
        headers = answer.headers
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["x-frame-options"] == "DENY", url
        assert headers["cache-control"] == "no-store", url
        assert headers["referrer-policy"] == "same-origin", url
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "script-src" not in policy
        assert "unsafe-inline" not in policy
    # every inline style the pages use is allowed by its hash
    import base64
    import hashlib

    html = client.get("/ui/orgs/s1").text
    used = re.findall(r"<style>(.*?)</style>", html, re.S) + re.findall(r' style="([^"]*)"', html)
    assert used
    for style in used:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert set(used) <= inline_styles()


def test_api_docs_are_off_in_production_unless_enabled(db: Database) -> None:
    production = Settings(environment="production", secret_key=SECRET, database_url=db.url)
    with TestClient(create_app(production, db)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    enabled = production.model_copy(update={"api_docs": True})
    with TestClient(create_app(enabled, db)) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    from service.core.db import upgrade

    url = f"sqlite:///{tmp_path / 'var' / 'n.sqlite3'}"
    upgrade(url)
    database = Database(url)
    with database.write() as session:
        session.execute(select(1))
    database.dispose()
    for path in (tmp_path / "var").iterdir():
        assert os.stat(path).st_mode & 0o777 == 0o600, path
