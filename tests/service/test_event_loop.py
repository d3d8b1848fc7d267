"""A matching run never blocks the server: other requests are answered while it solves."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from matching import Matching, Problem
from service.core.db import Database
from service.runs.executor import Solver
from tests.service.util import auth, live_server, school, token

DATA = Path(__file__).with_name("data")


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


class HeldSolver(Solver):
    """The real solver, held at a gate so that the test knows a run is in the middle of solving."""

    def __init__(self) -> None:
        super().__init__(workers=1)
        self.solving = threading.Event()
        self.gate = threading.Event()

    def solve(
        self, problem: Problem, warm: Matching | None = None, keep_networks: bool = False
    ) -> Matching:
        self.solving.set()
        assert self.gate.wait(timeout=60)
        return super().solve(problem, warm=warm, keep_networks=keep_networks)


def test_health_and_pages_answer_while_a_run_is_solving(db: Database) -> None:
    school(db, "s1")
    headers = auth(token(db, "curator", "s1"))
    solver = HeldSolver()
    with live_server(db, solver=solver) as base, httpx.Client(base_url=base, timeout=60) as client:
        for side in ("mentors", "mentees"):
            files = {"file": (f"{side}.csv", (DATA / f"{side}.csv").read_bytes())}
            assert (
                client.post(
                    f"/api/v1/orgs/s1/imports/{side}", files=files, headers=headers
                ).status_code
                == 201
            )
        result: dict[str, Any] = {}

        def run() -> None:
            with httpx.Client(base_url=base, timeout=60) as own:
                result["run"] = own.post("/api/v1/orgs/s1/matching-runs", headers=headers)

        thread = threading.Thread(target=run)
        thread.start()
        assert solver.solving.wait(timeout=60)
        assert client.get("/health").status_code == 200  # answered while the run is solving
        assert client.get("/api/v1/orgs/s1/people", headers=headers).status_code == 200
        assert "run" not in result
        solver.gate.set()
        thread.join(timeout=60)
    assert result["run"].status_code == 201
    assert len(result["run"].json()["proposals"]) == 3
