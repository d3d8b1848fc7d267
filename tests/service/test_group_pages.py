"""The Russian pages of groups, terms and co-mentors, through the real application."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from service.core.db import Database
from service.core.models import Pair
from tests.service.test_groups import Pupils, _group_of, pupil_school
from tests.service.util import sign_in, token


@pytest.fixture
def pupils(db: Database) -> Iterator[Pupils]:
    with pupil_school(db) as made:
        yield made


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_group_on_the_pages_confirm_replace_term_and_end(pupils: Pupils) -> None:
    client = pupils.client
    sign_in(client, pupils.db, token(pupils.db, "curator", "s1"))
    mentor, group, outside = _group_of(pupils, 2)
    gid = group["group_id"]
    for mentee in outside[:2]:
        pupils.propose(mentee, mentor)
    listed = _text(client.get("/ui/orgs/s1/groups").text)
    assert "Предложенные группы" in listed
    assert "Подтвердить группу" in listed
    # the proposed newcomers join the mentor's group from the page
    answer = client.post(
        "/ui/orgs/s1/groups/confirm",
        data={"mentor_id": str(mentor), "form": "pupil_pupil"},
        follow_redirects=True,
    )
    page = _text(answer.text)
    assert f"Группа № {gid}" in page
    assert "Подтверждено в группе: 2." in page
    assert "Участников: 4 из 10" in page
    # a replacement without a reason is refused, with the field named; nothing changes
    with pupils.db.read() as session:
        members = session.scalars(
            select(Pair.id).where(Pair.group_id == gid, Pair.status == "active")
        ).all()
    candidate = pupils.mentees[-1]
    refused = client.post(
        f"/ui/groups/{gid}/replace",
        data={"pair_id": str(members[0]), "mentee_id": str(candidate), "reason": ""},
    )
    assert refused.status_code == 422
    assert "Причина" in _text(refused.text)
    # the group's term beyond a year: refused with the bounds
    far = (dt.date.today() + dt.timedelta(days=800)).isoformat()
    late = client.post(f"/ui/groups/{gid}/term", data={"planned_end": far, "reason": "продление"})
    assert late.status_code == 422
    assert "от 1 месяца до 1 года" in _text(late.text)
    # the end of the programme without the final surveys: refused, naming who owes them
    term = _text(client.get(f"/ui/pairs/{members[0]}/term").text)
    assert "Нет итоговой анкеты удовлетворённости: наставляемого и наставника" in term
    finish = client.post(f"/ui/pairs/{members[0]}/term/finish")
    assert finish.status_code == 409
    assert "нет итоговой анкеты" in _text(finish.text)
    # the whole group is closed from its page
    ended = client.post(
        f"/ui/groups/{gid}/end", data={"reason": "mentor_request"}, follow_redirects=True
    )
    assert "Группа закрыта: по просьбе наставника." in _text(ended.text)
    assert "Действующих групп пока нет." in _text(client.get("/ui/orgs/s1/groups").text)


def test_a_teacher_forms_group_size_is_refused_on_the_page(pupils: Pupils) -> None:
    sign_in(pupils.client, pupils.db, token(pupils.db, "curator", "s1"))
    answer = pupils.client.post(
        "/ui/orgs/s1/group-limits",
        data={"form": "teacher_teacher", "max_size": "5"},
        follow_redirects=True,
    )
    assert "не больше трёх" in _text(answer.text)
    answer = pupils.client.post(
        "/ui/orgs/s1/group-limits",
        data={"form": "pupil_pupil", "max_size": "12"},
        follow_redirects=True,
    )
    assert "Наибольшая группа в форме «ученик – ученик»: 12." in _text(answer.text)


def test_a_mentees_number_of_mentors_on_the_page(pupils: Pupils) -> None:
    sign_in(pupils.client, pupils.db, token(pupils.db, "curator", "s1"))
    mentee = pupils.mentees[0]
    url = f"/ui/orgs/s1/mentees/{mentee}/demand"
    assert "Нужно наставников одновременно" in _text(pupils.client.get(url).text)
    saved = pupils.client.post(url, data={"demand": "2"}, follow_redirects=True)
    assert "Сохранено: нужно наставников — 2." in _text(saved.text)
    assert pupils.get(f"/orgs/s1/mentees/{mentee}/demand")["demand"] == 2
    wrong = pupils.client.post(url, data={"demand": "7"})
    assert wrong.status_code == 422
    assert "Сколько наставников нужно" in _text(wrong.text)
