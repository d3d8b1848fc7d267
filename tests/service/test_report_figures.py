"""Every figure of the monitoring report on a small school whose answer is known by hand: the
school's report (API and page), the mentor's school of a virtual pair, and a municipality's
report of both, on both database engines.

The school ``s1``: mentees waiting (one past the 30 days, one again since a pair ended for a
transfer, one who left the programme, one whose answers are not current), paired, without
consent and after a completed programme; mentors full, over a lowered limit, with a pair but
no consent, free, without consent; a virtual pair with a mentor of ``s2``; satisfaction
answers by score and by items, and answers the report leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.app import create_app
from service.core.db import Database
from service.core.models import Feedback, Pair, Person, utcnow
from service.core.rules import satisfaction_target
from tests.service.util import auth, org_id, person, proposal, school, settings_for, sign_in, token

HEAD = {"position": "head"}  # a head teacher: «руководитель ОО – педагог»
STUDENT = {"status": "student"}  # a college student: «работодатель – студент педвуза/колледжа»
ITEMS = {"effectiveness": 8, "comfort": 7, "usefulness": 8, "clarity": 7, "support": 8,
         "joint_work": 7}  # fmt: skip


@dataclass
class Report:
    client: TestClient
    db: Database
    ids: dict[str, int]
    tokens: dict[str, str]

    def get(self, url: str, code: str = "s1") -> Any:
        answer = self.client.get(url, headers=auth(self.tokens[code]))
        assert answer.status_code == 200, answer.text
        return answer.json()


def _set(db: Database, model: Any, id_: int, **values: Any) -> None:
    with db.write() as session:
        session.execute(update(model).where(model.id == id_).values(**values))


@pytest.fixture
def known(db: Database) -> Iterator[Report]:
    for code in ("s1", "s2"):
        school(db, code, "Армавир")
    s1, s2 = org_id(db, "s1"), org_id(db, "s2")
    ids = {
        "e1": person(db, s1, "mentee", "e1"),
        "e2": person(db, s1, "mentee", "e2", records=STUDENT),
        "e3": person(db, s1, "mentee", "e3", consent=False, records=STUDENT),
        "e4": person(db, s1, "mentee", "e4"),
        "e5": person(db, s1, "mentee", "e5"),
        "e6": person(db, s1, "mentee", "e6"),
        "e7": person(db, s1, "mentee", "e7"),
        "e8": person(db, s1, "mentee", "e8"),
        "e9": person(db, s1, "mentee", "e9", records=STUDENT),
        "e10": person(db, s1, "mentee", "e10"),
        "e11": person(db, s1, "mentee", "e11"),
        "m1": person(db, s1, "mentor", "m1", capacity=1),
        "m2": person(db, s1, "mentor", "m2", capacity=3),
        "m3": person(db, s1, "mentor", "m3", capacity=2),
        "m4": person(db, s1, "mentor", "m4", records=HEAD),
        "m5": person(db, s1, "mentor", "m5", consent=False),
        "x1": person(db, s2, "mentor", "x1", capacity=2),
        "y1": person(db, s2, "mentee", "y1"),
    }
    tokens = {code: token(db, "curator", code) for code in ("s1", "s2")}
    tokens["coordinator"] = token(db, "coordinator", None, municipality="Армавир")
    with TestClient(create_app(settings_for(db), db), follow_redirects=False) as client:
        report = Report(client, db, ids, tokens)
        pairs = {}
        for mentee, mentor, reason in (
            ("e1", "m1", None), ("e4", "m2", "completed"), ("e5", "m2", "transfer"),
            ("e7", "m2", None), ("e10", "m2", None), ("e11", "m3", None), ("e8", "x1", None),
        ):  # fmt: skip
            made = proposal(db, s1, ids[mentee], ids[mentor])
            confirmed = client.post(f"/api/v1/proposals/{made}/confirm", headers=auth(tokens["s1"]))
            assert confirmed.status_code == 201, confirmed.text
            pairs[mentee] = confirmed.json()["pair_id"]
            if reason:
                ended = client.post(
                    f"/api/v1/pairs/{pairs[mentee]}/end",
                    json={"reason": reason},
                    headers=auth(tokens["s1"]),
                )
                assert ended.status_code == 200, ended.text
        # e6 leaves the programme: they wait for nobody, in the report as on the waiting list
        archived = client.post(
            f"/api/v1/orgs/s1/people/{ids['e6']}/archive", headers=auth(tokens["s1"])
        )
        assert archived.status_code == 200, archived.text
        now = utcnow()
        for name, days in (("e1", 50), ("e2", 40), ("e5", 100), ("e6", 5), ("e9", 3)):
            _set(db, Person, ids[name], entered_at=now - timedelta(days=days, hours=1))
        _set(db, Pair, pairs["e5"], ended_at=now - timedelta(days=12, hours=1))
        _set(db, Person, ids["e9"], version=2)  # answers of a version not stored: not current
        _set(db, Person, ids["m2"], capacity_limit=1)  # two active pairs over a limit of one
        _set(db, Person, ids["m3"], consent=False)  # withdrew, their pair awaits a decision
        with db.write() as session:
            session.add_all([
                Feedback(pair_id=pairs["e1"], author="mentee", kind="satisfaction", score=9),
                Feedback(pair_id=pairs["e1"], author="mentor", kind="satisfaction",
                         answers=ITEMS),
                Feedback(pair_id=pairs["e4"], author="mentee", kind="satisfaction", score=6),
                Feedback(pair_id=pairs["e8"], author="mentor", kind="satisfaction", score=10),
                Feedback(pair_id=pairs["e7"], author="mentee", kind="feedback", score=2),
                Feedback(pair_id=pairs["e7"], author="mentee", kind="satisfaction"),
            ])  # fmt: skip
        yield report


TEACHERS = "педагог – педагог"
STUDENTS = "работодатель – студент педвуза/колледжа"


def _target() -> float:
    return satisfaction_target(utcnow().year)


def _satisfaction(responses: int, percent: float | None) -> dict[str, Any]:
    target = _target()
    return {
        "responses": responses,
        "percent": percent,
        "target": target,
        "meets_target": None if percent is None else percent >= target,
    }


S1_COVERAGE = {"mentees": 11, "mentees_with_consent": 10, "mentees_with_pair": 5, "share": 0.5}
S1_WAITING = {"mentees": 3, "max_days": 40, "median_days": 12, "over_30_days": 1}
S1_LOAD = {"mentors": 5, "active_pairs": 5, "full": 2, "over_capacity": 1, "without_consent": 1}


def test_the_school_report_gives_every_figure(known: Report) -> None:
    r, ids = known, known.ids
    report = r.get("/api/v1/orgs/s1/report")
    assert report["org"] == "s1"
    assert report["coverage"] == S1_COVERAGE
    assert report["waiting"] == S1_WAITING
    # the same mentees as the school's waiting list (e6 left the programme: on neither)
    listed = r.get("/api/v1/orgs/s1/waiting")
    items = listed["items"] if isinstance(listed, dict) else listed
    assert sorted(w["mentee_id"] for w in items) == sorted(ids[k] for k in ("e2", "e5", "e9"))
    load = report["mentor_load"]
    assert {k: v for k, v in load.items() if k != "by_mentor"} == S1_LOAD
    assert load["by_mentor"] == [
        {"mentor_id": ids["m1"], "active": 1, "capacity": 1, "consent": True},
        {"mentor_id": ids["m2"], "active": 2, "capacity": 1, "consent": True},
        {"mentor_id": ids["m3"], "active": 1, "capacity": 0, "consent": False},
        {"mentor_id": ids["m4"], "active": 0, "capacity": 3, "consent": True},
        {"mentor_id": ids["m5"], "active": 0, "capacity": 0, "consent": False},
    ]
    assert report["satisfaction"] == {
        "mentees": _satisfaction(2, 75.0),
        "mentors": _satisfaction(2, 87.5),
    }
    assert report["pairs"] == [
        {"form": TEACHERS, "status": "active", "count": 5},
        {"form": TEACHERS, "status": "completed", "count": 1},
        {"form": TEACHERS, "status": "ended", "count": 1},
    ]
    assert report["people"] == [
        {"form": TEACHERS, "role": "mentee", "count": 9},  # e9: the spec's, no current answers
        {"form": TEACHERS, "role": "mentor", "count": 4},
        {"form": STUDENTS, "role": "mentee", "count": 2},
        {"form": f"руководитель ОО – педагог / {STUDENTS}", "role": "mentor",
         "count": 1},
    ]  # fmt: skip


def test_the_mentor_school_of_a_virtual_pair_counts_it_too(known: Report) -> None:
    report = known.get("/api/v1/orgs/s2/report", "s2")
    # the mentee of s1 is counted as paired here, as the pair is s2's mentor's
    assert report["coverage"] == {
        "mentees": 1, "mentees_with_consent": 1, "mentees_with_pair": 1, "share": 1.0
    }  # fmt: skip
    assert report["waiting"] == {"mentees": 1, "max_days": 0, "median_days": 0.0,
                                 "over_30_days": 0}  # fmt: skip
    assert report["mentor_load"]["by_mentor"] == [
        {"mentor_id": known.ids["x1"], "active": 1, "capacity": 2, "consent": True}
    ]
    assert report["mentor_load"]["active_pairs"] == 1
    assert report["satisfaction"] == {
        "mentees": _satisfaction(0, None),
        "mentors": _satisfaction(1, 100.0),
    }
    assert report["pairs"] == [{"form": TEACHERS, "status": "active", "count": 1}]
    assert report["people"] == [
        {"form": TEACHERS, "role": "mentee", "count": 1},
        {"form": TEACHERS, "role": "mentor", "count": 1},
    ]


def test_the_municipality_report_gives_each_school_and_both_once(known: Report) -> None:
    report = known.get("/api/v1/municipalities/Армавир/report", "coordinator")
    s1, s2 = report["schools"]
    assert (s1["code"], s2["code"], report["total"]["code"]) == ("s1", "s2", None)
    assert s1["coverage"] == S1_COVERAGE
    assert s1["waiting"] == S1_WAITING
    assert s1["mentor_load"] == S1_LOAD | {"by_mentor": []}
    assert s2["coverage"]["mentees_with_pair"] == 1
    total = report["total"]
    assert total["coverage"] == {
        "mentees": 12, "mentees_with_consent": 11, "mentees_with_pair": 5, "share": 0.4545
    }  # fmt: skip
    assert total["waiting"] == {"mentees": 4, "max_days": 40, "median_days": 7.5,
                                "over_30_days": 1}  # fmt: skip
    assert total["mentor_load"] == {"mentors": 6, "active_pairs": 5, "full": 2,
                                    "over_capacity": 1, "without_consent": 1,
                                    "by_mentor": []}  # fmt: skip
    assert total["satisfaction"] == {
        "mentees": _satisfaction(2, 75.0),
        "mentors": _satisfaction(2, 87.5),
    }


def _text(html: str) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return re.sub(r" ([.,;])", r"\1", spaced)


def _rows(html: str, attribute: str) -> dict[str, str]:
    return {
        key: _text(row)
        for key, row in re.findall(rf'<tr {attribute}="([^"]+)">(.*?)</tr>', html, re.S)
    }


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert found is not None, f"no section {name}"
    return found.group(1)


def test_the_report_page_shows_the_same_figures(known: Report) -> None:
    r, ids = known, known.ids
    sign_in(r.client, r.db, r.tokens["s1"])
    page = r.client.get("/ui/orgs/s1/report")
    assert page.status_code == 200, page.text
    html = page.text
    assert "11 10 5 50" in _text(_section(html, "coverage"))
    sides = _rows(html, "data-side")
    assert sides["mentees"].startswith("Наставляемые 2 75")
    assert sides["mentors"].startswith("Наставники 2 87,5")
    waiting = _section(html, "waiting")
    said = "Ждут: 3; дольше 30 дней: 1; больше всех — 40 дней, медиана — 12 дней"
    assert said in _text(waiting)
    assert list(_rows(waiting, "data-mentee")) == [str(ids[k]) for k in ("e2", "e5", "e9")]
    assert _rows(waiting, "data-mentee")[str(ids["e2"])].startswith("Имя e2 ")
    load = _text(_section(html, "load"))
    assert ("Наставников: 5, действующих пар: 5, без свободных мест: 2, сверх предела: 1, "
            "с парами, но без согласия: 1.") in load  # fmt: skip
    mentors = _rows(html, "data-mentor")
    assert mentors == {
        str(ids["m1"]): "Имя m1 1 1 мест нет",
        str(ids["m2"]): "Имя m2 2 1 перегружен",
        str(ids["m3"]): "Имя m3 1 0 нет согласия — решите, что делать с его парами",
        str(ids["m4"]): "Имя m4 0 3",
        str(ids["m5"]): "Имя m5 0 0 нет согласия",
    }
    forms = _text(_section(html, "forms"))
    assert (
        f"{TEACHERS} наставляемые 9 {TEACHERS} наставники 4 {STUDENTS} наставляемые 2 "
        f"руководитель ОО – педагог / {STUDENTS} наставники 1"
    ) in forms
    assert f"{TEACHERS} действует 5 {TEACHERS} завершена 1 {TEACHERS} прекращена 1" in forms
