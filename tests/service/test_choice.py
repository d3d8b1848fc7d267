"""Choice by link: a mentee ranks suggested mentors (no scores shown) and the next run follows the
first choice; a mentor answers a proposal; the curator sees both and still confirms."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from service.runs.runs import RANK_BONUS
from tests.service.test_participation import EXAMPLES
from tests.service.util import auth, school, settings_for, token


def _link(client: TestClient, headers: dict[str, str], person: object) -> str:
    made = client.post("/api/v1/orgs/s1/invitations", headers=headers,
                       json={"person_id": person, "purpose": "choice"})  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["url"]).rsplit("/p/", 1)[1]


def test_a_mentees_first_choice_leads_the_next_run_and_a_mentor_answers(db: Database) -> None:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = auth(token(db, "curator", "s1"))
        for side in ("mentors", "mentees"):
            client.post(f"/api/v1/orgs/s1/imports/{side}", headers=headers, data={"spec": "teacher"},
                        files={"file": (f"{side}.csv", (EXAMPLES / "teachers" / f"{side}.csv").read_bytes())})  # fmt: skip
        run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
        taken = {p["mentor_id"] for p in run["proposals"]}
        mentors = client.get("/api/v1/orgs/s1/people?side=mentor", headers=headers).json()
        spare = {m["id"] for m in mentors if m["id"] not in taken and m["capacity"]}
        # A mentee whose runner-up is a free mentor close enough for the first choice's bonus.
        chosen = None
        for proposal in run["proposals"]:
            found = client.get(f"/api/v1/orgs/s1/mentees/{proposal['mentee_id']}/suggestions?k=5",
                               headers=headers).json()  # fmt: skip
            for other in found:
                close = proposal["score"] - other["score"] < RANK_BONUS * 0.9
                if (
                    other["mentor_id"] in spare
                    and close
                    and other["mentor_id"] != proposal["mentor_id"]
                ):
                    chosen = (proposal, other)
                    break
            if chosen:
                break
        assert chosen is not None, "the sample has no close runner-up"
        proposal, other = chosen
        link = _link(client, headers, proposal["mentee_id"])
        participant = TestClient(client.app)
        view = participant.get(f"/api/v1/links/{link}/choice").json()
        assert other["mentor_id"] in [s["mentor_id"] for s in view["suggestions"]]
        page = participant.get(f"/p/{link}")
        assert "Выбор наставника" in page.text
        assert "score" not in page.text
        assert all("score" not in s for s in view["suggestions"])  # names and reasons, no scores
        assert f"{other['score']:.3f}" not in page.text
        assert "Место" in page.text
        bad = participant.put(f"/api/v1/links/{link}/ranking", json={"mentor_ids": [999999]})
        assert bad.status_code == 422
        saved = participant.post(f"/p/{link}/ranking", data={f"rank_{other['mentor_id']}": "1"},
                                 follow_redirects=True)  # fmt: skip
        assert "Выбор сохранён" in saved.text
        again = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
        mine = next(p for p in again["proposals"] if p["mentee_id"] == proposal["mentee_id"])
        assert mine["mentor_id"] == other["mentor_id"]
        assert abs(mine["score"] - other["score"]) < 1e-6  # the stored score has no bonus
        # The mentor answers by their link; the curator sees the answer and the rank.
        mentor_link = _link(client, headers, other["mentor_id"])
        offered = participant.get(f"/api/v1/links/{mentor_link}/choice").json()["proposals"]
        assert [p["proposal_id"] for p in offered] == [mine["proposal_id"]]
        answered = participant.post(
            f"/api/v1/links/{mentor_link}/proposals/{mine['proposal_id']}/response",
            json={"accepted": False, "note": "нет времени"},
        )
        assert answered.json()["proposals"][0]["accepted"] is False
        seen = next(c for c in client.get("/api/v1/orgs/s1/choices", headers=headers).json()
                    if c["proposal_id"] == mine["proposal_id"])  # fmt: skip
        assert (seen["mentee_rank"], seen["mentor_accepted"]) == (1, False)
        assert client.post(f"/api/v1/proposals/{mine['proposal_id']}/confirm",
                           headers=headers).status_code == 201  # fmt: skip
