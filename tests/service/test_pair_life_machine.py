"""The life of pairs as a Hypothesis state machine over the real app and the real database.

Every step is an HTTP request to the real application (imports of generated teacher
questionnaires, matching runs, proposals, confirmations, rejections, ends, replacements, consents
on paper, capacity limits). A small model of the school predicts each answer; after every step the
database is read with plain SQL and checked against the rules a curator relies on:

* no mentor ever *gains* a pair beyond ``min(3, limit, what they agreed)`` (and never has more
  than 3); a limit lowered below the current load keeps the pairs already made;
* no mentee has two active pairs;
* every active pair whose mentor or mentee has no consent is flagged in the API's answer;
* every successful change has its audit event, and a refused one writes none;
* every answer is an expected status with the documented error body, never a 500;
* people (consent, capacity, limit), pairs and proposals are exactly what the model expects,
  and runs and suggestions offer only consenting people, free places and pairs not rejected.

The database is read with SQL over the tables, not through service modules, so the test keeps
working however ``service/`` is laid out inside.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, school, settings_for, token

TEACHERS = Path(__file__).parents[2] / "examples" / "teachers"
MAX_MENTORS, MAX_MENTEES = 6, 10  # people of the generated school, newcomers included
MAX_PLACES = 3  # regulation: a mentor has at most three mentees at once (docs/rules.md)
REASONS = [
    "completed",
    "contract_ended",
    "transfer",
    "mentor_request",
    "mentee_request",
    "non_performance",
    "incompatibility",
    "other",
]
SCHOOL = "МБОУ СОШ № 28"
SURNAMES = ["Петрова", "Смирнова", "Козлова", "Орлова", "Зайцева", "Морозова", "Волкова", "Лебедева",
            "Соколова", "Новикова"]  # fmt: skip

# Bounded so that each engine takes well under a minute in CI; a deeper run, e.g.
# NASTAVNIK_PAIR_LIFE_EXAMPLES=200 NASTAVNIK_PAIR_LIFE_STEPS=40, needs no change of code.
SETTINGS = settings(
    max_examples=int(os.environ.get("NASTAVNIK_PAIR_LIFE_EXAMPLES", "20")),
    stateful_step_count=int(os.environ.get("NASTAVNIK_PAIR_LIFE_STEPS", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ANSWER = st.sampled_from([True, True, True, False])  # a questionnaire's consent: mostly "да"

_schools = itertools.count(1)


def _header(side: str) -> list[str]:
    with (TEACHERS / f"{side}.csv").open(encoding="utf-8") as f:
        return next(csv.reader(f))


def _csv(side: str, rows: list[dict[str, object]]) -> bytes:
    """A questionnaire export of ``side`` in the shape of examples/teachers/<side>.csv."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_header(side), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _mentor_row(k: int, capacity: int, consent: bool) -> dict[str, object]:
    return {
        "Отметка времени": "01.09.2024 10:00:00",
        "Адрес электронной почты": f"mentor{k}@school28.example",
        "ФИО": f"{SURNAMES[k % len(SURNAMES)]} Анна Ивановна",
        "Образовательная организация": SCHOOL,
        "Должность": "Учитель",
        "Преподаваемые предметы": ["Математика", "Физика", "Химия"][k % 3],
        "Педагогический стаж (лет)": 10 + k,
        "Квалификационная категория": "Высшая",
        "В каких областях вы можете помочь коллеге?": "Нормативно-правовые вопросы, "
        "ИКТ-компетенции и цифровизация образования",
        "Какие роли наставника вам ближе?": "опытный педагог – молодой специалист",
        "В каких формах наставничества вы готовы участвовать?": "педагог – педагог",
        "Удобный формат встреч": "Очно",
        "Удобное время для встреч": "пн день, чт вечер",
        "Сколько наставляемых вы готовы взять (1–3)?": capacity,
        "Согласие на обработку персональных данных": "да" if consent else "нет",
    }


