"""The participants' walk in a real Chromium: a mentee answers on a phone through the school's
link, consents, a parent consents, the curator runs and confirms, the mentor writes the plan,
both log a meeting, reminders arrive in an SMTP server, and a wrong or expired link is refused."""

from __future__ import annotations

import socket
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest

from service.core.db import Database
from service.core.models import Invitation, utcnow
from tests.service.test_pages import browser, page  # noqa: F401 (fixtures)
from tests.service.test_participation import EXAMPLES
from tests.service.util import PASSWORD, auth, live_server, login_of, school, token

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def db(live_db: Database) -> Database:
    """A live server answers in threads of its own, each request its own transaction."""
    return live_db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Any:
    """A real SMTP server in this process; yields (port, the messages it received)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[Message] = []

    class Keep(MessageHandler):
        def handle_message(self, message: Message) -> None:
            received.append(message)

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def _here(base: str, url: str) -> str:
    """A link as this test's server answers it (links in e-mails start with ``public_url``)."""
    return f"{base}/p/{url.rsplit('/p/', 1)[1]}"


def _subject(message: Message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(str(message["Subject"]))))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(payload)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_participants_take_part_by_their_links(db: Database, browser: Any, smtp: Any) -> None:  # noqa: F811
    import httpx

    port, received = smtp
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    with live_server(db, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none") as base:
        api = httpx.Client(base_url=base, headers=headers, timeout=60)
        api.post("/api/v1/orgs/s1/imports/mentors", data={"spec": "pupil"},
                 files={"file": ("m.csv", (EXAMPLES / "pupils" / "mentors.csv").read_bytes())})  # fmt: skip
        school_link = api.post("/api/v1/orgs/s1/school-links",
                               json={"side": "mentee", "spec": "pupil", "code": "2468"}).json()  # fmt: skip

        # 1. The mentee, on a phone, opens the school's link and answers.
        phone = browser.new_context(locale="ru-RU", **PHONE)
        mentee = phone.new_page()
        mentee.set_default_timeout(15_000)
        mentee.goto(_here(base, school_link["url"]))
        mentee.fill("input[name=code]", "2468")
        mentee.get_by_role("button", name="Открыть анкету").click()
        mentee.fill("input[name='q.person_id']", "У-28-77777")
        mentee.fill("input[name='q.full_name']", "Соколов Артём")
        mentee.check("input[name='q.grade'][value=g7]")
        mentee.fill("input[name='q.age']", "13")
        mentee.check("input[name='q.subjects'][value=math]")
        mentee.check("input[name='q.meeting_format'][value=in_person]")
        mentee.check("input[name='q.free_time'][value=tue_afternoon]")
        mentee.get_by_role("button", name="Сохранить анкету").click()
        alert = mentee.get_by_role("alert").inner_text()
        assert "Чего ты хочешь добиться с наставником?" in alert  # a required answer is missing
        width = mentee.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        mentee.check("input[name='q.goals'][value=grades]")
        mentee.get_by_role("button", name="Сохранить анкету").click()
        assert "Анкета сохранена" in mentee.get_by_role("status").inner_text()
        assert "Соколов Артём" in mentee.locator("#person-name").inner_text()

        # 2. The curator sends the consent links; the mentee and the parent consent.
        person = next(p for p in api.get("/api/v1/orgs/s1/people?side=mentee").json())
        own = api.post("/api/v1/orgs/s1/invitations",
                       json={"person_id": person["id"], "purpose": "consent"}).json()  # fmt: skip
        parent_link = api.post("/api/v1/orgs/s1/invitations", json={
            "person_id": person["id"], "purpose": "parent", "email": "mama@example.ru"}).json()  # fmt: skip
        mentee.goto(_here(base, own["url"]))
        mentee.check("input[name=agree]")
        mentee.get_by_role("button", name="Дать согласие").click()
        assert "согласие записано" in mentee.get_by_role("status").inner_text()
        parent = phone.new_page()
        parent.goto(_here(base, parent_link["url"]))
        assert "Соколов Артём" in parent.content()
        parent.fill("input[name=signer_name]", "Соколова Марина Олеговна")
        assert parent.evaluate("document.documentElement.scrollWidth") <= 390
        parent.check("input[name=agree]")
        parent.get_by_role("button", name="Дать согласие").click()
        assert "согласие записано" in parent.get_by_role("status").inner_text()

        # The mentee ranks the suggested mentors (names and reasons, no scores).
        choice = api.post("/api/v1/orgs/s1/invitations",
                          json={"person_id": person["id"], "purpose": "choice"}).json()  # fmt: skip
        mentee.goto(_here(base, choice["url"]))
        first = mentee.locator("#ranking fieldset").first
        chosen = first.locator("legend").inner_text()
        first.locator("select").select_option("1")
        mentee.get_by_role("button", name="Сохранить выбор").click()
        assert "Выбор сохранён" in mentee.get_by_role("status").inner_text()

        # 3. The curator runs the matching and confirms on the pages.
        curator = browser.new_context(locale="ru-RU").new_page()
        curator.set_default_timeout(30_000)
        curator.goto(f"{base}/login")
        curator.get_by_label("Логин").fill(login_of(db, headers["Authorization"].split()[1]))
        curator.get_by_label("Пароль").fill(PASSWORD)
        curator.get_by_role("button", name="Войти").click()
        api.post("/api/v1/orgs/s1/matching-runs")
        curator.goto(f"{base}/ui/orgs/s1")
        row = curator.locator("#proposals tr[data-proposal]", has_text="Соколов Артём")
        row.get_by_role("button", name="Подтвердить").click()
        assert "Пара подтверждена" in curator.get_by_role("status").inner_text()
        pair = api.get("/api/v1/orgs/s1/pairs").json()[0]
        assert pair["mentor_name"] == chosen  # the first choice
        links = {}
        for side, email in (("mentor", "mentor@example.ru"), ("mentee", "artem@example.ru")):
            links[side] = api.post(
                "/api/v1/orgs/s1/invitations",
                json={
                    "person_id": pair[f"{side}_id"],
                    "purpose": "pair",
                    "pair_id": pair["pair_id"],
                    "email": email,
                },
            ).json()["url"]
            links[side] = _here(base, links[side])  # fmt: skip
        curator.goto(f"{base}/ui/orgs/s1/participation")
        curator.get_by_role("button", name="Поставить в очередь напоминания парам").click()
        assert "Напоминаний поставлено в очередь: 3" in curator.get_by_role("status").inner_text()
        curator.goto(f"{base}/ui/orgs/s1/outbox")
        curator.get_by_role("button", name="Отправить сейчас").click()
        assert "Отправлено: 6" in curator.get_by_role("status").inner_text()

        # 4. The mentor writes the plan; both log a meeting.
        mentor = browser.new_context(locale="ru-RU").new_page()
        mentor.goto(links["mentor"])
        assert "Соколов Артём" in mentor.locator("#partner").inner_text()
        mentor.fill("textarea[name=goals]", "Подтянуть математику до четвёрки")
        mentor.get_by_role("button", name="Сохранить план").click()
        assert "План сохранён" in mentor.get_by_role("status").inner_text()
        mentor.fill("#meeting-form input[name=topic]", "Дроби")
        mentor.fill("#meeting-form textarea[name=note]", "Разобрали дроби")
        mentor.get_by_role("button", name="Записать встречу").click()
        assert "Встреча записана" in mentor.get_by_role("status").inner_text()
        mentee.goto(links["mentee"])
        assert "Подтянуть математику до четвёрки" in mentee.locator("#plan").inner_text()
        mentee.get_by_role("button", name="С планом ознакомлен(а)").click()
        mentee.get_by_label("Ваша заметка").fill("Стало понятнее")
        mentee.get_by_role("button", name="Добавить заметку").click()
        meetings = mentee.locator("#meetings").inner_text()
        assert "Разобрали дроби" in meetings
        assert "Стало понятнее" in meetings
        # Nothing of another person: of the other mentors, no name shows to the mentee.
        others = [p["name"] for p in api.get("/api/v1/orgs/s1/people?side=mentor").json()
                  if p["id"] != pair["mentor_id"]]  # fmt: skip
        assert not [n for n in others if n and n in mentee.content()]

        # Both final reports close the pair.
        mentor.reload()
        mentor.fill("#report-form textarea[name=text]", "Программа выполнена")
        mentor.get_by_role("button", name="Сдать отчёт").click()
        mentee.fill("#report-form textarea[name=text]", "Стало лучше с дробями")
        mentee.get_by_role("button", name="Сдать отчёт").click()
        assert "Итоговый отчёт сдан" in mentee.get_by_role("status").inner_text()
        assert "Пара завершена" in mentee.content()

        # 5. What arrived in the mail server.
        subjects = sorted(_subject(m) for m in received)
        to = {str(m["To"]) for m in received}
        assert "Пара наставничества подтверждена" in subjects
        assert "Нужен план работы пары" in subjects
        assert {"mama@example.ru", "mentor@example.ru", "artem@example.ru"} <= to
        plan_mail = next(m for m in received if _subject(m) == "Нужен план работы пары")
        assert str(plan_mail["To"]) == "mentor@example.ru"
        assert "/p/" in _body(plan_mail)

        # 6. A changed link and an expired one are refused in Russian, naming no one.
        mentee.goto(links["mentee"][:-3] + "abc")
        assert "Ссылка не открывается" in mentee.get_by_role("alert").inner_text()
        with db.write() as session:
            stored = session.get(Invitation, own["invitation_id"])
            assert stored is not None
            stored.expires_at = utcnow() - timedelta(seconds=1)
        answer = mentee.goto(_here(base, own["url"]))
        assert answer is not None
        assert answer.status == 410
        assert "Срок действия ссылки истёк" in mentee.get_by_role("alert").inner_text()
        assert "Соколов" not in mentee.content()
        phone.close()
