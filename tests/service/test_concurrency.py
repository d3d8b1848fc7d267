"""Capacity under real concurrency: many curators confirm at the same moment on a live server.

Each round starts threads that wait at a barrier and then send their confirmation together to a
uvicorn server running the real application, so the requests overlap inside the server.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import func, select

from service.core.db import Database
from service.core.models import Pair
from tests.service.util import auth, live_server, org_id, person, proposal, school, token

ROUNDS = 8


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


def _confirm_together(base: str, tokens: list[str], proposals: list[int]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(proposals))
    responses: list[httpx.Response | None] = [None] * len(proposals)

    def confirm(k: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            responses[k] = client.post(
                f"/api/v1/proposals/{proposals[k]}/confirm", headers=auth(tokens[k % len(tokens)])
            )

    threads = [threading.Thread(target=confirm, args=(k,)) for k in range(len(proposals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


def _active_pairs(db: Database, mentor: int) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count(Pair.id)).where(Pair.mentor_id == mentor, Pair.status == "active")
            )
            or 0
        )


@pytest.mark.parametrize(("capacity", "curators"), [(1, 2), (3, 6)])
def test_the_last_free_place_goes_to_exactly_one_curator(
    db: Database, capacity: int, curators: int
) -> None:
    org = org_id(db, school(db, "s1"))
    tokens = [token(db, "curator", "s1") for _ in range(curators)]
    with live_server(db) as base:
        for round_ in range(ROUNDS):
            mentor = person(db, org, "mentor", f"m{round_}", capacity=capacity)
            mentees = [person(db, org, "mentee", f"e{round_}-{k}") for k in range(curators)]
            proposals = [proposal(db, org, mentee, mentor) for mentee in mentees]
            responses = _confirm_together(base, tokens, proposals)
            codes = sorted(r.status_code for r in responses)
            assert codes == [201] * capacity + [409] * (curators - capacity), [
                r.text for r in responses
            ]
            refused = [r.json()["code"] for r in responses if r.status_code == 409]
            assert set(refused) == {"mentor_full"}  # decided under the lock, not by luck
            assert _active_pairs(db, mentor) == capacity


def test_one_proposal_confirmed_at_once_makes_one_pair(db: Database) -> None:
    org = org_id(db, school(db, "s1"))
    tokens = [token(db, "curator", "s1") for _ in range(4)]
    with live_server(db) as base:
        for round_ in range(ROUNDS):
            mentor = person(db, org, "mentor", f"m{round_}", capacity=3)
            proposal_id = proposal(db, org, person(db, org, "mentee", f"e{round_}"), mentor)
            responses = _confirm_together(base, tokens, [proposal_id] * 4)
            assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
            assert _active_pairs(db, mentor) == 1


def test_the_same_file_imported_at_once_creates_each_person_once(db: Database) -> None:
    from pathlib import Path

    from service.core.models import Person

    content = (Path(__file__).with_name("data") / "mentors.csv").read_bytes()
    school(db, "s1")
    tokens = [token(db, "curator", "s1") for _ in range(4)]
    with live_server(db) as base:
        barrier = threading.Barrier(len(tokens))
        statuses: list[int] = []

        def upload(value: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                barrier.wait()
                response = client.post(
                    "/api/v1/orgs/s1/imports/mentors",
                    files={"file": ("mentors.csv", content)},
                    headers=auth(value),
                )
                statuses.append(response.status_code)

        threads = [threading.Thread(target=upload, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert 201 in statuses
    assert set(statuses) <= {201, 409}
    with db.read() as session:
        assert session.scalar(select(func.count(Person.id))) == 4


def _post_together(base: str, jobs: list[tuple[str, object, str]]) -> list[httpx.Response]:
    """Send the POSTs ``(url, json body, token)`` at the same moment; their answers in order."""
    barrier = threading.Barrier(len(jobs))
    responses: list[httpx.Response | None] = [None] * len(jobs)

    def send(k: int) -> None:
        url, body, value = jobs[k]
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            responses[k] = client.post(url, json=body, headers=auth(value))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [r for r in responses if r is not None]


def test_a_withdrawal_and_confirmations_at_once_leave_no_open_proposal_of_the_person(
    db: Database,
) -> None:
    """Withdrawing locks like confirming (proposals before people): no deadlock, no 500."""
    org = org_id(db, school(db, "s1"))
    tokens = [token(db, "curator", "s1") for _ in range(4)]
    with live_server(db) as base:
        for round_ in range(ROUNDS):
            mentor = person(db, org, "mentor", f"m{round_}", capacity=3)
            mentees = [person(db, org, "mentee", f"e{round_}-{k}") for k in range(3)]
            proposals = [proposal(db, org, mentee, mentor) for mentee in mentees]
            jobs: list[tuple[str, object, str]] = [
                (f"/api/v1/proposals/{p}/confirm", None, tokens[k]) for k, p in enumerate(proposals)
            ]
            jobs.append((f"/api/v1/orgs/s1/people/{mentor}/consent", {"given": False}, tokens[3]))
            *confirmations, withdrawal = _post_together(base, jobs)
            statuses = [r.status_code for r in confirmations]
            assert withdrawal.status_code == 200, withdrawal.text
            assert set(statuses) <= {201, 409}, [r.text for r in confirmations]
            confirmed = {r.json()["pair_id"] for r in confirmations if r.status_code == 201}
            assert {r.json()["code"] for r in confirmations if r.status_code == 409} <= {
                "no_consent"
            }
            body = withdrawal.json()
            assert set(body["pairs_to_decide"]) == confirmed
            assert len(body["superseded"]) + len(confirmed) == len(proposals)
            assert _active_pairs(db, mentor) == len(confirmed)