def _mentee_row(k: int, consent: bool) -> dict[str, object]:
    return {
        "Отметка времени": "02.09.2024 12:00:00",
        "Адрес электронной почты": f"mentee{k}@school28.example",
        "ФИО": f"{SURNAMES[-1 - k % len(SURNAMES)]} Мария Петровна",
        "Образовательная организация": SCHOOL,
        "Кто вы в программе наставничества?": "Молодой специалист (стаж до 3 лет)",
        "Преподаваемые предметы": ["Математика", "Физика", "Химия"][k % 3],
        "Педагогический стаж (лет)": k % 3,
        "Испытываете ли вы затруднения? [Нормативно-правовые вопросы]": "иногда",
        "Испытываете ли вы затруднения? [ИКТ-компетенции и цифровизация образования]": "постоянно",
        "Какой наставник вам нужен?": "опытный педагог – молодой специалист",
        "Удобный формат встреч": "Очно",
        "Удобное время для встреч": "пн день",
        "Дата вступления в программу": "02.09.2024",
        "Согласие на обработку персональных данных": "да" if consent else "нет",
    }


@dataclass
class Person:
    """What the model knows of a person: their answers and the state the service should hold."""

    id: int
    side: str  # "mentor" or "mentee"
    key: int  # index in the generated files
    answered: bool  # the consent answer of the last imported questionnaire
    consent: bool  # the person's consent as the service should sum it up
    capacity: int | None = None  # mentors: what they agreed in the questionnaire
    limit: int | None = None  # mentors: the curator's limit

    def places(self) -> int:
        agreed = MAX_PLACES if self.capacity is None else self.capacity
        limit = MAX_PLACES if self.limit is None else self.limit
        return min(MAX_PLACES, agreed, limit) if self.consent else 0


@dataclass
class Model:
    """The school as the curator's requests should have left it."""

    mentors: dict[int, Person] = field(default_factory=dict)  # by the key of the file row
    mentees: dict[int, Person] = field(default_factory=dict)
    proposals: dict[int, tuple[int, int, str]] = field(
        default_factory=dict
    )  # id -> mentee, mentor, status
    pairs: dict[int, tuple[int, int, str]] = field(
        default_factory=dict
    )  # id -> mentee, mentor, status
    audit: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    reasons: dict[int, str] = field(default_factory=dict)  # why a proposal was superseded

    def person(self, person_id: int) -> Person:
        return next(
            p for p in (*self.mentors.values(), *self.mentees.values()) if p.id == person_id
        )

    def active(self) -> dict[int, tuple[int, int]]:
        return {i: (e, m) for i, (e, m, s) in self.pairs.items() if s == "active"}

    def load(self, mentor_id: int) -> int:
        return sum(1 for _, m in self.active().values() if m == mentor_id)

    def paired(self, mentee_id: int) -> bool:
        return any(e == mentee_id for e, _ in self.active().values())

    def supersede(self, person_id: int) -> list[int]:
        """Supersede the open proposals of a person left without consent; return their ids."""
        ids = sorted(
            i for i, (e, m, s) in self.proposals.items() if s == "open" and person_id in (e, m)
        )
        for i in ids:
            e, m, _ = self.proposals[i]
            self.proposals[i] = (e, m, "superseded")
            self.reasons[i] = "consent"
        return ids

    def supersede_stale(self, done: int, mentee_id: int, mentor_id: int, full: bool) -> None:
        """A confirmed pair supersedes the mentee's other open proposals, and the mentor's when
        their last place is taken."""
        for i, (e, m, s) in list(self.proposals.items()):
            if s != "open" or i == done:
                continue
            if e == mentee_id or (full and m == mentor_id):
                self.proposals[i] = (e, m, "superseded")
                self.reasons[i] = "mentee_paired" if e == mentee_id else "mentor_full"


@dataclass(frozen=True)
class Snapshot:
    """The rows of one school after a step."""

    people: dict[int, tuple[str, bool, int | None, int | None]]  # side, consent, capacity, limit
    pairs: dict[int, tuple[int, int, str]]  # mentee, mentor, status
    proposals: dict[int, tuple[int, int, str]]  # mentee, mentor, status
    audit: list[tuple[Any, ...]]  # action, entity, entity id, org id of events since the start


