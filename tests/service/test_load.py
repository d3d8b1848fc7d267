"""The load test's scenario (``experiments/load_curators.py``) against the real application.

A few curators run the whole scenario for a few seconds (sign in, pages, suggestions, proposing,
confirming, rejecting, small imports) against a live server on PostgreSQL; every answer must be
the one a curator expects. No timing is asserted: ``experiments.bench_load`` measures.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from experiments.bench_load import SCENARIO, prepare_world, read_stats
from experiments.cohorts import make_city
from service.core.db import Database
from service.core.models import Import, Pair, Person, Proposal
from tests.service.util import PASSWORD, live_server, school, token

CURATORS = 2
EVERY = (  # requests every curator sends exactly once
    "POST /login [sign in]",
    "/ui/orgs/[org]?status=all&q",
    "/ui/orgs/[org]/people?page",
    "/ui/orgs/[org]/people?q",
    "/ui/orgs/[org]/waiting",
    "/ui/orgs/[org]/pairs",
    "/ui/orgs/[org]/report",
    "/ui/orgs/[org]/mentees/[id] (suggestions)",
    "/api/v1/orgs/[org]/mentees/[id]/suggestions",
    "POST /ui/proposals/[id]/confirm",
    "POST /ui/proposals/[id]/reject",
    "POST /ui/orgs/[org]/import (5 pupils)",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("locust") is None, reason="locust (the bench extra) is missing"
    ),
]


def _counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            "rejected": session.scalar(
                select(func.count(Proposal.id)).where(Proposal.status == "rejected")
            )
            or 0,
            "pairs": session.scalar(select(func.count(Pair.id))) or 0,
            "imports": session.scalar(select(func.count(Import.id))) or 0,
            "people": session.scalar(select(func.count(Person.id))) or 0,
        }


@pytest.mark.parametrize(
    "live_db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_every_curator_task_gets_the_answer_a_curator_expects(
    live_db: Database, tmp_path: Path
) -> None:
    codes = [school(live_db, f"load-{k}") for k in range(CURATORS)]
    admin = token(live_db, "admin", None)
    logins = [
        {"login": f"load-curator-{k}", "password": PASSWORD,
         "token": token(live_db, "curator", code, login=f"load-curator-{k}", password=PASSWORD)}
        for k, code in enumerate(codes)
    ]  # fmt: skip
    city = make_city(seed=1, spec="pupil", mentees=45 * CURATORS, mentors=18 * CURATORS,
                     schools=CURATORS)  # fmt: skip
    with live_server(live_db) as base:
        world = prepare_world(base, admin, codes, city)
        for entry, login in zip(world["schools"], logins, strict=True):
            entry.update(login)
        world_file = tmp_path / "world.json"
        world_file.write_text(json.dumps(world, ensure_ascii=False), encoding="utf-8")
        before = _counts(live_db)
        done = subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f", str(SCENARIO), "EveryTask",
             "--headless", "--users", str(CURATORS), "--spawn-rate", str(CURATORS),
             "--run-time", "120s", "--host", base,
             "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "1"],
            env=os.environ | {"NASTAVNIK_LOAD_WORLD": str(world_file),
                              "NASTAVNIK_LOAD_STATS": str(tmp_path / "stats.json")},
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    after = _counts(live_db)
    assert done.returncode == 0, done.stderr[-2000:]
    rows, failures = read_stats(tmp_path / "stats.json")
    assert failures == [], failures
    counts = {row.name: row.count for row in rows}
    for name in EVERY:
        assert counts.get(name) == CURATORS, (name, counts)
    assert counts["/ui/orgs/[org]"] >= CURATORS * 4  # after signing in and after each form
    assert after["rejected"] == before["rejected"] + CURATORS
    assert after["pairs"] == before["pairs"] + CURATORS
    assert after["imports"] == before["imports"] + CURATORS
    assert after["people"] == before["people"] + 5 * CURATORS  # five new pupils each
