"""Benchmark of the curator service as it is deployed: a real ``nastavnik serve`` over HTTP.

Run: ``python -m experiments.bench_service`` (SQLite: a fresh file in a temporary folder) or
``python -m experiments.bench_service --database-url postgresql+psycopg://user@host/db`` (a
throwaway PostgreSQL database: the run adds schools and users with a random tag, and never deletes).

It starts the server as a separate process, creates the schools and users with the ``nastavnik
orgs add`` / ``users add`` commands, imports a synthetic municipality (``experiments.cohorts``:
pupil questionnaires, a few schools of different sizes) school by school, and prints:

1. capacity under concurrency: in each round a mentor with two places, one already taken, gets
   ``--curators`` confirmations of different proposals at the same moment (threads released by a
   barrier): the counts of 201 and 409 answers, and the mentors over capacity (must be 0);
2. the latency of the requests a curator waits for: import of a school's mentors and mentees,
   suggestions for one mentee, a school's matching run, the municipality's run;
3. the baseline measured in the same process: ``GET /health`` (the floor of one request with a
   database round trip) and, for the municipality run, the sum of the separate school runs.

The service itself is never imported: this is a black-box measurement of the running server.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from experiments.cohorts import make_city

__all__ = ["main"]

RACE_MENTORS = ("Адрес электронной почты;ФИО;Должность;Преподаваемые предметы;"
                "Педагогический стаж (лет);В каких областях вы можете помочь коллеге?;"
                "Удобный формат встреч;Сколько наставляемых вы готовы взять (1–3)?;"
                "Согласие на обработку персональных данных")  # fmt: skip
RACE_MENTEES = ("Адрес электронной почты;ФИО;Кто вы в программе наставничества?;"
                "Преподаваемые предметы;Педагогический стаж (лет);Удобный формат встреч;"
                "Согласие на обработку персональных данных")  # fmt: skip


# -- the server and the command line ---------------------------------------------------------


def _command() -> list[str]:
    script = Path(sys.executable).with_name("nastavnik")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from service.cli import main; main()"]


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [*_command(), *args], env=env, capture_output=True, text=True, check=False, input=stdin
    )
    if done.returncode != 0:
        raise RuntimeError(f"nastavnik {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(
    env: dict[str, str], log: Path, workers: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``nastavnik serve`` (``workers`` processes, else its default) until it answers
    /health; yield its address and process, and stop it at the end."""
    port = _free_port()
    command = [*_command(), "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{base}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the server did not start; see {log}")
                time.sleep(0.2)
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=60)


@contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[str]:
    """:func:`_serving` when only the address is needed."""
    with _serving(env, log) as (base, _):
        yield base


@dataclass
class World:
    """What the benchmark made: school codes, the municipality, tokens."""

    tag: str
    schools: list[str]
    municipality: str
    race: str
    admin: str
    curators: list[str]


def _setup(env: dict[str, str], schools: int, curators: int) -> World:
    tag = secrets.token_hex(3)
    municipality = f"bench-{tag}"
    codes = [f"b{tag}-s{k}" for k in range(schools)]
    race = f"b{tag}-race"
    _cli(env, "orgs", "add", codes[0], "--name", "Школа 0", "--municipality", municipality)

    def add(args: Sequence[str]) -> str:
        return _cli(env, *args).split()[-1]

    calls = [
        ["orgs", "add", code, "--name", f"Школа {k}", "--municipality", municipality]
        for k, code in enumerate(codes[1:], start=1)
    ]
    calls.append(["orgs", "add", race, "--name", "Школа одновременных решений"])
    with ThreadPoolExecutor(4) as pool:  # every command starts a Python: in parallel
        list(pool.map(add, calls))
        users = [["users", "add", "--login", f"admin-{tag}", "--role", "admin"]] + [
            ["users", "add", "--login", f"curator-{tag}-{k}", "--role", "curator", "--org", race]
            for k in range(curators)
        ]
        tokens = list(pool.map(add, users))
    return World(tag, codes, municipality, race, tokens[0], tokens[1:])


# -- measuring -------------------------------------------------------------------------------


def _timed(request: Callable[[], httpx.Response], expect: int) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = request()
    seconds = time.perf_counter() - start
    if response.status_code != expect:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return seconds, response


