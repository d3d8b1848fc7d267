"""Locust scenario: curators at work on the pages of their own school (``experiments.bench_load``).

Run by ``python -m experiments.bench_load`` (which starts the server and prepares the schools), or
by hand against a running server and a prepared world file::

    NASTAVNIK_LOAD_WORLD=var/bench-load/world.json locust -f experiments/load_curators.py \\
        --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000

Each simulated curator takes a school of their own (the world file lists the schools with the
login, password and API token of their curator), signs in through the login form (a server-side
page session: cookie and anti-forgery token), then, with a pause of ``NASTAVNIK_LOAD_WAIT``
seconds between clicks (``"2,6"`` by default), opens the school page, searches and pages through
its people, pairs, waiting list and report, opens a waiting mentee's suggestions (the page, and the
API with the token as a script would), proposes a suggested pair, confirms or rejects open
proposals, and now and then uploads a small questionnaire file of five pupils.

Every answer is checked for the status a curator expects (200 for a page, 303 after a form); any
other answer is a failure with its status and the start of its body. Requests are named by their
route (``/ui/orgs/[org]/people?q``), so locust's table has one row per endpoint.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, constant, events
from locust.exception import StopUser

WORLD = json.loads(Path(os.environ["NASTAVNIK_LOAD_WORLD"]).read_text(encoding="utf-8"))
_WAIT = [float(x) for x in os.environ.get("NASTAVNIK_LOAD_WAIT", "2,6").split(",")]
_SEATS = itertools.count()  # each new curator takes the next school
_FINISHED = itertools.count(1)  # curators of `EveryTask` who are done

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_OPEN = re.compile(r"/ui/proposals/(\d+)/confirm")
_MENTEE = re.compile(r"/ui/orgs/[^/]+/mentees/(\d+)")
_MENTOR = re.compile(r'data-mentor="(\d+)"')
_ALERT = re.compile(r'role="alert">(.*?)</', re.S)


@events.quitting.add_listener
def _save_statistics(environment: Any, **_: Any) -> None:
    """Write the final statistics (``NASTAVNIK_LOAD_STATS``, JSON): per endpoint the count,
    failures and percentiles; every failure with its message and count."""
    target = os.environ.get("NASTAVNIK_LOAD_STATS")
    if not target:
        return
    stats = environment.stats
    entries = [*stats.entries.values(), stats.total]
    rows = [
        {
            "name": "Aggregated" if e is stats.total else
                    ("" if e.name.startswith("POST") or e.method == "GET" else f"{e.method} ")
                    + e.name,
            "count": e.num_requests,
            "failures": e.num_failures,
            "p50": e.get_response_time_percentile(0.50),
            "p95": e.get_response_time_percentile(0.95),
            "p99": e.get_response_time_percentile(0.99),
            "average": e.avg_response_time,
        }
        for e in entries
    ]  # fmt: skip
    failures = [e.to_dict() for e in stats.errors.values()]
    Path(target).write_text(json.dumps({"rows": rows, "failures": failures}, ensure_ascii=False))


class Clicks(HttpUser):
    """What a school's curator does: signs in once (``on_start``), then each method is a click."""

    abstract = True

    def on_start(self) -> None:
        school = WORLD["schools"][next(_SEATS) % len(WORLD["schools"])]
        self.org: str = school["code"]
        self.words: list[str] = school["words"]
        self.extra: list[str] = school["extra"]
        self.header: str = WORLD["header"]
        self.token: str = school["token"]
        self.csrf = ""
        self.proposals: list[int] = []
        self.waiting: list[int] = []
        self.mentors: dict[int, list[int]] = {}
        self.imports = 0
        self.client.headers["Origin"] = self.host or ""  # a browser sends its origin with forms
        self._expect("GET", "/login", "/login", 200)
        self._expect(
            "POST",
            "/login",
            "/login [sign in]",
            303,
            data={"login": school["login"], "password": school["password"]},
        )
        self.school()

    # -- one request, checked ----------------------------------------------------------------

    def _expect(self, method: str, url: str, name: str, status: int, **kwargs: Any) -> str:
        with self.client.request(
            method, url, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code != status:
                alert = _ALERT.search(response.text)  # a page's message, else the body
                said = alert.group(1).strip() if alert else response.text[:200]
                said = said or repr(response.error)  # no answer: the connection's error
                response.failure(f"{response.status_code}: {said}")
                return ""
            if status == 303 and response.headers.get("location", "").startswith("/login"):
                response.failure("303 to /login: the session was not recognised")
                return ""
            text = response.text
            if not self.csrf and (found := _CSRF.search(text)):
                self.csrf = found.group(1)
            return text

    def _page(self, url: str, name: str) -> str:
        return self._expect("GET", url, name, 200)

    def _form(self, url: str, name: str, **kwargs: Any) -> None:
        """Send a form, then open the school page it leads back to, as the browser does."""
        data = dict(kwargs.pop("data", {})) | {"csrf_token": self.csrf}
        self._expect("POST", url, name, 303, data=data, **kwargs)
        self.school()

    # -- pages -------------------------------------------------------------------------------

    def school(self) -> None:
        """The school page: open proposals to decide on, the longest waiting mentees."""
        text = self._page(f"/ui/orgs/{self.org}", "/ui/orgs/[org]")
        self.proposals = [int(x) for x in dict.fromkeys(_OPEN.findall(text))]
        self.waiting = [int(x) for x in dict.fromkeys(_MENTEE.findall(text))] or self.waiting

    def school_search(self) -> None:
        word = random.choice(self.words)
        self._page(f"/ui/orgs/{self.org}?status=all&q={word}", "/ui/orgs/[org]?status=all&q")

    def people(self) -> None:
        side = random.choice(["", "&side=mentee", "&side=mentor"])
        page = random.choice([1, 1, 2, 3])
        self._page(f"/ui/orgs/{self.org}/people?page={page}{side}", "/ui/orgs/[org]/people?page")

    def people_search(self) -> None:
        word = random.choice(self.words)
        self._page(f"/ui/orgs/{self.org}/people?q={word}", "/ui/orgs/[org]/people?q")

    def waiting_list(self) -> None:
        text = self._page(f"/ui/orgs/{self.org}/waiting", "/ui/orgs/[org]/waiting")
        self.waiting = [int(x) for x in dict.fromkeys(_MENTEE.findall(text))] or self.waiting

    def pairs(self) -> None:
        self._page(f"/ui/orgs/{self.org}/pairs", "/ui/orgs/[org]/pairs")

    def report(self) -> None:
        self._page(f"/ui/orgs/{self.org}/report", "/ui/orgs/[org]/report")

    # -- suggestions -------------------------------------------------------------------------

    def suggestions_page(self) -> None:
        """Кто мог бы стать наставником: a waiting mentee's page."""
        if not self.waiting:
            return
        mentee = random.choice(self.waiting)
        text = self._page(
            f"/ui/orgs/{self.org}/mentees/{mentee}", "/ui/orgs/[org]/mentees/[id] (suggestions)"
        )
        self.mentors[mentee] = [int(x) for x in _MENTOR.findall(text)]

    def suggestions_api(self) -> None:
        if not self.waiting:
            return
        mentee = random.choice(self.waiting)
        self._expect(
            "GET",
            f"/api/v1/orgs/{self.org}/mentees/{mentee}/suggestions",
            "/api/v1/orgs/[org]/mentees/[id]/suggestions",
            200,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    # -- decisions ---------------------------------------------------------------------------

    def propose(self) -> None:
        """Propose the best suggested mentor of a mentee whose suggestions were opened."""
        if not self.mentors:
            return
        mentee, mentors = self.mentors.popitem()
        if not mentors or mentee not in self.waiting:
            return
        self.waiting.remove(mentee)
        self._form(
            f"/ui/orgs/{self.org}/proposals",
            "POST /ui/orgs/[org]/proposals",
            data={"mentee_id": mentee, "mentor_id": mentors[0]},
        )

    def confirm(self) -> None:
        self._decide("confirm")

    def reject(self) -> None:
        self._decide("reject")

    def _decide(self, decision: str) -> None:
        if not self.proposals:
            return
        proposal = self.proposals.pop(0)
        self._form(
            f"/ui/proposals/{proposal}/{decision}",
            f"POST /ui/proposals/[id]/{decision}",
            data={"org": self.org},
        )

    def small_import(self) -> None:
        """Upload five pupils' questionnaires (new ones first, then the same again: updates)."""
        if not self.extra:
            return
        start = 5 * self.imports % len(self.extra)
        self.imports += 1
        rows = self.extra[start : start + 5]
        body = "\n".join([self.header, *rows]).encode()
        self._form(
            f"/ui/orgs/{self.org}/import",
            "POST /ui/orgs/[org]/import (5 pupils)",
            data={"side": "mentees", "spec": "pupil"},
            files={"file": ("mentees.csv", body, "text/csv")},
        )


class Curator(Clicks):
    """A curator at work: a click every ``NASTAVNIK_LOAD_WAIT`` seconds, the most frequent first."""

    wait_time = between(_WAIT[0], _WAIT[-1])
    tasks = {  # type: ignore[assignment]  # noqa: RUF012 (locust reads a dict of weights too)
        Clicks.school: 10,
        Clicks.people: 4,
        Clicks.suggestions_page: 5,
        Clicks.people_search: 3,
        Clicks.pairs: 3,
        Clicks.suggestions_api: 3,
        Clicks.confirm: 3,
        Clicks.school_search: 2,
        Clicks.waiting_list: 2,
        Clicks.report: 2,
        Clicks.propose: 1,
        Clicks.reject: 1,
        Clicks.small_import: 1,
    }


def _every_task(user: Clicks) -> None:
    """Every click of :class:`Clicks` once, in order; the last curator to finish ends the run."""
    for step in (
        Clicks.school_search,
        Clicks.people,
        Clicks.people_search,
        Clicks.waiting_list,
        Clicks.pairs,
        Clicks.report,
        Clicks.suggestions_page,
        Clicks.suggestions_api,
        Clicks.propose,
        Clicks.confirm,
        Clicks.reject,
        Clicks.small_import,
    ):
        step(user)
    runner = user.environment.runner
    assert runner is not None
    if next(_FINISHED) == runner.target_user_count:
        gevent.spawn(runner.quit)  # from outside the users, whom it stops
    raise StopUser()


class EveryTask(Clicks):
    """Each curator signs in and does every task once, without pauses (``locust -f ...
    EveryTask``: the quick test of the scenario); the run ends when all are done."""

    wait_time = constant(0)
    tasks = [_every_task]  # noqa: RUF012 (locust's own attribute)
