"""Feedback and the satisfaction questionnaire through the API, and how they reach the report."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core import rules
from service.core.db import Database
from service.monitoring import surveys
from service.monitoring.surveys import SATISFACTION_ITEMS, check_response
from service.people import questionnaires
from service.ui import forms
from tests.service.util import auth, org_id, person, proposal, school, settings_for, token

ITEMS = dict(zip(SATISFACTION_ITEMS, [9, 9, 8, 8, 10, 9], strict=True))  # mean 8.833...


@pytest.fixture
def pair(db: Database) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    school(db, "s1", "m1")
    org = org_id(db, "s1")
    mentee, mentor = person(db, org, "mentee", "e1"), person(db, org, "mentor", "m1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        made = client.post(
            f"/api/v1/proposals/{proposal(db, org, mentee, mentor)}/confirm", headers=headers
        )
        yield client, headers, made.json()["pair_id"]


def _post(client: TestClient, headers: dict[str, str], pair_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/pairs/{pair_id}/feedback", json=body, headers=headers)


def test_the_questionnaire_items_reach_the_report_exactly(
    pair: tuple[TestClient, dict[str, str], int],
) -> None:
    client, headers, pair_id = pair
    answers = ITEMS | {"valuable": "Разбор уроков", "would_continue": True}
    response = _post(
        client, headers, pair_id, author="mentee", kind="satisfaction", answers=answers
    )
    assert response.status_code == 201
    _post(client, headers, pair_id, author="mentor", kind="satisfaction", score=6)
    stored = client.get(f"/api/v1/pairs/{pair_id}/feedback", headers=headers).json()
    assert [(f["author"], f["score"]) for f in stored] == [("mentee", 9), ("mentor", 6)]
    assert stored[0]["answers"] == answers
    satisfaction = client.get("/api/v1/orgs/s1/report", headers=headers).json()["satisfaction"]
    assert satisfaction["mentees"]["percent"] == 88.3  # the mean of the items, not the rounded 9
    assert satisfaction["mentees"]["meets_target"] is True
    assert satisfaction["mentors"]["percent"] == 60.0
    survey = client.get("/api/v1/surveys/satisfaction").json()
    assert list(survey["items"]) == list(SATISFACTION_ITEMS)


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"kind": "satisfaction", "answers": {"effectiveness": 9}}, 5),  # five items missing
        ({"kind": "satisfaction", "answers": ITEMS | {"comfort": 0, "mood": 3}}, 2),
        ({"kind": "satisfaction", "answers": ITEMS | {"would_continue": "да"}}, 1),
        ({"kind": "satisfaction", "answers": ITEMS | {"support": True}}, 1),
        ({"kind": "satisfaction"}, 1),
        ({"kind": "feedback"}, 1),
        ({"kind": "feedback", "score": 7, "answers": {"comfort": 7}}, 1),
    ],
)
def test_a_bad_response_names_every_problem_and_stores_nothing(
    pair: tuple[TestClient, dict[str, str], int], body: dict[str, Any], problems: int
) -> None:
    client, headers, pair_id = pair
    response = _post(client, headers, pair_id, author="mentee", **body)
    assert response.status_code == 422
    assert response.json()["detail"] == f"Ответ не сохранён: проблем — {problems}."
    assert len(response.json()["errors"]) == problems
    assert all(e["message"] for e in response.json()["errors"])
    assert client.get(f"/api/v1/pairs/{pair_id}/feedback", headers=headers).json() == []


def test_the_stored_score_of_the_items_is_their_rounded_mean() -> None:
    assert check_response("satisfaction", None, ITEMS).score == 9
    assert check_response("satisfaction", 4, ITEMS).score == 4  # a given score is kept
    low = dict.fromkeys(SATISFACTION_ITEMS, 1)
    assert check_response("satisfaction", None, low).score == 1
    assert surveys.satisfaction_value(None, ITEMS) == pytest.approx(53 / 6)
    assert surveys.satisfaction_value(7, {}) == 7.0


@pytest.mark.parametrize("module", [forms, questionnaires, rules])
def test_the_examples_in_the_docstrings_run(module: Any) -> None:
    result = doctest.testmod(module)
    assert (result.failed, result.attempted > 0) == (0, True)