def _csv(table: Any) -> bytes:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, sep=";")
    return buffer.getvalue().encode()


def _import_city(
    client: httpx.Client, world: World, mentees: int, mentors: int, seed: int
) -> dict[str, list[float]]:
    city = make_city(seed=seed, spec="pupil", mentees=mentees, mentors=mentors,
                     schools=len(world.schools))  # fmt: skip
    names = sorted(set(city.mentee_orgs) | set(city.mentor_orgs), key=lambda n: int(n.split()[-1]))
    times: dict[str, list[float]] = {"mentors": [], "mentees": [], "rows": []}
    for code, name in zip(world.schools, names, strict=False):
        for side, table, orgs in (("mentors", city.mentors_table, city.mentor_orgs),
                                  ("mentees", city.mentees_table, city.mentee_orgs)):  # fmt: skip
            part = table[np.asarray(orgs) == name]
            files = {"file": (f"{side}.csv", _csv(part))}
            seconds, _ = _timed(
                lambda c=code, s=side, f=files: client.post(  # type: ignore[misc]
                    f"/api/v1/orgs/{c}/imports/{s}", files=f, data={"spec": "pupil"}
                ),
                201,
            )
            times[side].append(seconds)
            times["rows"].append(len(part))
    return times


def _ids(client: httpx.Client, org: str, side: str) -> dict[str, int]:
    people = client.get(f"/api/v1/orgs/{org}/people", params={"side": side}).json()
    return {p["external_id"]: p["id"] for p in people}


def _race_school(client: httpx.Client, world: World, rounds: int, curators: int) -> None:
    mentors = [RACE_MENTORS] + [
        f"r{r}@race;Наставник {r};Учитель;Физика;20;Методика;Очно;2;да" for r in range(rounds)
    ]
    mentees = [RACE_MENTEES] + [
        f"r{r}-{k}@race;Наставляемый {r}-{k};Молодой специалист;Физика;1;Очно;да"
        for r in range(rounds)
        for k in range(curators + 1)
    ]
    for side, rows in (("mentors", mentors), ("mentees", mentees)):
        files = {"file": (f"{side}.csv", "\n".join(rows).encode())}
        _timed(lambda s=side, f=files: client.post(  # type: ignore[misc]
            f"/api/v1/orgs/{world.race}/imports/{s}", files=f), 201)  # fmt: skip


def _propose(client: httpx.Client, org: str, mentee: int, mentor: int) -> int:
    body = {"mentee_id": mentee, "mentor_id": mentor}
    _, response = _timed(lambda: client.post(f"/api/v1/orgs/{org}/proposals", json=body), 201)
    return int(response.json()["proposal_id"])


