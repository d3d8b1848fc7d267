"""schemathesis fuzzes every operation of the API through the real application on both engines.

The application's own OpenAPI document drives it: every operation is called with generated
paths, queries and bodies (valid and invalid) as a curator with an API token, as a curator
logged in to the pages (the session cookie and its anti-forgery token), and without any
credentials. Each answer must not be a server error, must have a documented status code, and
must match the documented schema and content type (issue 9). The examples per operation are few
and drawn from a fixed seed, so a run is reproducible and takes about a minute on two cores.

A school with people, an open proposal and an active pair is set up first; half of the generated
paths name that school and its real ids, so the fuzzer reaches the domain code, not only 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.core.db import Database
from service.core.deps import COOKIE, CSRF_HEADER
from service.runs.executor import Solver
from tests.service.util import (
    RolledBackDatabase,
    auth,
    school,
    settings_for,
    sign_in,
    token,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SAMPLE = Path(__file__).parents[2] / "examples" / "teachers"
EXAMPLES = {"token": 8, "session": 3, "none": 1}


def _known(db: Database) -> dict[str, Any]:
    """A school of municipality m1 (region r1) with the sample teachers imported, a run's open
    proposals and one confirmed pair; the values a path may take to reach them."""
    school(db, "s1", "m1")
    admin = auth(token(db, "admin", None))
    with TestClient(create_app(settings_for(db), db)) as client:
        for side in ("mentors", "mentees"):
            lines = (SAMPLE / f"{side}.csv").read_text(encoding="utf-8").splitlines(keepends=True)
            answer = client.post(
                f"/api/v1/orgs/s1/imports/{side}",
                files={"file": (f"{side}.csv", "".join(lines[:7]).encode())},
                headers=admin,
            )
            assert answer.status_code == 201, answer.text
        run = client.post("/api/v1/orgs/s1/matching-runs", json={}, headers=admin)
        assert run.status_code == 201, run.text
        proposals = client.get("/api/v1/orgs/s1/proposals", headers=admin).json()
        assert len(proposals) >= 2, proposals
        confirmed = client.post(
            f"/api/v1/proposals/{proposals[0]['proposal_id']}/confirm", headers=admin
        )
        assert confirmed.status_code == 201, confirmed.text
        people = client.get("/api/v1/orgs/s1/people", headers=admin).json()
    ids = [p["id"] for p in people] + [p["proposal_id"] for p in proposals]
    ids += [confirmed.json()["pair_id"], run.json()["run_id"]]
    return {"org": "s1", "municipality": "m1", "region": "r1", "ids": ids}


def _document_app() -> Any:
    """The application whose OpenAPI document drives the fuzzer (the same routes as every test's:
    the document does not depend on the database)."""
    return create_app(settings_for(Database("sqlite://")), Database("sqlite://"))


schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app())
_STATE: dict[str, Any] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half of the cases keep the generated values; the others name the known school's."""
    if not path_parameters:
        return st.just(path_parameters)
    known = _STATE["known"]
    real: dict[str, Any] = {}
    for key, value in path_parameters.items():
        if key in known:
            real[key] = st.just(known[key])
        elif key.endswith("_id") and isinstance(value, int):
            real[key] = st.sampled_from(known["ids"])
        else:
            real[key] = st.just(value)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(real))


@pytest.fixture(scope="module", params=ENGINES)
def fuzzed(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The real application on each engine with a school to reach; rolled back at the end."""
    database = RolledBackDatabase(request.getfixturevalue(f"{request.param}_url"))
    solver = None
    try:
        _STATE["known"] = _known(database)
        with TestClient(create_app(settings_for(database), database)) as client:
            sign_in(client, database, token(database, "curator", "s1"))
            _STATE["credentials"] = {
                "token": auth(token(database, "curator", "s1")),
                "session": {
                    "Cookie": f"{COOKIE}={client.cookies[COOKIE]}",
                    CSRF_HEADER: client.headers[CSRF_HEADER],
                    "Origin": "http://testserver",
                },
                "none": {},
            }
        # schemathesis runs the application's lifespan itself, whose end closes the solver's
        # pool: the runs get a solver of the test's own.
        app = create_app(settings_for(database), database)
        app.state.solver = solver = Solver()
        _STATE["app"] = app
        yield _STATE
    finally:
        _STATE.clear()
        if solver is not None:
            solver.close()
        database.dispose()


def _fuzz(case: Any, state: dict[str, Any], who: str) -> None:
    case.call_and_validate(app=state["app"], headers=state["credentials"][who], checks=CHECKS)


_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@schema.parametrize()
@settings(max_examples=EXAMPLES["token"], **_SETTINGS)
def test_every_operation_as_a_curator_with_a_token(case: Any, fuzzed: dict[str, Any]) -> None:
    _fuzz(case, fuzzed, "token")


@schema.parametrize()
@settings(max_examples=EXAMPLES["session"], **_SETTINGS)
def test_every_operation_as_a_curator_logged_in_to_the_pages(
    case: Any, fuzzed: dict[str, Any]
) -> None:
    _fuzz(case, fuzzed, "session")


@schema.parametrize()
@settings(max_examples=EXAMPLES["none"], **_SETTINGS)
def test_every_operation_without_credentials(case: Any, fuzzed: dict[str, Any]) -> None:
    _fuzz(case, fuzzed, "none")
