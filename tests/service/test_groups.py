"""Groups, co-mentors and terms through the real HTTP API, on SQLite and PostgreSQL.

A pupil school is imported from the sample exports (``examples/pupils``); its mentors' places are
raised to ten, as a school's pupil mentors leading groups would answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.app import create_app
from service.core.db import Database
from service.core.models import MentorGroup, Pair, PairChange, Person, Proposal
from tests.service.util import auth, org_id, school, settings_for, token

EXAMPLES = Path(__file__).parents[2] / "examples" / "pupils"


@dataclass
class Pupils:
    client: TestClient
    db: Database
    org: int
    headers: dict[str, str]
    mentors: list[int]
    mentees: list[int]

    def get(self, url: str, status: int = 200) -> Any:
        answer = self.client.get(f"/api/v1{url}", headers=self.headers)
        assert answer.status_code == status, answer.text
        return answer.json()

    def send(self, method: str, url: str, body: object = None, status: int = 200) -> Any:
        answer = self.client.request(method, f"/api/v1{url}", json=body, headers=self.headers)
        assert answer.status_code == status, answer.text
        return answer.json()

    def propose(
        self, mentee: int, mentor: int, form: str = "pupil_pupil", score: float = 0.5
    ) -> int:
        with self.db.write() as session:
            made = Proposal(
                org_id=self.org, mentee_id=mentee, mentor_id=mentor, score=score,
                reasons=["тест"], form=form,
            )  # fmt: skip
            session.add(made)
            session.flush()
            return made.id

    def allowed_mentees(self, mentor: int) -> list[int]:
        """Mentees (with consent) whose suggestions include ``mentor``: allowed by the rules."""
        found = []
        for mentee in self.mentees:
            answer = self.client.get(
                f"/api/v1/orgs/s1/mentees/{mentee}/suggestions?k=50", headers=self.headers
            )
            if answer.status_code == 200 and any(s["mentor_id"] == mentor for s in answer.json()):
                found.append(mentee)
        return found


@pytest.fixture
def pupils(db: Database) -> Iterator[Pupils]:
    with pupil_school(db) as made:
        yield made


@contextmanager
def pupil_school(db: Database) -> Iterator[Pupils]:
    """School s1 with the sample pupil exports imported, every mentor with ten places."""
    school(db, "s1", "m1")
    headers = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        for side in ("mentors", "mentees"):
            answer = client.post(
                f"/api/v1/orgs/s1/imports/{side}",
                files={"file": (f"{side}.csv", (EXAMPLES / f"{side}.csv").read_bytes())},
                data={"spec": "pupil"},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
        org = org_id(db, "s1")
        with db.write() as session:
            session.execute(
                update(Person).where(Person.side == "mentor").values(capacity=10, consent=True)
            )
            session.execute(update(Person).where(Person.side == "mentee").values(consent=True))
            people = session.execute(select(Person.id, Person.side).order_by(Person.id)).all()
        yield Pupils(
            client, db, org, headers,
            [i for i, side in people if side == "mentor"],
            [i for i, side in people if side == "mentee"],
        )  # fmt: skip


def test_a_proposed_group_is_confirmed_at_once_up_to_the_forms_maximum(pupils: Pupils) -> None:
    mentor = pupils.mentors[0]
    for k, mentee in enumerate(pupils.mentees[:5]):
        pupils.propose(mentee, mentor, score=0.9 - k / 10)
    # the school allows groups of three in ученик – ученик
    limit = pupils.send("PUT", "/orgs/s1/group-limits/pupil_pupil", {"max_size": 3})
    assert (limit["max_size"], limit["own"], limit["default"]) == (3, 3, 10)
    proposed = pupils.get("/orgs/s1/proposed-groups")
    assert [
        (g["mentor_id"], g["form"], len(g["proposals"]), g["size_limit"]) for g in proposed
    ] == [(mentor, "pupil_pupil", 5, 3)]
    done = pupils.send(
        "POST", "/orgs/s1/groups/confirm", {"mentor_id": mentor, "form": "pupil_pupil"}
    )
    # the three best are confirmed; the other two are refused, the group being full
    assert [c["mentee_name"] is not None for c in done["confirmed"]] == [True] * 3
    group = done["group"]
    assert (group["size_limit"], group["form_title"]) == (3, "ученик – ученик")
    assert sorted(m["mentee_id"] for m in group["members"]) == sorted(pupils.mentees[:3])
    assert {m["group_id"] for m in group["members"]} == {group["group_id"]}
    assert {r["code"] for r in done["refused"]} == {"group_full"}
    assert all("заполнена" in r["reason"] for r in done["refused"])
    # a fourth member, however proposed, is refused by name
    late = pupils.propose(pupils.mentees[5], mentor)
    refused = pupils.send("POST", f"/proposals/{late}/confirm", status=409)
    assert refused["code"] == "group_full"
    assert "заполнена: в ней 3 из 3" in refused["detail"]
    # the mentor's group is on their own list, and on the school's
    assert [g["group_id"] for g in pupils.get(f"/orgs/s1/mentors/{mentor}/groups")] == [
        group["group_id"]
    ]
    assert [g["group_id"] for g in pupils.get("/orgs/s1/groups")] == [group["group_id"]]
    # raising the maximum gives the group new places
    pupils.send("PUT", "/orgs/s1/group-limits/pupil_pupil", {"max_size": 4})
    again = pupils.propose(pupils.mentees[5], mentor)
    assert (
        pupils.send("POST", f"/proposals/{again}/confirm", status=201)["group_id"]
        == (group["group_id"])
    )
    assert pupils.get(f"/groups/{group['group_id']}")["size_limit"] == 4


def test_a_teacher_form_allows_at_most_three(pupils: Pupils) -> None:
    refused = pupils.send(
        "PUT", "/orgs/s1/group-limits/teacher_teacher", {"max_size": 4}, status=422
    )
    assert "не больше трёх" in refused["detail"]
    limits = {g["form"]: g for g in pupils.get("/orgs/s1/group-limits")}
    assert (limits["teacher_teacher"]["max_size"], limits["pupil_pupil"]["max_size"]) == (3, 10)


def _group_of(pupils: Pupils, size: int) -> tuple[int, dict[str, Any], list[int]]:
    """A mentor's confirmed group of ``size`` mentees allowed by the rules, and the allowed
    mentees left outside it."""
    for mentor in pupils.mentors:
        allowed = pupils.allowed_mentees(mentor)
        if len(allowed) > size:
            for mentee in allowed[:size]:
                pupils.propose(mentee, mentor)
            group = pupils.send(
                "POST", "/orgs/s1/groups/confirm", {"mentor_id": mentor, "form": "pupil_pupil"}
            )["group"]
            if len(group["members"]) == size:
                return mentor, group, allowed[size:]
    raise AssertionError("no mentor allowed with enough mentees in the sample")


def test_replace_one_member_end_one_and_end_the_group(pupils: Pupils) -> None:
    mentor, group, outside = _group_of(pupils, 3)
    gid = group["group_id"]
    leaving = group["members"][0]
    new = pupils.send(
        "POST",
        f"/groups/{gid}/members/{leaving['pair_id']}/replace",
        {"mentee_id": outside[0], "reason": "mentee_request"},
        status=201,
    )
    assert (new["mentor_id"], new["group_id"], new["mentee_id"]) == (mentor, gid, outside[0])
    assert new["planned_end"] == leaving["planned_end"]
    now = pupils.get(f"/groups/{gid}")
    assert sorted(m["mentee_id"] for m in now["members"]) == sorted(
        [outside[0]] + [m["mentee_id"] for m in group["members"][1:]]
    )
    assert [(m["pair_id"], m["end_reason"]) for m in now["former_members"]] == [
        (leaving["pair_id"], "mentee_request")
    ]
    # one member ends; the group goes on
    one = now["members"][0]["pair_id"]
    ended = pupils.send("POST", f"/groups/{gid}/members/{one}/end", {"reason": "transfer"})
    assert ended["status"] == "ended"
    assert pupils.get(f"/groups/{gid}")["status"] == "active"
    # the whole group ends, every member with the reason
    whole = pupils.send("POST", f"/groups/{gid}/end", {"reason": "mentor_request"})
    assert whole["status"] == "ended"
    assert whole["members"] == []
    assert {m["end_reason"] for m in whole["former_members"]} >= {"mentor_request"}
    assert pupils.get("/orgs/s1/groups") == []
    assert [g["group_id"] for g in pupils.get("/orgs/s1/groups?status=ended")] == [gid]


def test_terms_extension_flags_form_change_and_the_end_of_the_programme(
    pupils: Pupils,
) -> None:
    _, group, _ = _group_of(pupils, 2)
    first, second = (m["pair_id"] for m in group["members"])
    start = dt.date.fromisoformat(group["members"][0]["planned_start"])
    assert (
        group["members"][0]["planned_end"]
        == (start + relativedelta(months=9) - dt.timedelta(days=1)).isoformat()  # the form's term
    )
    # beyond a year of the start: refused, with the bounds
    late = pupils.send(
        "POST", f"/pairs/{first}/term",
        {"planned_end": start.replace(year=start.year + 2).isoformat(), "reason": "продление"},
        status=422,
    )  # fmt: skip
    assert "в форме «ученик – ученик» — от 1 мес. до 9 мес." in late["detail"]
    # the group's term moves to ten days from now: both members are flagged as ending
    soon = start + dt.timedelta(days=40)
    moved = pupils.send(
        "POST", f"/groups/{group['group_id']}/term",
        {"planned_end": soon.isoformat(), "reason": "по согласию сторон"},
    )  # fmt: skip
    assert {m["planned_end"] for m in moved["members"]} == {soon.isoformat()}
    with pupils.db.write() as session:  # forty days pass: the term ends in ten days
        for pair in session.scalars(select(Pair).where(Pair.id.in_([first, second]))):
            assert pair.planned_start is not None
            assert pair.planned_end is not None
            pair.planned_start -= dt.timedelta(days=30)
            pair.planned_end -= dt.timedelta(days=30)
    flagged = pupils.get(f"/groups/{group['group_id']}")
    assert (flagged["ending"], flagged["overdue"]) == (2, 0)
    assert {m["term"] for m in flagged["members"]} == {"ending"}
    ending = pupils.get("/orgs/s1/pairs/paged?term=ending")
    assert {p["pair_id"] for p in ending["items"]} == {first, second}
    with pupils.db.write() as session:  # and a month later one of them is overdue
        pair = session.get(Pair, first)
        assert pair is not None
        assert pair.planned_start is not None
        assert pair.planned_end
        pair.planned_start -= dt.timedelta(days=30)
        pair.planned_end -= dt.timedelta(days=30)
    overdue = pupils.get("/orgs/s1/pairs/paged?term=overdue")
    assert [(p["pair_id"], p["term"]) for p in overdue["items"]] == [(first, "overdue")]
    assert overdue["items"][0]["days_left"] < 0
    # the change of form moves the second pair to the mentor's group of the new form
    changed = pupils.send(
        "POST", f"/pairs/{second}/form", {"form": "student_pupil", "reason": "решение сторон"}
    )
    assert changed["form"] == "student_pupil"
    assert changed["group_id"] != group["group_id"]
    history = pupils.get(f"/pairs/{second}/changes")
    assert [(c["kind"], c["new_value"], c["reason"]) for c in history] == [
        ("term", soon.isoformat(), "по согласию сторон"),
        ("form", "student_pupil", "решение сторон"),
    ]
    # the end of the programme asks for each side's final survey, then closes the pair
    asked = pupils.get(f"/pairs/{first}/finish")
    assert (asked["missing_surveys"], asked["finished"]) == (["mentee", "mentor"], False)
    refused = pupils.send("POST", f"/pairs/{first}/finish", status=409)
    assert refused["code"] == "final_survey_missing"
    assert "наставляемого и наставника" in refused["detail"]
    for author in ("mentee", "mentor"):
        pupils.send(
            "POST", f"/pairs/{first}/feedback",
            {"author": author, "kind": "satisfaction", "score": 9}, status=201,
        )  # fmt: skip
    done = pupils.send("POST", f"/pairs/{first}/finish")
    assert (done["finished"], done["pair"]["status"], done["pair"]["end_reason"]) == (
        True, "completed", "completed",
    )  # fmt: skip
    with pupils.db.read() as session:
        assert session.scalar(select(PairChange.user_id).where(PairChange.pair_id == second))


def test_a_mentee_has_up_to_their_demand_of_distinct_mentors(pupils: Pupils) -> None:
    mentee = pupils.mentees[0]
    mentors = pupils.mentors[:3]
    assert pupils.get(f"/orgs/s1/mentees/{mentee}/demand")["demand"] == 1
    first = pupils.send(
        "POST", f"/proposals/{pupils.propose(mentee, mentors[0])}/confirm", status=201
    )
    second = pupils.propose(mentee, mentors[1])
    refused = pupils.send("POST", f"/proposals/{second}/confirm", status=409)
    assert refused["code"] == "mentee_has_pair"
    # the mentee needs two mentors: a second, distinct one is confirmed
    assert pupils.send("PUT", f"/orgs/s1/mentees/{mentee}/demand", {"demand": 2})["demand"] == 2
    again = pupils.propose(mentee, mentors[1])
    made = pupils.send("POST", f"/proposals/{again}/confirm", status=201)
    assert made["mentor_id"] == mentors[1]
    # the same mentor twice, or a third mentor: refused
    same = pupils.send(
        "POST", f"/proposals/{pupils.propose(mentee, mentors[0])}/confirm", status=409
    )
    assert same["code"] == "mentee_has_pair"
    third = pupils.send(
        "POST", f"/proposals/{pupils.propose(mentee, mentors[2])}/confirm", status=409
    )
    assert "уже 2 из 2 наставников" in third["detail"]
    # the demand is not lowered below the active pairs
    below = pupils.send("PUT", f"/orgs/s1/mentees/{mentee}/demand", {"demand": 1}, status=409)
    assert below["code"] == "demand_below_pairs"
    pupils.send("POST", f"/pairs/{first['pair_id']}/end", {"reason": "other"})
    assert (
        pupils.send("PUT", f"/orgs/s1/mentees/{mentee}/demand", {"demand": 1})["pairs"][0][
            "pair_id"
        ]
        == made["pair_id"]
    )
    with pupils.db.read() as session:
        assert session.scalar(select(Pair.mentee_demand).where(Pair.id == made["pair_id"])) == 1
        assert session.scalar(select(MentorGroup.id).where(MentorGroup.mentor_id == mentors[0]))


def test_the_order_lists_a_group_as_one_line_with_its_members(pupils: Pupils) -> None:
    import io

    from docx import Document

    mentor, group, outside = _group_of(pupils, 3)
    single = next(m for m in pupils.mentors if m != mentor)
    pupils.send("POST", f"/proposals/{pupils.propose(outside[0], single)}/confirm", status=201)
    answer = pupils.client.post(
        "/api/v1/orgs/s1/orders",
        json={"number": "7-о", "date": "2024-09-10", "basis": "Положением о наставничестве"},
        headers=pupils.headers,
    )
    assert answer.status_code == 200, answer.text
    document = Document(io.BytesIO(answer.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "О закреплении наставнических пар и групп" in text
    table = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert len(table) == 3  # the heading, the group, the pair
    lines = {row[1].split("\n")[0]: row for row in table[1:]}
    names = {m["mentor_id"]: m["mentor_name"] for m in group["members"]}
    group_line = lines[names[mentor]]
    assert group_line[2].startswith("Группа (3 чел.):")
    for member in group["members"]:
        assert member["mentee_name"] in group_line[2]
    assert group_line[3] == "ученик – ученик (в группе)"
    assert group_line[5] == dt.date.fromisoformat(group["members"][0]["planned_end"]).strftime(
        "%d.%m.%Y"
    )


def test_a_run_proposes_as_many_distinct_mentors_as_a_mentee_needs(pupils: Pupils) -> None:
    """The service passes each mentee's demand to the solver (docs/rules.md#co-mentors)."""
    suggested = {
        m: pupils.get(f"/orgs/s1/mentees/{m}/suggestions?k=50") for m in pupils.mentees[:12]
    }
    mentee = max(suggested, key=lambda m: len(suggested[m]))
    assert len(suggested[mentee]) >= 2
    pupils.send("PUT", f"/orgs/s1/mentees/{mentee}/demand", {"demand": 2})
    run = pupils.send("POST", "/orgs/s1/matching-runs", status=201)
    theirs = [p for p in run["proposals"] if p["mentee_id"] == mentee]
    assert len(theirs) == 2
    assert len({p["mentor_id"] for p in theirs}) == 2
    others = [p["mentee_id"] for p in run["proposals"] if p["mentee_id"] != mentee]
    assert len(others) == len(set(others))  # everyone else: one mentor
    for proposal in theirs:
        pupils.send("POST", f"/proposals/{proposal['proposal_id']}/confirm", status=201)
    # the next run keeps both pairs and proposes this mentee no third mentor
    again = pupils.send("POST", "/orgs/s1/matching-runs", status=201)
    assert [p for p in again["proposals"] if p["mentee_id"] == mentee] == []