def _confirm_together(base: str, tokens: list[str], proposals: list[int]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(proposals))
    responses: list[httpx.Response | None] = [None] * len(proposals)

    def confirm(k: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[k % len(tokens)]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as own:
            barrier.wait()
            responses[k] = own.post(f"/api/v1/proposals/{proposals[k]}/confirm")

    threads = [threading.Thread(target=confirm, args=(k,)) for k in range(len(proposals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in responses if r is not None]


def _capacity(
    base: str, client: httpx.Client, world: World, rounds: int
) -> tuple[Counter[str], int, int, list[float]]:
    """Rounds of simultaneous confirmations for the last place; (answers, over, report, times)."""
    curators = len(world.curators)
    _race_school(client, world, rounds, curators)
    mentors, mentees = _ids(client, world.race, "mentor"), _ids(client, world.race, "mentee")
    answers: Counter[str] = Counter()
    times = []
    for r in range(rounds):
        mentor = mentors[f"r{r}@race"]
        first = _propose(client, world.race, mentees[f"r{r}-0@race"], mentor)
        _timed(lambda p=first: client.post(f"/api/v1/proposals/{p}/confirm"), 201)  # type: ignore[misc]
        contenders = [_propose(client, world.race, mentees[f"r{r}-{k}@race"], mentor)
                      for k in range(1, curators + 1)]  # fmt: skip
        start = time.perf_counter()
        responses = _confirm_together(base, world.curators, contenders)
        times.append(time.perf_counter() - start)
        answers.update(f"{x.status_code} {x.json().get('code', '')}".strip() for x in responses)
    people = client.get(f"/api/v1/orgs/{world.race}/people", params={"side": "mentor"}).json()
    over = sum(p["active_pairs"] > p["capacity"] for p in people)
    report = client.get(f"/api/v1/orgs/{world.race}/report").json()
    return answers, over, int(report["mentor_load"]["over_capacity"]), times


def _repeat(request: Callable[[], httpx.Response], times: int, expect: int = 200) -> list[float]:
    return [_timed(request, expect)[0] for _ in range(times)]


def _line(name: str, seconds: Sequence[float], baseline: float, note: str = "") -> str:
    median = statistics.median(seconds)
    worst = max(seconds)
    return (f"{name:<38} {1000 * median:>9.1f} {1000 * worst:>9.1f} {len(seconds):>4} "
            f"{median / baseline:>9.0f}x  {note}")  # fmt: skip


# -- the benchmark ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    """Set up, start the server, measure and print."""
    folder = Path(tempfile.mkdtemp(prefix="nastavnik-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = url.split(":", 1)[0].split("+", 1)[0]
    env = os.environ | {"NASTAVNIK_DATABASE_URL": url, "NASTAVNIK_ENVIRONMENT": "development"}
    started = time.perf_counter()
    world = _setup(env, args.schools, args.curators)
    print(f"nastavnik service benchmark: {engine}, {args.schools} schools of one municipality, "
          f"{args.mentees} pupil mentees and {args.mentors} mentors (seed {args.seed}); "
          f"set-up {time.perf_counter() - started:.0f} s; server log {folder / 'server.log'}")  # fmt: skip
    with (
        _server(env, folder / "server.log") as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {world.admin}"},
                     timeout=600) as client,
    ):  # fmt: skip
        health = _repeat(lambda: client.get("/health"), 50)
        baseline = statistics.median(health)
        imports = _import_city(client, world, args.mentees, args.mentors, args.seed)
        school = world.schools[0]
        waiting = client.get(f"/api/v1/orgs/{school}/waiting").json()
        rng = np.random.default_rng(args.seed)
        chosen = rng.choice(
            [w["mentee_id"] for w in waiting], size=min(20, len(waiting)), replace=False
        )
        suggestions = [
            _timed(lambda m=m: client.get(f"/api/v1/orgs/{school}/mentees/{m}/suggestions"),  # type: ignore[misc]
                   200)[0]
            for m in chosen
        ]  # fmt: skip
        school_run = _repeat(lambda: client.post(f"/api/v1/orgs/{school}/matching-runs"), 5, 201)
        each = [_timed(lambda c=c: client.post(f"/api/v1/orgs/{c}/matching-runs"), 201)[0]  # type: ignore[misc]
                for c in world.schools]  # fmt: skip
        municipal = [
            _timed(lambda: client.post(f"/api/v1/municipalities/{world.municipality}/matching-runs"),
                   201)
            for _ in range(3)
        ]  # fmt: skip
        answers, over, over_report, rounds = _capacity(base, client, world, args.rounds)
    proposals = len(municipal[-1][1].json()["proposals"])
    rows = imports["rows"]
    print(f"{'request':<38} {'median ms':>9} {'max ms':>9} {'n':>4} {'/ health':>10}")
    print(_line("GET /health (baseline)", health, baseline))
    print(_line("import mentors, one school", imports["mentors"], baseline,
                f"{min(rows[0::2])}–{max(rows[0::2])} rows"))  # fmt: skip
    print(_line("import mentees, one school", imports["mentees"], baseline,
                f"{min(rows[1::2])}–{max(rows[1::2])} rows"))  # fmt: skip
    print(_line("suggestions for one mentee", suggestions, baseline, f"school {school}"))
    print(_line("matching run, one school", school_run, baseline, f"school {school}"))
    print(_line("matching run, each school once", each, baseline,
                f"sum {sum(each):.2f} s"))  # fmt: skip
    print(_line("matching run, the municipality", [m[0] for m in municipal], baseline,
                f"{proposals} proposals; "
                f"{statistics.median(m[0] for m in municipal) / sum(each):.2f}x the sum of the "
                "school runs"))  # fmt: skip
    codes = ", ".join(f"{answer} x {n}" for answer, n in sorted(answers.items()))
    print(f"capacity: {args.rounds} rounds x {len(world.curators)} curators confirming the last "
          f"free place of one mentor at once: {codes}; mentors over capacity: {over} "
          f"(report: {over_report}); median round {1000 * statistics.median(rounds):.0f} ms")  # fmt: skip


PAGES = (
    ("school page: open proposals", "/ui/orgs/{s}"),
    ("school page: all, searched", "/ui/orgs/{s}?status=all&q={q}"),
    ("people, page 1", "/ui/orgs/{s}/people"),
    ("people: mentees, page 3", "/ui/orgs/{s}/people?side=mentee&sort=name&page=3"),
    ("people: search", "/ui/orgs/{s}/people?q={q}"),
    ("people: class 7, mathematics", "/ui/orgs/{s}/people?grade=7&subject=math"),
    ("waiting", "/ui/orgs/{s}/waiting"),
    ("pairs", "/ui/orgs/{s}/pairs"),
    ("report", "/ui/orgs/{s}/report"),
    ("run result", "/ui/runs/{run}"),
    ("municipality", "/ui/municipalities/{m}"),
    ("feedback", "/ui/orgs/{s}/feedback"),
    ("API people/paged", "/api/v1/orgs/{s}/people/paged?q={q}"),
    ("API proposals/paged", "/api/v1/orgs/{s}/proposals/paged"),
    ("API municipality report", "/api/v1/municipalities/{m}/report"),
)


def run_pages(args: argparse.Namespace) -> None:
    """One school of ``--mentees`` pupils: import, a run, 50 pairs confirmed at once, then the
    time each page takes to render (median of ``--repeat``), against ``GET /health``."""
    folder = Path(tempfile.mkdtemp(prefix="nastavnik-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = url.split(":", 1)[0].split("+", 1)[0]
    env = os.environ | {"NASTAVNIK_DATABASE_URL": url, "NASTAVNIK_ENVIRONMENT": "development"}
    world = _setup(env, 1, 1)
    with (
        _server(env, folder / "server.log") as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {world.admin}"},
                     timeout=600) as client,
    ):  # fmt: skip
        _import_city(client, world, args.mentees, args.mentors, args.seed)
        school = world.schools[0]
        _, made = _timed(lambda: client.post(f"/api/v1/orgs/{school}/matching-runs"), 201)
        run_id = made.json()["run_id"]
        best = [p["proposal_id"] for p in made.json()["proposals"]][:50]
        bulk, done = _timed(
            lambda: client.post("/api/v1/proposals/confirm", json={"proposal_ids": best}), 200
        )
        people = client.get(f"/api/v1/orgs/{school}/people/paged", params={"per_page": 1})
        total = people.json()["total"]
        some = client.get(f"/api/v1/orgs/{school}/people/paged").json()["items"][0]["name"]
        query = some.split()[0]
        health = _repeat(lambda: client.get("/health"), 30)
        baseline = statistics.median(health)
        print(f"nastavnik pages benchmark: {engine}, one school of {total} people "
              f"({args.mentees} pupil mentees, {args.mentors} mentors, seed {args.seed}); "
              f"{len(made.json()['proposals'])} proposals; bulk confirm of {len(best)}: "
              f"{len(done.json()['confirmed'])} confirmed in {bulk:.2f} s")  # fmt: skip
        print(f"{'page':<38} {'median ms':>9} {'max ms':>9} {'n':>4} {'/ health':>10}")
        print(_line("GET /health (baseline)", health, baseline))
        for name, path in PAGES:
            target = path.format(s=school, q=query, run=run_id, m=world.municipality)
            print(_line(name, _repeat(lambda t=target: client.get(t), args.repeat), baseline))  # type: ignore[misc]


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a throwaway PostgreSQL database (default: SQLite)")
    parser.add_argument("--schools", type=int, default=8)
    parser.add_argument("--mentees", type=int, default=2000, help="pupil mentees in all schools")
    parser.add_argument("--mentors", type=int, default=800, help="mentors in all schools")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of simultaneous confirms")
    parser.add_argument("--curators", type=int, default=6, help="curators confirming at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pages",
        action="store_true",
        help="only the pages of one school of --mentees pupils (say 600, with --mentors 225)",
    )
    parser.add_argument("--repeat", type=int, default=10, help="requests of each page")
    args = parser.parse_args(argv)
    run_pages(args) if args.pages else run(args)


if __name__ == "__main__":
    main()
