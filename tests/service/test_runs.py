"""Imports, suggestions and matching runs through the real API, with real features and solver."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import Answers, AuditEvent, Import, Person, utcnow
from tests.service.util import auth, school, settings_for, token

DATA = Path(__file__).with_name("data")


def _upload(
    client: TestClient, headers: dict[str, str], org: str, side: str, content: bytes, name: str
) -> dict[str, object]:
    response = client.post(
        f"/api/v1/orgs/{org}/imports/{side}",
        files={"file": (name, content, "text/csv")},
        data={"spec": "teacher"},
        headers=headers,
    )
    assert response.status_code in (201, 422), response.text
    return {"status": response.status_code, **response.json()}


@pytest.fixture
def loaded(db: Database) -> Iterator[tuple[TestClient, dict[str, str], dict[str, int]]]:
    """School s1 with the sample mentors and mentees imported; ids by e-mail."""
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        for side in ("mentors", "mentees"):
            body = _upload(
                client, headers, "s1", side, (DATA / f"{side}.csv").read_bytes(), f"{side}.csv"
            )
            assert body == {
                "status": 201,
                "import_id": body["import_id"],
                "created": 4,
                "updated": 0,
                "unchanged": 0,
            }
        people = client.get("/api/v1/orgs/s1/people", headers=headers).json()
        yield client, headers, {p["external_id"].split("@")[0]: p["id"] for p in people}


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_reimport_updates_people_keeps_old_answers_and_never_duplicates(
    db: Database, loaded: tuple[TestClient, dict[str, str], dict[str, int]]
) -> None:
    client, headers, ids = loaded
    original = (DATA / "mentors.csv").read_bytes()
    same = _upload(client, headers, "s1", "mentors", original, "mentors.csv")
    assert (same["created"], same["updated"], same["unchanged"]) == (0, 0, 4)
    changed = original.decode().replace(";22;Высшая;", ";23;Высшая;").encode("cp1251")
    again = _upload(client, headers, "s1", "mentors", changed, "mentors-cp1251.csv")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 3)
    with db.read() as session:
        versions = session.scalars(
            select(Answers.records)
            .where(Answers.person_id == ids["petrova"])
            .order_by(Answers.version)
        ).all()
        assert session.get(Person, ids["petrova"]).version == 2  # type: ignore[union-attr]
    assert [v["experience"] for v in versions] == [22, 23]
    assert _count(db, Person) == 8


def test_a_bad_file_is_rejected_whole_with_every_problem(
    db: Database, loaded: tuple[TestClient, dict[str, str], dict[str, int]]
) -> None:
    client, headers, _ = loaded
    before = (_count(db, Person), _count(db, Answers), _count(db, Import), _count(db, AuditEvent))
    lines = (DATA / "mentees.csv").read_text().splitlines()
    lines.append(
        "05.09.2024;new@school.ru;Новый Педагог;Космонавт;Физика;1;нет;нет;нет;Очно;пн утро;да"
    )
    lines[1] = lines[1].replace(";1;постоянно;", ";много;постоянно;")
    body = _upload(client, headers, "s1", "mentees", "\n".join(lines).encode(), "mentees.csv")
    assert body["status"] == 422
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {(e["row"], e["column"]) for e in errors} >= {
        (2, "Педагогический стаж (лет)"),
        (6, "Кто вы в программе наставничества?"),
    }
    assert all(e["message"] for e in errors)
    after = (_count(db, Person), _count(db, Answers), _count(db, Import), _count(db, AuditEvent))
    assert after == before


def test_suggestions_rank_mentors_with_reasons_and_only_with_consent(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    client, headers, ids = loaded
    response = client.get(
        f"/api/v1/orgs/s1/mentees/{ids['ivanova']}/suggestions?k=5", headers=headers
    )
    assert response.status_code == 200
    suggestions = response.json()
    assert suggestions[0]["mentor_id"] == ids["petrova"]
    assert any("методика" in r for r in suggestions[0]["reasons"])
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert ids["nosov"] not in {s["mentor_id"] for s in suggestions}  # no consent
    refused = client.get(f"/api/v1/orgs/s1/mentees/{ids['frolov']}/suggestions", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "no_consent")


def test_suggestions_follow_a_mentors_new_answers(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    # The mentors' parsed answers are kept between requests (service.runs.suggesting): a
    # re-imported questionnaire must be what the next suggestions are scored with.
    client, headers, ids = loaded
    url = f"/api/v1/orgs/s1/mentees/{ids['ivanova']}/suggestions?k=5"
    before = {s["mentor_id"]: s for s in client.get(url, headers=headers).json()}
    assert any("методика" in r for r in before[ids["petrova"]]["reasons"])
    mentors = (DATA / "mentors.csv").read_text(encoding="utf-8")
    changed = mentors.replace(";Методика, ИКТ;Очно;", ";Воспитательная работа;Очно;", 1)
    assert changed != mentors
    body = _upload(client, headers, "s1", "mentors", changed.encode(), "mentors.csv")
    assert (body["status"], body["updated"]) == (201, 1)
    after = {s["mentor_id"]: s for s in client.get(url, headers=headers).json()}
    assert not any("методика" in r for r in after.get(ids["petrova"], {"reasons": []})["reasons"])
    assert after.get(ids["petrova"], {"score": 0})["score"] < before[ids["petrova"]]["score"]


def test_a_run_keeps_confirmed_pairs_counts_load_and_never_repeats_a_rejection(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    client, headers, ids = loaded
    first = client.post("/api/v1/orgs/s1/matching-runs", headers=headers)
    assert first.status_code == 201
    run = first.json()
    people = {p["mentee_id"] for p in run["proposals"]} | {p["mentor_id"] for p in run["proposals"]}
    assert not people & {ids["nosov"], ids["frolov"]}  # no proposal without consent
    assert run["without_consent"] == 1
    assert all(p["reasons"] for p in run["proposals"])
    by_mentee = {p["mentee_id"]: p for p in run["proposals"]}
    assert by_mentee[ids["ivanova"]]["mentor_id"] == ids["petrova"]

    kept = client.post(
        f"/api/v1/proposals/{by_mentee[ids['ivanova']]['proposal_id']}/confirm", headers=headers
    )
    assert kept.status_code == 201
    rejected = by_mentee[ids["kozlov"]]
    assert (
        client.post(
            f"/api/v1/proposals/{rejected['proposal_id']}/reject", headers=headers
        ).status_code
        == 200
    )

    second = client.post(
        "/api/v1/orgs/s1/matching-runs", json={"objective": "coverage"}, headers=headers
    ).json()
    assert second["kept"] == [kept.json()["pair_id"]]
    pairs = {(p["mentee_id"], p["mentor_id"]) for p in second["proposals"]}
    assert (rejected["mentee_id"], rejected["mentor_id"]) not in pairs
    assert ids["ivanova"] not in {m for m, _ in pairs}
    old = client.post(
        f"/api/v1/proposals/{by_mentee[ids['belova']]['proposal_id']}/confirm", headers=headers
    )
    assert (old.status_code, old.json()["code"]) == (
        409,
        "already_decided",
    )  # superseded by the new run
    for proposal in second["proposals"]:
        assert (
            client.post(
                f"/api/v1/proposals/{proposal['proposal_id']}/confirm", headers=headers
            ).status_code
            == 201
        )
    load = client.get("/api/v1/orgs/s1/report", headers=headers).json()["mentor_load"]
    assert all(m["active"] <= m["capacity"] for m in load["by_mentor"])
    assert load["over_capacity"] == 0


def test_a_curator_may_propose_a_suggested_pair(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    client, headers, ids = loaded
    made = client.post(
        "/api/v1/orgs/s1/proposals",
        json={"mentee_id": ids["belova"], "mentor_id": ids["orlova"]},
        headers=headers,
    )
    assert made.status_code == 201
    assert made.json()["form"] == "teacher_teacher"
    pair = client.post(
        f"/api/v1/proposals/{made.json()['proposal_id']}/confirm", headers=headers
    ).json()
    assert pair["form"] == "teacher_teacher"
    no_consent = client.post(
        "/api/v1/orgs/s1/proposals",
        json={"mentee_id": ids["belova"], "mentor_id": ids["nosov"]},
        headers=headers,
    )
    assert no_consent.json()["code"] == "no_consent"


def test_replacing_a_mentor_keeps_the_history(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    client, headers, ids = loaded
    made = client.post(
        "/api/v1/orgs/s1/proposals",
        json={"mentee_id": ids["ivanova"], "mentor_id": ids["petrova"]},
        headers=headers,
    ).json()
    old = client.post(f"/api/v1/proposals/{made['proposal_id']}/confirm", headers=headers).json()
    replaced = client.post(
        f"/api/v1/pairs/{old['pair_id']}/replace-mentor",
        json={"mentor_id": ids["smirnov"], "reason": "mentee_request"},
        headers=headers,
    )
    assert replaced.status_code == 201, replaced.text
    new = replaced.json()
    assert (new["previous_pair_id"], new["mentor_id"], new["status"]) == (
        old["pair_id"],
        ids["smirnov"],
        "active",
    )
    history = client.get("/api/v1/orgs/s1/pairs", headers=headers).json()
    assert [(p["pair_id"], p["status"], p["end_reason"]) for p in history] == [
        (old["pair_id"], "ended", "mentee_request"),
        (new["pair_id"], "active", None),
    ]
    refused = client.post(
        f"/api/v1/pairs/{new['pair_id']}/replace-mentor",
        json={"mentor_id": ids["nosov"], "reason": "other"},
        headers=headers,
    )
    assert refused.json()["code"] == "no_consent"


def test_no_personal_data_in_logs(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings_for(db), db)) as client:
        for side in ("mentors", "mentees"):
            _upload(client, headers, "s1", side, (DATA / f"{side}.csv").read_bytes(), f"{side}.csv")
        run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
        client.post(
            f"/api/v1/proposals/{run['proposals'][0]['proposal_id']}/confirm", headers=headers
        )
        client.get("/api/v1/orgs/s1/people", headers=headers)
    text = caplog.text
    assert "import" in text  # the service does log its work
    for secret in (
        "Петрова",
        "Иванова",
        "petrova@school.ru",
        "ivanova",
        headers["Authorization"][7:],
    ):
        assert secret not in text


def test_a_mentee_waiting_past_30_days_gets_the_last_place_first(
    db: Database, loaded: tuple[TestClient, dict[str, str], dict[str, int]]
) -> None:
    """The regulation wants a mentor within 30 days: the overdue mentee goes before a better pair."""
    client, headers, _ = loaded
    people = client.get("/api/v1/orgs/s1/people", headers=headers).json()
    mentors = [p["id"] for p in people if p["side"] == "mentor"]
    mentees = [p["id"] for p in people if p["side"] == "mentee"]
    fans: dict[int, list[int]] = {}
    for mentee in mentees:
        found = client.get(f"/api/v1/orgs/s1/mentees/{mentee}/suggestions", headers=headers)
        for s in found.json() if found.status_code == 200 else []:
            fans.setdefault(s["mentor_id"], []).append(mentee)
    mentor = next(m for m in mentors if len(fans.get(m, [])) >= 2)
    for other in mentors:  # one free place in the whole school: the chosen mentor's
        limit = {"capacity_limit": 1 if other == mentor else 0}
        url = f"/api/v1/orgs/s1/mentors/{other}/capacity-limit"
        assert client.put(url, json=limit, headers=headers).status_code == 200

    first = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
    [proposal] = first["proposals"]
    favourite = proposal["mentee_id"]
    waiting = next(m for m in fans[mentor] if m != favourite)
    with db.write() as session:  # the favourite joined 5 days ago, the other 40 days ago
        for mentee, days in ((favourite, 5), (waiting, 40)):
            person = session.get(Person, mentee)
            assert person is not None
            person.entered_at = utcnow() - timedelta(days=days)

    second = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
    assert [(p["mentee_id"], p["mentor_id"]) for p in second["proposals"]] == [(waiting, mentor)]
    assert favourite in second["unmatched"]


def test_a_runs_result_names_who_is_left_without_a_pair_and_why(
    loaded: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    client, headers, ids = loaded
    run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
    result = client.get(f"/api/v1/matching-runs/{run['run_id']}", headers=headers)
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["proposed"] == len(run["proposals"])
    why = {u["mentee_id"]: u["reason"] for u in body["unmatched"]}
    assert why[ids["frolov"]] == "no_consent"  # left out of the run, and said so
    assert set(why) == set(run["unmatched"]) | {ids["frolov"]}
    assert all(u["why"] and u["school"] == "Школа s1" for u in body["unmatched"])
    placed = {p["mentor_id"] for p in run["proposals"]}
    for mentor in body["free_mentors"]:
        assert mentor["free"] >= 1
        assert mentor["name"]
    assert ids["nosov"] not in {m["mentor_id"] for m in body["free_mentors"]}  # no consent
    assert placed or body["free_mentors"]
    other = client.get(
        f"/api/v1/matching-runs/{run['run_id']}",
        headers=auth(token(client.app.state.db, "admin", None)),
    )
    assert other.status_code == 200
