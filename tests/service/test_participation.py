"""Participants' own links through the real application: questionnaires, consents, refusals,
limits and the outbox (a real SMTP server in-process)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.core.db import Database
from service.core.models import Answers, Consent, ConsentEvidence, Invitation, Person, utcnow
from tests.service.util import auth, org_id, proposal, school, settings_for, token

EXAMPLES = Path(__file__).parents[2] / "examples"


@dataclass
class Site:
    client: TestClient
    db: Database
    headers: dict[str, str]

    def upload(self, side: str, spec: str) -> None:
        content = EXAMPLES / ("teachers" if spec == "teacher" else "pupils") / f"{side}.csv"
        response = self.client.post(
            f"/api/v1/orgs/s1/imports/{side}",
            files={"file": (f"{side}.csv", content.read_bytes())},
            data={"spec": spec},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text

    def people(self) -> list[dict[str, object]]:
        return self.client.get("/api/v1/orgs/s1/people", headers=self.headers).json()  # type: ignore[no-any-return]

    def invite(self, person_id: int, purpose: str, **body: object) -> dict[str, object]:
        response = self.client.post(
            "/api/v1/orgs/s1/invitations",
            json={"person_id": person_id, "purpose": purpose, **body},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        yield Site(client, db, auth(token(db, "curator", "s1")))


def _token(link: dict[str, object]) -> str:
    return str(link["url"]).rsplit("/p/", 1)[1]


def test_a_mentee_answers_by_link_validated_and_stored_as_an_import(site: Site) -> None:
    site.upload("mentees", "teacher")
    mentee = site.people()[0]
    link = _token(site.invite(int(mentee["id"]), "questionnaire"))  # type: ignore[call-overload]
    client = TestClient(site.client.app)  # no token, no cookie: the link is all it has
    page = client.get(f"/p/{link}")
    assert page.status_code == 200
    assert mentee["name"] in page.text
    assert "Кто вы в программе наставничества?" in page.text
    # Another mentee's name never shows.
    assert all(p["name"] not in page.text for p in site.people() if p["id"] != mentee["id"])
    view = client.get(f"/api/v1/links/{link}/questionnaire").json()
    answers = dict(view["answers"])
    answers["experience"] = "сто"
    bad = client.put(f"/api/v1/links/{link}/answers", json=answers)
    assert bad.status_code == 422
    assert any(e["column"] == "Педагогический стаж (лет)" for e in bad.json()["errors"])
    answers["experience"] = 2
    good = client.put(f"/api/v1/links/{link}/answers", json=answers)
    assert good.status_code == 200, good.text
    with site.db.read() as session:
        person = session.get(Person, mentee["id"])
        assert person is not None
        assert person.version == 2
        stored = session.scalar(
            select(Answers.records).where(Answers.person_id == person.id, Answers.version == 2)
        )
        assert stored is not None
        assert stored["experience"] == 2
    # The page form: a wrong number shows every problem, nothing stored.
    fields = {"q.status": "young", "q.subjects": "math", "q.experience": "-3",
              "q.meeting_format": "in_person", "q.full_name": "Новое Имя"}  # fmt: skip
    shown = client.post(f"/p/{link}/answers", data=fields)
    assert shown.status_code == 422
    assert "Анкета не сохранена" in shown.text
    fields["q.experience"] = "4"
    saved = client.post(f"/p/{link}/answers", data=fields, follow_redirects=True)
    assert saved.status_code == 200
    assert "Анкета сохранена" in saved.text
    assert next(p for p in site.people() if p["id"] == mentee["id"])["name"] == "Новое Имя"
    # Until the run: once a proposal names the mentee, the answers are closed.
    mentor = next(p for p in site.people() if p["side"] == "mentee" and p["id"] != mentee["id"])
    proposal(site.db, org_id(site.db, "s1"), int(mentee["id"]), int(mentor["id"]))  # type: ignore[call-overload]
    closed = client.put(f"/api/v1/links/{link}/answers", json=answers)
    assert closed.status_code == 409
    assert "нельзя изменить" in closed.json()["detail"]


def test_expired_foreign_revoked_and_changed_links_are_refused_in_russian(site: Site) -> None:
    site.upload("mentees", "teacher")
    first, second = site.people()[:2]
    consent_link = _token(site.invite(int(first["id"]), "consent"))  # type: ignore[call-overload]
    client = TestClient(site.client.app)
    # A consent link does not open the questionnaire.
    wrong = client.get(f"/api/v1/links/{consent_link}/questionnaire")
    assert wrong.status_code == 403
    assert "для другого" in wrong.json()["detail"]
    # A changed link.
    changed = client.get(f"/p/{consent_link[:-2]}xy")
    assert changed.status_code == 403
    assert "Ссылка не открывается" in changed.text
    assert str(first["name"]) not in changed.text
    # An expired one.
    link = site.invite(int(second["id"]), "questionnaire", days=1)  # type: ignore[call-overload]
    with site.db.write() as session:
        invitation = session.get(Invitation, link["invitation_id"])
        assert invitation is not None
        invitation.expires_at = utcnow() - timedelta(minutes=1)
    expired = client.get(f"/p/{_token(link)}")
    assert expired.status_code == 410
    assert "Срок действия ссылки истёк" in expired.text
    assert str(second["name"]) not in expired.text
    # A revoked one.
    revoked = site.client.post(
        f"/api/v1/orgs/s1/invitations/{site.invite(int(second['id']), 'consent')['invitation_id']}/revoke",  # type: ignore[call-overload]
        headers=site.headers,
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]


def test_repeated_failures_from_one_address_are_limited(db: Database) -> None:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db, link_failures=3), db)) as client:
        answers = [client.get(f"/p/guess{i}").status_code for i in range(5)]
    assert answers == [403, 403, 403, 429, 429]


def test_a_school_link_with_a_code_creates_new_people_only(site: Site) -> None:
    site.upload("mentees", "teacher")
    created = site.client.post(
        "/api/v1/orgs/s1/school-links",
        json={"side": "mentee", "code": "7788"},
        headers=site.headers,
    ).json()
    link, client = _token(created), TestClient(site.client.app)
    assert client.post(f"/p/{link}/code", data={"code": "1111"}).status_code == 403
    form = client.post(f"/p/{link}/code", data={"code": "7788"})
    assert form.status_code == 200
    assert "Адрес электронной почты" in form.text
    fields = {"code": "7788", "q.person_id": "new@school.example", "q.full_name": "Новикова Н. Н.",
              "q.status": "young", "q.subjects": ["math", "physics"], "q.experience": "1",
              "q.meeting_format": "in_person", "q.difficulties.methods": "always",
              "q.free_time": ["mon_evening", "thu_evening"]}  # fmt: skip
    saved = client.post(f"/p/{link}/answers", data=fields, follow_redirects=True)
    assert saved.status_code == 200, saved.text
    assert "Анкета сохранена" in saved.text
    assert "Новикова Н. Н." in saved.text  # now the person's own link
    new = next(p for p in site.people() if p["external_id"] == "new@school.example")
    assert new["consent"] is False  # consent is given on its own page
    known = dict(fields, **{"q.person_id": str(site.people()[0]["external_id"])})
    again = client.post(f"/p/{link}/answers", data=known)
    assert again.status_code == 422
    assert "личную ссылку" in again.text


def test_consent_and_a_parents_consent_by_link_with_evidence_and_withdrawal(site: Site) -> None:
    site.upload("mentees", "pupil")
    minor = next(p for p in site.people() if not p["consent"])
    client = TestClient(site.client.app)
    own = _token(site.invite(int(minor["id"]), "consent"))  # type: ignore[call-overload]
    parent = _token(site.invite(int(minor["id"]), "parent"))  # type: ignore[call-overload]
    unread = client.post(f"/p/{own}/consent", data={"decision": "give"})
    assert unread.status_code == 422
    assert "прочитали текст" in unread.text
    given = client.post(f"/p/{own}/consent", data={"decision": "give", "agree": "yes"},
                        follow_redirects=True)  # fmt: skip
    assert "согласие записано" in given.text
    nameless = client.post(f"/api/v1/links/{parent}/consent", json={"given": True, "agree": True})
    assert nameless.status_code == 422
    signed = client.post(f"/api/v1/links/{parent}/consent",
                         json={"given": True, "agree": True, "signer_name": "Иванова Анна"})  # fmt: skip
    assert signed.status_code == 200
    assert signed.json()["given"] is True
    assert next(p for p in site.people() if p["id"] == minor["id"])["consent"] is True
    with site.db.read() as session:
        evidence = session.execute(
            select(Consent.kind, Consent.source, ConsentEvidence.signer_name,
                   ConsentEvidence.text_version, ConsentEvidence.ip)
            .join(ConsentEvidence, ConsentEvidence.consent_id == Consent.id)
            .where(Consent.person_id == minor["id"]).order_by(Consent.id)
        ).all()  # fmt: skip
    assert [(k, s, n) for k, s, n, _, _ in evidence] == [
        ("participant", "link", None), ("parent", "link", "Иванова Анна")]  # fmt: skip
    assert all(v.startswith("2026-12") and ip for _, _, _, v, ip in evidence)
    withdrawn = client.post(f"/p/{parent}/consent", data={"decision": "withdraw",
                            "signer_name": "Иванова Анна"}, follow_redirects=True)  # fmt: skip
    assert "Согласие отозвано" in withdrawn.text
    assert next(p for p in site.people() if p["id"] == minor["id"])["consent"] is False


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_outbox_sends_through_a_real_smtp_server_and_records_it(db: Database) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[object] = []

    class Keep(MessageHandler):
        def handle_message(self, message: object) -> None:
            received.append(message)

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        school(db, "s1", "m1")
        settings = settings_for(db, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none")
        with TestClient(create_app(settings, db)) as client:
            headers = auth(token(db, "curator", "s1"))
            client.post("/api/v1/orgs/s1/imports/mentees", headers=headers, data={"spec": "teacher"},
                        files={"file": ("m.csv", (EXAMPLES / "teachers" / "mentees.csv").read_bytes())})  # fmt: skip
            person = client.get("/api/v1/orgs/s1/people", headers=headers).json()[0]
            link = client.post("/api/v1/orgs/s1/invitations", headers=headers,
                               json={"person_id": person["id"], "purpose": "consent"}).json()  # fmt: skip
            done = client.post("/api/v1/orgs/s1/outbox/deliver", headers=headers).json()
            assert done["sent"] == 1
            sent = client.get("/api/v1/orgs/s1/outbox", headers=headers).json()
            assert [(m["status"], m["to_address"]) for m in sent] == [
                ("sent", person["external_id"])]  # fmt: skip
    finally:
        controller.stop()
    assert len(received) == 1
    mail = received[0]
    body = mail.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    assert mail["To"] == person["external_id"]  # type: ignore[index]
    assert "согласие" in str(mail["Subject"]).lower() or "согласие" in body  # type: ignore[index]
    assert re.search(r"/p/\S+", body)
    assert link["url"] in body


def test_without_a_mail_server_messages_are_only_shown_and_failures_retry(db: Database) -> None:
    school(db, "s1", "m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = auth(token(db, "curator", "s1"))
        client.post("/api/v1/orgs/s1/imports/mentees", headers=headers, data={"spec": "teacher"},
                    files={"file": ("m.csv", (EXAMPLES / "teachers" / "mentees.csv").read_bytes())})  # fmt: skip
        person = client.get("/api/v1/orgs/s1/people", headers=headers).json()[0]
        client.post("/api/v1/orgs/s1/invitations", headers=headers,
                    json={"person_id": person["id"], "purpose": "questionnaire"})  # fmt: skip
        assert client.post("/api/v1/orgs/s1/outbox/deliver", headers=headers).json()["shown"] == 1
        page = client.get("/ui/orgs/s1/outbox", headers=headers)
        assert "Почтовый сервер не настроен" in page.text
        assert "Анкета программы" in page.text
    closed = settings_for(db, smtp_host="127.0.0.1", smtp_port=1, smtp_tls="none")
    with TestClient(create_app(closed, db)) as client:
        client.post("/api/v1/orgs/s1/invitations", headers=headers,
                    json={"person_id": person["id"], "purpose": "consent"})  # fmt: skip
        done = client.post("/api/v1/orgs/s1/outbox/deliver", headers=headers).json()
        assert done["retried"] == 1
        queued = client.get("/api/v1/orgs/s1/outbox", headers=headers).json()[0]
        assert queued["status"] == "queued"
        assert queued["attempts"] == 1
        # port 1 of this machine refuses: the curator reads why in Russian, not the library's text
        assert queued["last_error"] == "почтовый сервер недоступен: сервер отказал в соединении"
