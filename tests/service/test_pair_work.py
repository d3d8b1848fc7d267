"""A pair's work by its two links: plan (and its Word file), meetings with both notes, monthly
feedback, final reports that complete the pair, the curator's flags and the reminders."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import Database
from service.core.models import Pair, utcnow
from tests.service.test_participation import EXAMPLES
from tests.service.util import auth, school, settings_for, token


def _paired(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    for side in ("mentors", "mentees"):
        content = (EXAMPLES / "teachers" / f"{side}.csv").read_bytes()
        client.post(f"/api/v1/orgs/s1/imports/{side}", headers=headers, data={"spec": "teacher"},
                    files={"file": (f"{side}.csv", content)})  # fmt: skip
    run = client.post("/api/v1/orgs/s1/matching-runs", headers=headers).json()
    first = run["proposals"][0]
    made = client.post(f"/api/v1/proposals/{first['proposal_id']}/confirm", headers=headers)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def _link(client: TestClient, headers: dict[str, str], person: object, pair: object) -> str:
    made = client.post("/api/v1/orgs/s1/invitations", headers=headers,
                       json={"person_id": person, "purpose": "pair", "pair_id": pair})  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["url"]).rsplit("/p/", 1)[1]


def test_both_sides_work_by_their_links_and_final_reports_complete_the_pair(db: Database) -> None:
    from docx import Document

    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = auth(token(db, "curator", "s1"))
        pair = _paired(client, headers)
        mentor = _link(client, headers, pair["mentor_id"], pair["pair_id"])
        mentee = _link(client, headers, pair["mentee_id"], pair["pair_id"])
        participant = TestClient(client.app)
        # The mentee cannot write the plan; the mentor writes it from the form's template.
        page = participant.get(f"/p/{mentor}")
        assert page.status_code == 200
        assert str(pair["mentee_name"]) in page.text
        assert "Составить план" in page.text
        today = utcnow().date()
        plan = {"goals": "Освоить формирующее оценивание", "starts_on": str(today),
                "ends_on": str(today + timedelta(days=120)),
                "tasks": [{"title": "Посетить уроки", "due": str(today + timedelta(days=14))}]}  # fmt: skip
        assert participant.put(f"/api/v1/links/{mentee}/plan", json=plan).status_code == 403
        late = dict(plan, tasks=[{"title": "Поздно", "due": str(today + timedelta(days=400))}])
        assert participant.put(f"/api/v1/links/{mentor}/plan", json=late).status_code == 422
        assert participant.put(f"/api/v1/links/{mentor}/plan", json=plan).status_code == 200
        read = participant.post(f"/api/v1/links/{mentee}/plan/acknowledge")
        assert read.status_code == 200
        assert read.json()["acknowledged_at"]
        docx = participant.get(f"/p/{mentee}/plan.docx")
        text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
        assert "Освоить формирующее оценивание" in text
        assert str(pair["mentor_name"]) in text
        # A meeting logged by the mentor, the mentee's note added on the page.
        logged = participant.post(f"/api/v1/links/{mentor}/meetings", json={
            "held_on": str(today), "format": "in_person", "topic": "Разбор урока",
            "note": "Хороший темп"})  # fmt: skip
        assert logged.status_code == 201
        noted = participant.post(f"/p/{mentee}/meetings/{logged.json()['meeting_id']}/note",
                                 data={"note": "Понял, что менять"}, follow_redirects=True)  # fmt: skip
        assert "Хороший темп" in noted.text
        assert "Понял, что менять" in noted.text
        future = participant.post(f"/p/{mentee}/meetings", data={
            "held_on": str(today + timedelta(days=3)), "format": "remote", "topic": "Ещё"})  # fmt: skip
        assert future.status_code == 422
        assert "Дата встречи" in future.text
        assert participant.post(f"/api/v1/links/{mentee}/feedback", json={"score": 9}).json()[
            "feedback_this_month"]  # fmt: skip
        # Each side's final report; the second completes the pair.
        first = participant.post(f"/api/v1/links/{mentor}/final-report", json={"text": "Выполнено"})
        assert first.status_code == 201
        assert client.get("/api/v1/orgs/s1/pairs", headers=headers).json()[0]["status"] == "active"
        again = participant.post(f"/api/v1/links/{mentor}/final-report", json={"text": "Ещё"})
        assert again.status_code == 409
        done = participant.post(f"/p/{mentee}/final-report", data={"text": "Спасибо", "score": "10"},
                                follow_redirects=True)  # fmt: skip
        assert "Итоговый отчёт сдан" in done.text
        closed = next(p for p in client.get("/api/v1/orgs/s1/pairs", headers=headers).json()
                      if p["pair_id"] == pair["pair_id"])  # fmt: skip
        assert closed["status"] == "completed"


def test_the_curator_sees_what_is_missing_and_reminders_are_queued_once(db: Database) -> None:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = auth(token(db, "curator", "s1"))
        pair = _paired(client, headers)
        assert client.get("/api/v1/orgs/s1/participation/flags", headers=headers).json() == []
        queued = client.post("/api/v1/orgs/s1/reminders", headers=headers).json()["queued"]
        assert queued == 3  # pair confirmed to both sides, plan due to the mentor
        assert client.post("/api/v1/orgs/s1/reminders", headers=headers).json()["queued"] == 0
        with db.write() as session:
            stored = session.get(Pair, pair["pair_id"])
            assert stored is not None
            stored.started_at = utcnow() - timedelta(days=40)
        flags = client.get("/api/v1/orgs/s1/participation/flags", headers=headers).json()
        assert flags[0]["missing"] == ["plan", "feedback_mentor", "feedback_mentee"]
        page = client.get("/ui/orgs/s1/participation", headers=headers)
        assert "нет плана: прошло больше 10 дней" in page.text
        assert client.post("/api/v1/orgs/s1/reminders", headers=headers).json()["queued"] == 2
        kinds = [m["kind"] for m in client.get("/api/v1/orgs/s1/outbox", headers=headers).json()]
        assert sorted(kinds) == sorted(["pair_confirmed", "pair_confirmed", "plan_due",
                                        "feedback_due", "feedback_due"])  # fmt: skip
        client.post(f"/api/v1/pairs/{pair['pair_id']}/end", headers=headers,
                    json={"reason": "completed"})  # fmt: skip
        flags = client.get("/api/v1/orgs/s1/participation/flags", headers=headers).json()
        assert flags[0]["missing"] == ["final_report_mentor", "final_report_mentee"]
        assert client.post("/api/v1/orgs/s1/reminders", headers=headers).json()["queued"] == 2


def test_a_link_opens_its_own_pair_and_purpose_only(db: Database) -> None:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = auth(token(db, "curator", "s1"))
        pair = _paired(client, headers)
        mentor = _link(client, headers, pair["mentor_id"], pair["pair_id"])
        questionnaire = client.post("/api/v1/orgs/s1/invitations", headers=headers, json={
            "person_id": pair["mentee_id"], "purpose": "questionnaire"}).json()["url"]  # fmt: skip
        participant = TestClient(client.app)
        wrong = participant.get(f"/api/v1/links/{questionnaire.rsplit('/p/', 1)[1]}/pair")
        assert wrong.status_code == 403
        assert participant.get(f"/api/v1/links/{mentor}/questionnaire").status_code == 403
        # Not in this pair: a person's pair link names their own pair only.
        others = [p for p in client.get("/api/v1/orgs/s1/people?side=mentor", headers=headers).json()
                  if p["id"] != pair["mentor_id"]]  # fmt: skip
        refused = client.post("/api/v1/orgs/s1/invitations", headers=headers, json={
            "person_id": others[0]["id"], "purpose": "pair", "pair_id": pair["pair_id"]})  # fmt: skip
        assert refused.status_code == 422
        # Another pair's meeting cannot be annotated through this link.
        assert participant.post(f"/api/v1/links/{mentor}/meetings/999999/note",
                                json={"note": "x"}).status_code == 404  # fmt: skip
        # The link's answers carry nobody else's name.
        seen = participant.get(f"/api/v1/links/{mentor}/pair").text
        names = [p["name"] for p in client.get("/api/v1/orgs/s1/people", headers=headers).json()
                 if p["id"] not in (pair["mentor_id"], pair["mentee_id"])]  # fmt: skip
        assert not [n for n in names if n and n in seen]