class PairLife(RuleBasedStateMachine):
    """One school's mentoring programme, driven through the HTTP API."""

    def __init__(self, db: Database, client: TestClient) -> None:
        super().__init__()
        self.db = db
        self.client = client
        self.model = Model()
        self.code = f"sm{next(_schools)}-{uuid.uuid4().hex[:6]}"
        self.org = 0  # the school's id, known once start() made it
        self.headers: dict[str, str] = {}
        self.audit_from = 0
        self.loads: dict[int, int] = {}  # each mentor's active pairs at the last check
        self._seen: Snapshot | None = None  # the rows since the last change

    # -- plumbing ----------------------------------------------------------------------------

    def _sql(self, query: str, **params: Any) -> list[Any]:
        with self.db.read() as session:
            return list(session.execute(text(query), params).all())

    def _call(self, method: str, url: str, expected: int, **kwargs: Any) -> Any:
        """Send a request; the answer must be ``expected`` and, for an error, the documented body."""
        if method != "GET":
            self._seen = None
        response = self.client.request(method, url, headers=self.headers, **kwargs)
        assert response.status_code != 500, response.text
        assert response.status_code in (200, 201, 404, 409, 422), response.text
        body = response.json()
        if response.status_code >= 400:
            assert isinstance(body, dict), body
            assert isinstance(body.get("code"), str), body
            assert isinstance(body.get("detail"), str), body
            assert body["detail"], body
        assert response.status_code == expected, (method, url, kwargs.get("json"), body)
        return body

    def _error(self, body: Any, *codes: str) -> None:
        assert body["code"] in codes, body

    def _audit(self, action: str, entity: str, entity_id: int) -> None:
        self.model.audit[(action, entity, entity_id)] += 1

    def _import(self, side: str, rows: list[dict[str, object]]) -> dict[str, Any]:
        body = self._call(
            "POST",
            f"/api/v1/orgs/{self.code}/imports/{side}",
            201,
            files={"file": (f"{side}.csv", _csv(side, rows), "text/csv")},
            data={"spec": "teacher"},
        )
        self._audit("import", "import", body["import_id"])
        return body  # type: ignore[no-any-return]

    def _ids(self, side: str) -> dict[str, int]:
        return {
            external: person_id
            for person_id, external in self._sql(
                "SELECT id, external_id FROM people WHERE org_id = :org AND side = :side",
                org=self.org,
                side=side,
            )
        }

    # -- the school's start: two questionnaire files and a run --------------------------------

    @initialize(
        mentors=st.lists(st.tuples(st.integers(1, 3), ANSWER), min_size=3, max_size=5),
        mentees=st.lists(ANSWER, min_size=4, max_size=9),
    )
    def start(self, mentors: list[tuple[int, bool]], mentees: list[bool]) -> None:
        school(self.db, self.code, "m1")
        self.org = int(self._sql("SELECT id FROM organisations WHERE code = :c", c=self.code)[0][0])
        self.headers = auth(token(self.db, "curator", self.code))
        self.audit_from = int(self._sql("SELECT COALESCE(MAX(id), 0) FROM audit_events")[0][0])
        self._import("mentors", [_mentor_row(k, c, ok) for k, (c, ok) in enumerate(mentors)])
        self._import("mentees", [_mentee_row(k, ok) for k, ok in enumerate(mentees)])
        ids = self._ids("mentor")
        for k, (capacity, ok) in enumerate(mentors):
            person_id = ids[f"mentor{k}@school28.example"]
            self.model.mentors[k] = Person(person_id, "mentor", k, ok, ok, capacity)
        ids = self._ids("mentee")
        for k, ok in enumerate(mentees):
            person_id = ids[f"mentee{k}@school28.example"]
            self.model.mentees[k] = Person(person_id, "mentee", k, ok, ok)
        self.run()  # the curator's first run: proposals to decide on from the first step

    # -- imports again: changed consent answers and capacities --------------------------------

    def _reimported(self, person: Person, consent: bool) -> bool:
        """Apply a re-imported consent answer; return whether it withdrew the person's consent."""
        had = person.consent
        if consent != person.answered:  # only a changed answer counts (a paper record stays)
            person.consent = consent
        person.answered = consent
        if had and not person.consent:
            self.model.supersede(person.id)
            self._audit("consent", "person", person.id)
            return True
        return False

    def _newcomer(self, data: st.DataObject, people: dict[int, Person], most: int) -> list[int]:
        """Sometimes a person who was not in the earlier files (while the school is small)."""
        if len(people) < most and data.draw(st.booleans(), label="a newcomer in the file"):
            return [len(people)]
        return []

    @rule(data=st.data())
    def reimport_mentors(self, data: st.DataObject) -> None:
        keys = data.draw(st.lists(st.sampled_from(sorted(self.model.mentors)), unique=True))
        keys += self._newcomer(data, self.model.mentors, MAX_MENTORS)
        if not keys:
            keys = [0]
        rows, changed, created = [], 0, []
        for k in keys:
            capacity = data.draw(st.integers(1, 3), label=f"capacity of mentor {k}")
            consent = data.draw(ANSWER, label=f"consent of mentor {k}")
            rows.append(_mentor_row(k, capacity, consent))
            person = self.model.mentors.get(k)
            if person is None:
                created.append((k, capacity, consent))
                continue
            changed += (capacity, consent) != (person.capacity, person.answered)
            person.capacity = capacity
            self._reimported(person, consent)
        body = self._import("mentors", rows)
        assert (body["created"], body["updated"], body["unchanged"]) == (
            len(created), changed, len(keys) - changed - len(created)
        )  # fmt: skip
        ids = self._ids("mentor")
        for k, capacity, consent in created:
            person_id = ids[f"mentor{k}@school28.example"]
            self.model.mentors[k] = Person(person_id, "mentor", k, consent, consent, capacity)

    @rule(data=st.data())
    def reimport_mentees(self, data: st.DataObject) -> None:
        keys = data.draw(st.lists(st.sampled_from(sorted(self.model.mentees)), unique=True))
        keys += self._newcomer(data, self.model.mentees, MAX_MENTEES)
        if not keys:
            keys = [0]
        rows, changed, created = [], 0, []
        for k in keys:
            consent = data.draw(ANSWER, label=f"consent of mentee {k}")
            rows.append(_mentee_row(k, consent))
            person = self.model.mentees.get(k)
            if person is None:
                created.append((k, consent))
                continue
            changed += consent != person.answered
            self._reimported(person, consent)
        body = self._import("mentees", rows)
        assert (body["created"], body["updated"], body["unchanged"]) == (
            len(created), changed, len(keys) - changed - len(created)
        )  # fmt: skip
        ids = self._ids("mentee")
        for k, consent in created:
            person_id = ids[f"mentee{k}@school28.example"]
            self.model.mentees[k] = Person(person_id, "mentee", k, consent, consent)

    # -- matching ------------------------------------------------------------------------------

    @rule()
    def run(self) -> None:
        body = self._call("POST", f"/api/v1/orgs/{self.code}/matching-runs", 201)
        self._audit("run", "matching_run", body["run_id"])
        for i, (e, m, s) in self.model.proposals.items():
            if s == "open":
                self.model.proposals[i] = (e, m, "superseded")
                self.model.reasons[i] = "new_run"
        rejected = {(e, m) for e, m, s in self.model.proposals.values() if s == "rejected"}
        new: Counter[int] = Counter()
        for p in body["proposals"]:
            mentee, mentor = self.model.person(p["mentee_id"]), self.model.person(p["mentor_id"])
            assert mentee.consent, p
            assert mentor.consent, p
            assert not self.model.paired(mentee.id), p
            assert (mentee.id, mentor.id) not in rejected, p
            new[mentor.id] += 1
            self.model.proposals[p["proposal_id"]] = (mentee.id, mentor.id, "open")
        for mentor_id, count in new.items():
            mentor = self.model.person(mentor_id)
            assert count <= max(0, mentor.places() - self.model.load(mentor_id)), (mentor, count)
        waiting = {
            p.id for p in self.model.mentees.values() if p.consent and not self.model.paired(p.id)
        }
        proposed = [p["mentee_id"] for p in body["proposals"]]
        assert len(proposed) == len(set(proposed))
        assert set(proposed) | set(body["unmatched"]) == waiting
        # Every active pair stays, those of people without consent too: the answer lists them all.
        assert set(body["kept"]) == set(self.model.active())

    def _people(self, data: st.DataObject) -> tuple[Person, Person]:
        """A mentee and a mentor, any of them (paired, full, without consent or not)."""
        mentee = data.draw(st.sampled_from(sorted(self.model.mentees.values(), key=lambda p: p.id)))
        mentor = data.draw(st.sampled_from(sorted(self.model.mentors.values(), key=lambda p: p.id)))
        return mentee, mentor

    @rule(data=st.data())
    def propose(self, data: st.DataObject) -> None:
        self._propose(*self._people(data))

    @rule(data=st.data())
    def propose_and_confirm(self, data: st.DataObject) -> None:
        """A curator picks a mentor for a mentee and confirms at once (full mentors included)."""
        proposal_id = self._propose(*self._people(data))
        if proposal_id is not None:
            self._confirm(proposal_id)

    def _propose(self, mentee: Person, mentor: Person) -> int | None:
        ok = mentee.consent and mentor.consent
        body = self._call(
            "POST",
            f"/api/v1/orgs/{self.code}/proposals",
            201 if ok else 409,
            json={"mentee_id": mentee.id, "mentor_id": mentor.id},
        )
        if not ok:
            self._error(body, "no_consent")
            return None
        existing = [
            i
            for i, (e, m, s) in self.model.proposals.items()
            if (e, m, s) == (mentee.id, mentor.id, "open")
        ]
        if existing:  # the same pair proposed twice makes one proposal
            assert body["proposal_id"] == existing[0]
        else:
            self.model.proposals[body["proposal_id"]] = (mentee.id, mentor.id, "open")
            self._audit("create", "proposal", body["proposal_id"])
        return int(body["proposal_id"])

    @rule(data=st.data())
    def suggestions(self, data: st.DataObject) -> None:
        mentee = data.draw(st.sampled_from(sorted(self.model.mentees.values(), key=lambda p: p.id)))
        body = self._call(
            "GET",
            f"/api/v1/orgs/{self.code}/mentees/{mentee.id}/suggestions?k=10",
            200 if mentee.consent else 409,
        )
        if not mentee.consent:
            self._error(body, "no_consent")
            return
        taken = {m for e, m in self.model.active().values() if e == mentee.id}
        rejected = {
            m for e, m, s in self.model.proposals.values() if (e, s) == (mentee.id, "rejected")
        }
        free = {
            p.id
            for p in self.model.mentors.values()
            if self.model.load(p.id) < p.places() and p.id not in taken | rejected
        }
        assert {s["mentor_id"] for s in body} == free

    # -- deciding on proposals -----------------------------------------------------------------

    def _proposal(self, data: st.DataObject) -> int:
        """A proposal: mostly an open one (to make pairs), else any (to be refused)."""
        proposals = self.model.proposals
        open_ = sorted(i for i, (_, _, s) in proposals.items() if s == "open")
        if open_ and data.draw(st.integers(0, 3), label="an open proposal") > 0:
            return data.draw(st.sampled_from(open_))
        return data.draw(st.sampled_from(sorted(proposals)))

    def _pair(self, data: st.DataObject) -> int:
        """A pair: mostly an active one, else any (an ended one is refused)."""
        active = sorted(self.model.active())
        if active and data.draw(st.integers(0, 3), label="an active pair") > 0:
            return data.draw(st.sampled_from(active))
        return data.draw(st.sampled_from(sorted(self.model.pairs)))

    @precondition(lambda self: self.model.proposals)
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        self._confirm(self._proposal(data))

    def _confirm(self, proposal_id: int) -> None:
        mentee_id, mentor_id, status = self.model.proposals[proposal_id]
        mentee, mentor = self.model.person(mentee_id), self.model.person(mentor_id)
        consent = mentee.consent and mentor.consent
        reason = self.model.reasons.get(proposal_id)
        if status == "superseded" and not consent:
            refused = "no_consent"
        elif status == "superseded" and reason == "mentee_paired" and self.model.paired(mentee_id):
            refused = "mentee_has_pair"
        elif (
            status == "superseded"
            and reason == "mentor_full"
            and self.model.load(mentor_id) >= mentor.places()
        ):
            refused = "mentor_full"
        elif status != "open":
            refused = "already_decided"
        elif not consent:
            refused = "no_consent"
        elif self.model.paired(mentee_id):
            refused = "mentee_has_pair"
        elif self.model.load(mentor_id) >= mentor.places():
            refused = "mentor_full"
        else:
            refused = ""
        body = self._call(
            "POST", f"/api/v1/proposals/{proposal_id}/confirm", 409 if refused else 201
        )
        if refused:
            self._error(body, refused)
            return
        assert (body["mentee_id"], body["mentor_id"], body["status"]) == (
            mentee_id,
            mentor_id,
            "active",
        )
        assert body["missing_consent"] == []
        self.model.proposals[proposal_id] = (mentee_id, mentor_id, "confirmed")
        self.model.pairs[body["pair_id"]] = (mentee_id, mentor_id, "active")
        full = self.model.load(mentor_id) >= mentor.places()
        self.model.supersede_stale(proposal_id, mentee_id, mentor_id, full)
        self._audit("confirm", "proposal", proposal_id)

    @precondition(lambda self: self.model.proposals)
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        proposal_id = self._proposal(data)
        mentee_id, mentor_id, status = self.model.proposals[proposal_id]
        ok = status in ("open", "superseded")
        body = self._call("POST", f"/api/v1/proposals/{proposal_id}/reject", 200 if ok else 409)
        if not ok:
            self._error(body, "already_decided")
            return
        self.model.proposals[proposal_id] = (mentee_id, mentor_id, "rejected")
        self._audit("reject", "proposal", proposal_id)

    # -- the pairs' life -----------------------------------------------------------------------

    @precondition(lambda self: self.model.pairs)
    @rule(data=st.data(), reason=st.sampled_from([*REASONS, "надоело"]))
    def end(self, data: st.DataObject, reason: str) -> None:
        pair_id = self._pair(data)
        mentee_id, mentor_id, status = self.model.pairs[pair_id]
        if reason not in REASONS:
            self._error(
                self._call("POST", f"/api/v1/pairs/{pair_id}/end", 422, json={"reason": reason}),
                "invalid",
            )
            return
        ok = status == "active"
        body = self._call(
            "POST", f"/api/v1/pairs/{pair_id}/end", 200 if ok else 409, json={"reason": reason}
        )
        if not ok:
            self._error(body, "pair_not_active")
            return
        ended = "completed" if reason == "completed" else "ended"
        assert (body["status"], body["end_reason"]) == (ended, reason)
        self.model.pairs[pair_id] = (mentee_id, mentor_id, ended)
        self._audit("end", "pair", pair_id)

    @precondition(lambda self: self.model.pairs)
    @rule(data=st.data(), reason=st.sampled_from(REASONS))
    def replace_mentor(self, data: st.DataObject, reason: str) -> None:
        pair_id = self._pair(data)
        new = data.draw(st.sampled_from(sorted(self.model.mentors.values(), key=lambda p: p.id)))
        mentee_id, mentor_id, status = self.model.pairs[pair_id]
        mentee = self.model.person(mentee_id)
        if reason == "completed":
            expected, codes = 422, ("invalid",)
        elif status != "active":
            expected, codes = 409, ("pair_not_active",)
        elif new.id == mentor_id:
            expected, codes = 409, ("same_mentor",)
        elif not (mentee.consent and new.consent):
            expected, codes = 409, ("no_consent",)
        elif self.model.load(new.id) >= new.places():
            expected, codes = 409, ("mentor_full",)
        else:
            expected, codes = 201, ()
        body = self._call(
            "POST",
            f"/api/v1/pairs/{pair_id}/replace-mentor",
            expected,
            json={"mentor_id": new.id, "reason": reason},
        )
        if codes:
            self._error(body, *codes)
            return
        assert (body["mentee_id"], body["mentor_id"], body["previous_pair_id"]) == (
            mentee_id, new.id, pair_id
        )  # fmt: skip
        self.model.pairs[pair_id] = (mentee_id, mentor_id, "ended")
        self.model.pairs[body["pair_id"]] = (mentee_id, new.id, "active")
        self._audit("replace_mentor", "pair", pair_id)

    # -- consents on paper and capacity limits -------------------------------------------------

    @rule(data=st.data(), given=st.booleans())
    def record_consent(self, data: st.DataObject, given: bool) -> None:
        people = sorted(
            (*self.model.mentors.values(), *self.model.mentees.values()), key=lambda p: p.id
        )
        person = data.draw(st.sampled_from(people))
        body = self._call(
            "POST",
            f"/api/v1/orgs/{self.code}/people/{person.id}/consent",
            200,
            json={"given": given},
        )
        person.consent = given
        superseded = [] if given else self.model.supersede(person.id)
        to_decide = (
            []
            if given
            else sorted(i for i, (e, m) in self.model.active().items() if person.id in (e, m))
        )
        assert (body["consent"], body["superseded"], body["pairs_to_decide"]) == (
            given, superseded, to_decide
        )  # fmt: skip
        self._audit("consent", "person", person.id)

    @rule(data=st.data(), limit=st.none() | st.integers(0, MAX_PLACES))
    def set_limit(self, data: st.DataObject, limit: int | None) -> None:
        mentor = data.draw(st.sampled_from(sorted(self.model.mentors.values(), key=lambda p: p.id)))
        ok = limit is None or limit <= (mentor.capacity or MAX_PLACES)
        body = self._call(
            "PUT",
            f"/api/v1/orgs/{self.code}/mentors/{mentor.id}/capacity-limit",
            200 if ok else 422,
            json={"capacity_limit": limit},
        )
        if not ok:
            self._error(body, "invalid")
            return
        mentor.limit = limit
        assert (body["places"], body["active_pairs"]) == (
            mentor.places(),
            self.model.load(mentor.id),
        )
        self._audit("capacity_limit", "person", mentor.id)

    # -- what does not exist, or is not what the address says ---------------------------------

    @rule(
        what=st.sampled_from(
            ["confirm", "reject", "end", "replace", "consent", "limit", "limit of a mentee",
             "a mentee as mentor", "a mentor as mentee"]
        ),
        data=st.data(),
    )  # fmt: skip
    def unknown(self, what: str, data: st.DataObject) -> None:
        missing = 10**9
        mentor = data.draw(st.sampled_from(sorted(p.id for p in self.model.mentors.values())))
        mentee = data.draw(st.sampled_from(sorted(p.id for p in self.model.mentees.values())))
        pair = self._pair(data) if self.model.pairs else missing
        requests = {
            "confirm": ("POST", f"/api/v1/proposals/{missing}/confirm", None),
            "reject": ("POST", f"/api/v1/proposals/{missing}/reject", None),
            "end": ("POST", f"/api/v1/pairs/{missing}/end", {"reason": "other"}),
            "replace": ("POST", f"/api/v1/pairs/{missing}/replace-mentor",
                        {"mentor_id": mentor, "reason": "other"}),
            "consent": ("POST", f"/api/v1/orgs/{self.code}/people/{missing}/consent", {"given": True}),
            "limit": ("PUT", f"/api/v1/orgs/{self.code}/mentors/{missing}/capacity-limit",
                      {"capacity_limit": 1}),
            "limit of a mentee": ("PUT", f"/api/v1/orgs/{self.code}/mentors/{mentee}/capacity-limit",
                                  {"capacity_limit": 1}),
            "a mentee as mentor": ("POST", f"/api/v1/pairs/{pair}/replace-mentor",
                                   {"mentor_id": mentee, "reason": "other"}),
            "a mentor as mentee": ("POST", f"/api/v1/orgs/{self.code}/proposals",
                                   {"mentee_id": mentor, "mentor_id": mentor}),
        }  # fmt: skip
        method, url, json = requests[what]
        self._error(self._call(method, url, 404, json=json), "not_found")

    # -- after every step ----------------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        """The school's rows, read once after each change (one connection, plain SQL)."""
        if self._seen is None:
            with self.db.read() as conn:  # the test's own transaction (rolled back at its end)

                def rows(query: str) -> list[Any]:
                    params = {"org": self.org, "start": self.audit_from}
                    return list(conn.execute(text(query), params).all())

                self._seen = Snapshot(
                    {
                        i: (side, bool(consent), capacity, limit)
                        for i, side, consent, capacity, limit in rows(
                            "SELECT id, side, consent, capacity, capacity_limit FROM people "
                            "WHERE org_id = :org"
                        )
                    },
                    {
                        i: (e, m, s)
                        for i, e, m, s in rows(
                            "SELECT id, mentee_id, mentor_id, status FROM pairs WHERE org_id = :org"
                        )
                    },
                    {
                        i: (e, m, s)
                        for i, e, m, s in rows(
                            "SELECT id, mentee_id, mentor_id, status FROM proposals "
                            "WHERE org_id = :org"
                        )
                    },
                    [
                        tuple(r)
                        for r in rows(
                            "SELECT action, entity, entity_id, org_id FROM audit_events "
                            "WHERE id > :start"
                        )
                    ],
                )
        return self._seen

    @invariant()
    def people_are_as_the_requests_left_them(self) -> None:
        if not self.model.mentors:
            return
        actual = {i: (c, cap, lim) for i, (_, c, cap, lim) in self._snapshot().people.items()}
        expected = {p.id: (p.consent, p.capacity, p.limit) for p in self.model.mentors.values()} | {
            p.id: (p.consent, None, None) for p in self.model.mentees.values()
        }
        assert actual == expected

    @invariant()
    def no_mentor_above_their_places(self) -> None:
        if not self.model.mentors:
            return
        seen = self._snapshot()
        loads = Counter(m for _, m, s in seen.pairs.values() if s == "active")
        for mentor in self.model.mentors.values():
            load, before = loads[mentor.id], self.loads.get(mentor.id, 0)
            assert load <= MAX_PLACES, (mentor, load)
            if load > before:  # gained a pair: only into a free place
                assert load <= mentor.places(), (mentor, load, before)
        self.loads = dict(loads)

    @invariant()
    def no_mentee_with_two_active_pairs(self) -> None:
        pairs = self._snapshot().pairs.values()
        counts = Counter(e for e, _, s in pairs if s == "active")
        assert [e for e, n in counts.items() if n > 1] == []

    @invariant()
    def pairs_and_proposals_are_as_the_model_says(self) -> None:
        seen = self._snapshot()
        assert seen.pairs == self.model.pairs
        assert seen.proposals == self.model.proposals

    @invariant()
    def pairs_without_consent_are_flagged(self) -> None:
        seen = self._snapshot()
        active = {i: (e, m) for i, (e, m, s) in seen.pairs.items() if s == "active"}
        if not active:
            return
        answer = self._call("GET", f"/api/v1/orgs/{self.code}/pairs?status=active", 200)
        flagged = {p["pair_id"]: sorted(p["missing_consent"]) for p in answer}
        expected = {
            pair_id: [
                side
                for side, who in (("mentee", e), ("mentor", m))
                if not seen.people[who][1]  # consent
            ]
            for pair_id, (e, m) in active.items()
        }
        assert flagged == expected

    @invariant()
    def every_change_is_audited(self) -> None:
        if not self.model.mentors:
            return
        events = self._snapshot().audit
        assert {org for *_, org in events} <= {self.org}
        assert Counter((a, e, i) for a, e, i, _ in events) == self.model.audit


