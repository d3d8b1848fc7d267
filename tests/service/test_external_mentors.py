"""External mentors (a college's) serve two schools of a municipality in person, through the real
API on both engines: the coordinator's pool, the schools' runs and pairs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from service.app import create_app
from service.core.db import Database
from service.core.models import Person
from tests.service.util import auth, school, settings_for, token

EXAMPLES = Path(__file__).parents[2] / "examples" / "pupils"


def _import(client: TestClient, headers: dict[str, str], org: str, side: str) -> None:
    answer = client.post(
        f"/api/v1/orgs/{org}/imports/{side}",
        files={"file": (f"{side}.csv", (EXAMPLES / f"{side}.csv").read_bytes())},
        data={"spec": "pupil"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text


def test_a_colleges_mentors_serve_two_schools_in_person(db: Database) -> None:
    school(db, "s1", "m1")
    school(db, "s2", "m1")
    coordinator = auth(token(db, "coordinator", None, municipality="m1"))
    curator = auth(token(db, "curator", "s1"))
    with TestClient(create_app(settings_for(db), db)) as client:
        made = client.post(
            "/api/v1/municipalities/m1/organisations",
            json={"code": "college-1", "name": "Армавирский колледж", "kind": "college"},
            headers=coordinator,
        )
        assert made.status_code == 201, made.text
        _import(client, coordinator, "college-1", "mentors")
        for org in ("s1", "s2"):
            _import(client, coordinator, org, "mentees")
        with db.write() as session:  # every consent on paper
            session.execute(update(Person).values(consent=True))
        pool = client.get("/api/v1/municipalities/m1/external-mentors", headers=coordinator)
        mentors = [m["mentor_id"] for m in pool.json()]
        assert len(mentors) == 15
        assert {m["home_kind"] for m in pool.json()} == {"college"}
        # not yet serving: a school's run has no mentor at all (the college's are not its own)
        run = client.post("/api/v1/orgs/s1/matching-runs", headers=curator).json()
        assert run["proposals"] == []
        # the coordinator gives every college mentor to both schools, in person
        for mentor in mentors:
            for org in ("s1", "s2"):
                answer = client.put(
                    f"/api/v1/orgs/{org}/external-mentors/{mentor}",
                    json={"mode": "in_person"},
                    headers=coordinator,
                )
                assert answer.status_code == 200, answer.text
        served = client.get("/api/v1/municipalities/m1/external-mentors", headers=coordinator)
        assert {(s["org"], s["mode"]) for s in served.json()[0]["schools"]} == {
            ("s1", "in_person"),
            ("s2", "in_person"),
        }
        # a curator sees the mentors serving the school, and cannot give them to another
        mine = client.get("/api/v1/orgs/s1/external-mentors", headers=curator).json()
        assert sorted(m["mentor_id"] for m in mine) == sorted(mentors)
        refused = client.put(
            f"/api/v1/orgs/s1/external-mentors/{mentors[0]}",
            json={"mode": "remote"},
            headers=curator,
        )
        assert refused.status_code == 404
        # both schools' runs propose the college's mentors (in person: one organisation)
        pairs = {}
        for org in ("s1", "s2"):
            run = client.post(f"/api/v1/orgs/{org}/matching-runs", headers=coordinator).json()
            assert run["proposals"], run
            assert {p["mentor_id"] for p in run["proposals"]} <= set(mentors)
            first = run["proposals"][0]["proposal_id"]
            answer = client.post(f"/api/v1/proposals/{first}/confirm", headers=coordinator)
            assert answer.status_code == 201, answer.text
            pairs[org] = answer.json()
        assert {(p["org"], p["mentor_org"]) for p in pairs.values()} == {
            ("s1", "college-1"),
            ("s2", "college-1"),
        }
        # the school's curator sees the pair of the external mentor on the school's list
        listed = client.get("/api/v1/orgs/s1/pairs", headers=curator).json()
        assert [p["pair_id"] for p in listed] == [pairs["s1"]["pair_id"]]
        # and a mentee's suggestions include the serving mentors
        mentee = pairs["s1"]["mentee_id"]
        others = client.get(
            f"/api/v1/orgs/s1/mentees/{mentee}/suggestions?k=30", headers=curator
        ).json()
        assert others
        assert {s["mentor_id"] for s in others} <= set(mentors)
        # no longer serving s2: its pair goes on
        gone = client.delete(
            f"/api/v1/orgs/s2/external-mentors/{pairs['s2']['mentor_id']}", headers=coordinator
        )
        assert gone.status_code == 204
        again = client.get(f"/api/v1/pairs/{pairs['s2']['pair_id']}", headers=coordinator)
        assert again.json()["status"] == "active"


def test_the_coordinators_page_adds_a_college_and_gives_its_mentor_to_a_school(
    db: Database,
) -> None:
    import re

    from tests.service.util import sign_in

    school(db, "s1", "m1")
    coordinator = token(db, "coordinator", None, municipality="m1")
    with TestClient(create_app(settings_for(db), db)) as client:
        sign_in(client, db, coordinator)
        url = "/ui/municipalities/m1/external-mentors"
        added = client.post(
            f"{url}/organisation",
            data={"code": "zavod", "name": "Завод «Кубань»", "kind": "enterprise"},
            follow_redirects=True,
        )
        assert "Организация «Завод «Кубань»» добавлена" in added.text
        wrong = client.post(
            f"{url}/organisation",
            data={"code": "zavod", "name": "Ещё один", "kind": "enterprise"},
            follow_redirects=True,
        )
        assert "уже есть" in wrong.text
        _import(client, auth(coordinator), "zavod", "mentors")
        page = client.get(url).text
        mentor = re.search(r'data-mentor="(\d+)"', page)
        assert mentor is not None
        assert "пока ни одной" in page
        done = client.post(
            f"{url}/serve",
            data={"mentor_id": mentor.group(1), "org": "s1", "mode": "remote"},
            follow_redirects=True,
        )
        assert "обслуживает школу (дистанционно)" in done.text
        assert "Школа s1 — дистанционно" in client.get(url).text
        listed = client.get("/ui/orgs/s1/external-mentors").text
        assert f'data-mentor="{mentor.group(1)}"' in listed
