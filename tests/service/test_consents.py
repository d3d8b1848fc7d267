"""Consents through the real API: whose, when, what a paper record changes and what it leaves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.core.db import Database
from service.core.models import AuditEvent, Consent, Proposal
from tests.service.util import auth, org_id, person, proposal, school, settings_for, token

DATA = Path(__file__).with_name("data")
PUPILS = Path(__file__).parents[2] / "examples" / "pupils" / "mentees.csv"


@dataclass
class Api:
    client: TestClient
    db: Database
    headers: dict[str, str]

    def upload(self, side: str, content: bytes, spec: str = "teacher") -> dict[str, int]:
        response = self.client.post(
            f"/api/v1/orgs/s1/imports/{side}",
            files={"file": (f"{side}.csv", content)},
            data={"spec": spec},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def ids(self) -> dict[str, int]:
        people = self.client.get("/api/v1/orgs/s1/people", headers=self.headers).json()
        return {p["external_id"].split("@")[0]: p["id"] for p in people}

    def consent(self, person_id: int, **body: object) -> dict[str, object]:
        response = self.client.post(
            f"/api/v1/orgs/s1/people/{person_id}/consent", json=body, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def consented(self, person_id: int) -> bool:
        people = self.client.get("/api/v1/orgs/s1/people", headers=self.headers).json()
        return next(p["consent"] for p in people if p["id"] == person_id)  # type: ignore[no-any-return]


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        yield Api(client, db, auth(token(db, "curator", "s1")))


def _count(db: Database, what: object, *where: object) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(what)  # type: ignore[arg-type]
        return int(session.scalar(query.where(*where)) or 0)  # type: ignore[arg-type]


def test_a_paper_consent_makes_a_person_matchable_and_an_old_export_does_not_undo_it(
    api: Api,
) -> None:
    for side in ("mentors", "mentees"):
        api.upload(side, (DATA / f"{side}.csv").read_bytes())
    frolov = api.ids()["frolov"]  # answered "нет" to the consent question
    url = f"/api/v1/orgs/s1/mentees/{frolov}/suggestions"
    assert api.client.get(url, headers=api.headers).json()["code"] == "no_consent"

    given = api.consent(frolov, given=True, signed_on="2024-09-10")
    assert given | {"superseded": [], "pairs_to_decide": []} == {
        "person_id": frolov, "kind": "participant", "given": True, "signed_on": "2024-09-10",
        "consent": True, "superseded": [], "pairs_to_decide": [],
    }  # fmt: skip
    # The hard rules of features see the paper consent too: suggestions and runs include him.
    suggested = api.client.get(url, headers=api.headers).json()
    assert suggested[0]["mentor_id"] == api.ids()["petrova"]
    run = api.client.post("/api/v1/orgs/s1/matching-runs", headers=api.headers).json()
    assert run["without_consent"] == 0
    assert frolov in {p["mentee_id"] for p in run["proposals"]} | set(run["unmatched"])

    # The same export uploaded again still says "нет": it must not undo the paper record...
    again = api.upload("mentees", (DATA / "mentees.csv").read_bytes())
    assert (again["updated"], again["unchanged"]) == (0, 4)
    assert api.consented(frolov)
    # ... nor a withdrawal on paper.
    assert api.consent(frolov, given=False)["consent"] is False
    api.upload("mentees", (DATA / "mentees.csv").read_bytes())
    assert not api.consented(frolov)
    # A new answer of the questionnaire is newer than the paper: it counts.
    lines = (DATA / "mentees.csv").read_text().splitlines()
    lines[4] = lines[4].removesuffix(";нет") + ";да"
    changed = api.upload("mentees", "\n".join(lines).encode())
    assert changed["updated"] == 1
    assert api.consented(frolov)
    with api.db.read() as session:
        records = session.execute(
            select(Consent.source, Consent.given, Consent.signed_on)
            .where(Consent.person_id == frolov)
            .order_by(Consent.id)
        ).all()
    assert [(source, given) for source, given, _ in records] == [
        ("questionnaire", False), ("curator", True), ("curator", False), ("questionnaire", True)
    ]  # fmt: skip
    assert str(records[1][2]) == "2024-09-10"


def test_withdrawing_supersedes_open_proposals_and_keeps_active_pairs(api: Api) -> None:
    org = org_id(api.db, "s1")
    mentor = person(api.db, org, "mentor", "m", name="Петрова Анна", capacity=3)
    other = person(api.db, org, "mentor", "m2")
    paired, proposed, elsewhere = (person(api.db, org, "mentee", f"e{i}") for i in range(3))
    pair = api.client.post(
        f"/api/v1/proposals/{proposal(api.db, org, paired, mentor)}/confirm", headers=api.headers
    ).json()["pair_id"]
    open_one = proposal(api.db, org, proposed, mentor)
    kept = proposal(api.db, org, elsewhere, other)

    withdrawn = api.consent(mentor, given=False, signed_on="2024-10-01")
    assert (withdrawn["consent"], withdrawn["superseded"], withdrawn["pairs_to_decide"]) == (
        False, [open_one], [pair]
    )  # fmt: skip
    open_now = api.client.get("/api/v1/orgs/s1/proposals", headers=api.headers).json()
    assert [p["proposal_id"] for p in open_now] == [kept]
    refused = api.client.post(f"/api/v1/proposals/{open_one}/confirm", headers=api.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "no_consent")
    # The active pair is not ended behind the curator's back: it is kept and flagged.
    [active] = api.client.get("/api/v1/orgs/s1/pairs", headers=api.headers).json()
    assert (active["status"], active["missing_consent"]) == ("active", ["mentor"])
    load = api.client.get("/api/v1/orgs/s1/report", headers=api.headers).json()["mentor_load"]
    assert (load["over_capacity"], load["without_consent"]) == (0, 1)
    with api.db.read() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.entity_id) == ("consent", mentor)
    assert event.detail["superseded"] == [open_one]
    assert "Петрова" not in str(event.detail)

    assert api.consent(mentor, given=True)["consent"] is True
    [active] = api.client.get("/api/v1/orgs/s1/pairs", headers=api.headers).json()
    assert active["missing_consent"] == []
    with api.db.read() as session:
        assert session.get_one(Proposal, open_one).status == "superseded"  # a new run proposes


def test_a_run_leaves_out_a_mentor_who_withdrew_and_keeps_their_pair(api: Api) -> None:
    for side in ("mentors", "mentees"):
        api.upload(side, (DATA / f"{side}.csv").read_bytes())
    ids = api.ids()
    made = api.client.post(
        "/api/v1/orgs/s1/proposals",
        json={"mentee_id": ids["ivanova"], "mentor_id": ids["petrova"]},
        headers=api.headers,
    ).json()
    pair = api.client.post(
        f"/api/v1/proposals/{made['proposal_id']}/confirm", headers=api.headers
    ).json()["pair_id"]
    api.consent(ids["petrova"], given=False)
    run = api.client.post("/api/v1/orgs/s1/matching-runs", headers=api.headers).json()
    assert ids["petrova"] not in {p["mentor_id"] for p in run["proposals"]}
    assert ids["ivanova"] not in {p["mentee_id"] for p in run["proposals"]}
    assert run["kept"] == [pair]
    url = f"/api/v1/orgs/s1/mentees/{ids['kozlov']}/suggestions"
    assert ids["petrova"] not in {
        s["mentor_id"] for s in api.client.get(url, headers=api.headers).json()
    }


def test_a_minor_needs_a_parents_consent_too(api: Api) -> None:
    api.upload("mentees", PUPILS.read_bytes(), spec="pupil")
    ids = api.ids()
    minor, adult = ids["У-28-00007"], ids["У-28-00036"]  # 15 without a parent's consent; 18
    assert not api.consented(minor)
    assert api.consented(adult)
    own = api.consent(minor, given=True)  # the pupil's own consent is not enough
    assert (own["kind"], own["consent"]) == ("participant", False)
    parent = api.consent(minor, given=True, kind="parent", signed_on="2024-09-02")
    assert (parent["kind"], parent["consent"]) == ("parent", True)
    assert api.consent(minor, given=False, kind="parent")["consent"] is False
    assert api.consent(adult, given=False, kind="parent")["consent"] is True  # not needed


def test_a_consent_the_questionnaire_does_not_ask_or_dated_ahead_writes_nothing(
    api: Api,
) -> None:
    teacher = person(api.db, org_id(api.db, "s1"), "mentee", "e")
    before = (_count(api.db, Consent), _count(api.db, AuditEvent))
    for body, problem in (
        ({"given": True, "kind": "parent"}, "не спрашивает согласия родителя"),
        ({"given": True, "signed_on": "2099-01-01"}, "не может быть позже"),
        ({"given": True, "kind": "neighbour"}, None),
    ):
        response = api.client.post(
            f"/api/v1/orgs/s1/people/{teacher}/consent", json=body, headers=api.headers
        )
        assert response.status_code == 422, body
        if problem:
            assert problem in response.json()["errors"][0]["message"]
    assert (_count(api.db, Consent), _count(api.db, AuditEvent)) == before
    school(api.db, "s2", "m1")
    stranger = person(api.db, org_id(api.db, "s2"), "mentee", "x")
    response = api.client.post(
        f"/api/v1/orgs/s1/people/{stranger}/consent", json={"given": False}, headers=api.headers
    )
    assert response.status_code == 404