@pytest.mark.slow
def test_the_life_of_pairs_keeps_the_rules(db: Database) -> None:
    with TestClient(create_app(settings_for(db), db)) as client:
        run_state_machine_as_test(lambda: PairLife(db, client), settings=SETTINGS)


# -- bugs found while building the machine (the lead fixes them in the new layout) ---------


def _school_with_a_pair(db: Database, client: TestClient) -> tuple[dict[str, str], int, int, int]:
    """A school with one mentor and one mentee, paired by a run; return headers and ids."""
    code = f"sr{next(_schools)}"
    school(db, code, "m1")
    headers = auth(token(db, "curator", code))
    for side, row in (("mentors", _mentor_row(0, 2, True)), ("mentees", _mentee_row(0, True))):
        response = client.post(
            f"/api/v1/orgs/{code}/imports/{side}",
            files={"file": (f"{side}.csv", _csv(side, [row]), "text/csv")},
            data={"spec": "teacher"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
    [proposed] = client.post(f"/api/v1/orgs/{code}/matching-runs", headers=headers).json()[
        "proposals"
    ]
    pair = client.post(f"/api/v1/proposals/{proposed['proposal_id']}/confirm", headers=headers)
    assert pair.status_code == 201, pair.text
    return headers, proposed["mentee_id"], proposed["mentor_id"], pair.json()["pair_id"]


def test_a_run_lists_the_kept_pair_of_a_mentee_who_withdrew(db: Database) -> None:
    with TestClient(create_app(settings_for(db), db)) as client:
        headers, mentee, _, pair = _school_with_a_pair(db, client)
        code = client.get("/api/v1/orgs", headers=headers).json()[0]["code"]
        withdrawn = client.post(
            f"/api/v1/orgs/{code}/people/{mentee}/consent", json={"given": False}, headers=headers
        )
        assert withdrawn.json()["pairs_to_decide"] == [pair]
        run = client.post(f"/api/v1/orgs/{code}/matching-runs", headers=headers).json()
        assert run["kept"] == [pair]


def test_a_request_validation_error_has_the_documented_error_body(db: Database) -> None:
    with TestClient(create_app(settings_for(db), db)) as client:
        headers, _, mentor, pair = _school_with_a_pair(db, client)
        code = client.get("/api/v1/orgs", headers=headers).json()[0]["code"]
        answers = [
            client.put(
                f"/api/v1/orgs/{code}/mentors/{mentor}/capacity-limit",
                json={"capacity_limit": 4},
                headers=headers,
            ),
            client.post(f"/api/v1/pairs/{pair}/end", json={}, headers=headers),
        ]
        for answer in answers:
            assert answer.status_code == 422
            body = answer.json()
            assert (body.get("code"), type(body.get("detail"))) == ("invalid", str), body
        assert "не больше 3" in answers[0].json()["detail"]
