"""The server's access log keeps no pupil's name from a search and no participant's link token."""

from __future__ import annotations

import logging

import httpx

from service.core.db import Database
from service.core.logs import ACCESS_LOGGER
from tests.service.util import auth, live_server, org_id, person, school, token


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_access_log_keeps_no_names_nor_link_tokens(live_db: Database) -> None:
    school(live_db, "s1", "m1")
    person(live_db, org_id(live_db, "s1"), "mentee", "e1", name="Иванова Мария Петровна")
    headers = auth(token(live_db, "curator", "s1"))
    logger = logging.getLogger(ACCESS_LOGGER)
    kept = _Kept()
    with live_server(live_db) as base:
        level = logger.level
        logger.setLevel(logging.INFO)  # the test server logs warnings only; `serve` logs access
        logger.addHandler(kept)
        try:
            with httpx.Client(base_url=base, headers=headers) as client:
                found = client.get(
                    "/api/v1/orgs/s1/people/paged", params={"q": "Иванова Мария", "page": 1}
                )
                assert [p["name"] for p in found.json()["items"]] == ["Иванова Мария Петровна"]
                client.get("/p/SECRETTOKEN123")
                client.get("/api/v1/links/SECRETTOKEN456")
        finally:
            logger.removeHandler(kept)
            logger.setLevel(level)
    log = "\n".join(kept.lines)
    assert "/api/v1/orgs/s1/people/paged?q=…&page=…" in log
    assert "/p/…" in log
    assert "/api/v1/links/…" in log
    for secret in ("Иванова", "%D0%98", "%d0%98", "SECRETTOKEN"):
        assert secret not in log, log
