"""Load test of the curator service: 50 curators at once against ``nastavnik serve`` on PostgreSQL.

Run (needs the ``bench`` extra: ``pip install -e '.[bench]'``, which ``make install`` does)::

    python -m experiments.bench_load --database-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres

``--database-url`` names a PostgreSQL *server* (any database on it that we may connect to): the
benchmark creates a database of its own there, ``nastavnik_load_<schools>x<mentees>_<seed>``,
the first time (schools, curators with passwords and tokens, pupils' questionnaires imported
through the API, a matching run per school and half of its proposals confirmed) and keeps it as
a template, with the curators' logins and tokens in ``var/bench-load/<name>.json``. Every
measurement starts from a fresh copy of it (``CREATE DATABASE ... TEMPLATE``), so two runs
(before and after a change) start from the same data; the copy is dropped at the end.

Then it starts ``nastavnik serve --workers N`` on the copy, warms it up, runs locust headless
(``experiments/load_curators.py``: ``--users`` curators, each on their own school, a pause of
``--wait`` seconds between clicks) for ``--duration`` seconds, and prints per endpoint the
request count, failures and the 50/95/99th percentiles (locust's), the failures by kind, and the
CPU seconds used by the server (all its processes), by PostgreSQL's backends of the copy and by
locust itself, with the load average of the machine before and after.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import psycopg

from experiments.bench_service import _cli, _serving
from experiments.cohorts import make_city

__all__ = ["main", "prepare_world", "read_stats"]

SCENARIO = Path(__file__).with_name("load_curators.py")
EXTRA = 20  # pupils per school held back from the first import: the curators' small imports
WORDS = 8  # surnames per school the curators search for
# What a curator waits for while reading: the goal of issue 14 is p95 under 200 ms for these.
PAGES_AND_SUGGESTIONS = ("/ui/orgs/", "/api/v1/orgs/[org]/mentees/")


# -- the PostgreSQL server -------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def _admin(url: str, *statements: str) -> list[Any]:
    found = []
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        for statement in statements:
            cursor = connection.execute(statement)
            found.append(cursor.fetchall() if cursor.description else None)
    return found


def _exists(url: str, name: str) -> bool:
    rows = _admin(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")[0]
    return bool(rows)


# -- preparing the schools (once; kept as a template) ----------------------------------------


def _table_csv(table: Any) -> tuple[str, list[str]]:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, sep=";", lineterminator="\n")
    header, *rows = buffer.getvalue().rstrip("\n").split("\n")
    return header, rows


def _school_sizes(city: Any) -> list[str]:
    names = set(city.mentee_orgs) | set(city.mentor_orgs)
    return sorted(names, key=lambda n: int(n.split()[-1]))


def prepare_world(
    base: str, admin: str, codes: Sequence[str], city: Any, threads: int = 2
) -> dict[str, Any]:
    """Import each school's questionnaires through the API of a running server, run its matching,
    confirm half of the proposals; return the world file's schools (without the logins)."""
    names = _school_sizes(city)
    mentees = np.asarray(city.mentee_orgs)
    mentors = np.asarray(city.mentor_orgs)
    header = ""

    def one(code: str, name: str) -> dict[str, Any]:
        nonlocal header
        headers = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            part = city.mentors_table[mentors == name]
            mentor_header, mentor_rows = _table_csv(part)
            body = "\n".join([mentor_header, *mentor_rows]).encode()
            _post(client, f"/api/v1/orgs/{code}/imports/mentors", 201,
                  files={"file": ("mentors.csv", body)}, data={"spec": "pupil"})  # fmt: skip
            part = city.mentees_table[mentees == name]
            header, rows = _table_csv(part)
            kept, extra = rows[:-EXTRA], rows[-EXTRA:]
            body = "\n".join([header, *kept]).encode()
            _post(client, f"/api/v1/orgs/{code}/imports/mentees", 201,
                  files={"file": ("mentees.csv", body)}, data={"spec": "pupil"})  # fmt: skip
            run = _post(client, f"/api/v1/orgs/{code}/matching-runs", 201).json()
            ids = [p["proposal_id"] for p in run["proposals"]]
            _post(client, "/api/v1/proposals/confirm", 200, json={"proposal_ids": ids[::2]})
            words = sorted({str(n).split()[0] for n in part["ФИО"]})
            rng = np.random.default_rng(abs(hash(code)) % 2**32)
            chosen = rng.choice(words, size=min(WORDS, len(words)), replace=False)
            return {"code": code, "mentees": len(part), "mentors": len(mentor_rows),
                    "proposals": len(ids), "words": [str(w) for w in chosen], "extra": extra}  # fmt: skip

    with ThreadPoolExecutor(threads) as pool:
        schools = list(pool.map(one, codes, names))
    return {"header": header, "schools": schools}


def _post(client: httpx.Client, url: str, expect: int, **kwargs: Any) -> httpx.Response:
    response = client.post(url, **kwargs)
    if response.status_code != expect:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return response


# Many `nastavnik` commands in one Python (each command of its own costs seconds of start-up on a
# busy machine): one JSON line per command in ({"args": [...], "stdin": "..."}), its output out.
_BATCH = """
import contextlib, io, json, sys
from service.cli import app
commands = sys.stdin
for line in commands:
    job = json.loads(line)
    out = io.StringIO()
    sys.stdin = io.StringIO(job.get("stdin") or "")
    with contextlib.redirect_stdout(out):
        code = app(job["args"], standalone_mode=False)
    sys.stdin = commands
    print(json.dumps({"code": code or 0, "out": out.getvalue()}), flush=True)
"""


def _cli_batch(env: dict[str, str], jobs: Sequence[dict[str, Any]]) -> list[str]:
    """Run ``nastavnik`` commands in one process; return each one's output."""
    lines = "".join(json.dumps(job, ensure_ascii=False) + "\n" for job in jobs)
    done = subprocess.run([sys.executable, "-c", _BATCH], env=env, input=lines,
                          capture_output=True, text=True, check=False)  # fmt: skip
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or len(answers) != len(jobs) or any(a["code"] for a in answers):
        raise RuntimeError(f"nastavnik commands failed: {done.stderr.strip()[-2000:]}")
    return [str(a["out"]).strip() for a in answers]


def _prepare(args: argparse.Namespace, template: str, world_file: Path) -> dict[str, Any]:
    started = time.perf_counter()
    url = _with_database(args.database_url, template)
    _admin(
        args.database_url, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"'
    )
    env = os.environ | {"NASTAVNIK_DATABASE_URL": url, "NASTAVNIK_ENVIRONMENT": "development"}
    _cli(env, "db", "upgrade")
    codes = [f"load-s{k:02d}" for k in range(args.schools)]
    logins = [(f"curator-{k:02d}", f"пароль-куратора-{k:02d}") for k in range(args.schools)]
    jobs: list[dict[str, Any]] = [
        {"args": ["orgs", "add", code, "--name", f"МБОУ СОШ № {k + 1}",
                  "--municipality", "Нагрузочный"]}
        for k, code in enumerate(codes)
    ]  # fmt: skip
    jobs.append({"args": ["users", "add", "--login", "load-admin", "--role", "admin"]})
    jobs += [
        {"args": ["users", "add", "--login", login, "--role", "curator", "--org", code,
                  "--password-stdin"], "stdin": password + "\n"}
        for code, (login, password) in zip(codes, logins, strict=True)
    ]  # fmt: skip
    outputs = _cli_batch(env, jobs)
    admin = outputs[len(codes)].split()[-1]
    curators = [
        {"login": login, "password": password, "token": out.split()[-1]}
        for (login, password), out in zip(logins, outputs[len(codes) + 1 :], strict=True)
    ]
    city = make_city(seed=args.seed, spec="pupil", mentees=args.schools * args.mentees,
                     mentors=int(args.schools * args.mentees * 0.4), schools=args.schools)  # fmt: skip
    log = Path(tempfile.mkdtemp(prefix="nastavnik-load-")) / "prepare.log"
    with _serving(env, log, 2) as (base, _):
        world = prepare_world(base, admin, codes, city)
    for school, login in zip(world["schools"], curators, strict=True):
        school.update(login)
    world |= {"admin": admin, "database": template, "seconds": time.perf_counter() - started}
    world_file.parent.mkdir(parents=True, exist_ok=True)
    world_file.write_text(json.dumps(world, ensure_ascii=False, indent=1), encoding="utf-8")
    sizes = [s["mentees"] for s in world["schools"]]
    print(f"prepared {template}: {len(sizes)} schools of {min(sizes)}–{max(sizes)} pupil mentees "
          f"({sum(sizes)} in all) in {world['seconds']:.0f} s", flush=True)  # fmt: skip
    return world


# -- the server and the load -----------------------------------------------------------------


def _cpu(processes: Sequence[psutil.Process]) -> dict[int, float]:
    found = {}
    for process in processes:
        try:
            times = process.cpu_times()
            found[process.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return found


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _backends(database: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if line.startswith("postgres: ") and f" {database} " in line:
            found.append(process)
    return found


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _warm(base: str, world: dict[str, Any]) -> None:
    """A few requests of every kind on a few schools, so that the timed run finds every
    worker's templates compiled and its pools open (as a server that has been up a while)."""
    for school in world["schools"][:6]:
        headers = {"Authorization": f"Bearer {school['token']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for path in ("", "/people", "/pairs", "/report", "/waiting"):
                client.get(f"/ui/orgs/{school['code']}{path}")
            answer = client.get(f"/api/v1/orgs/{school['code']}/waiting")
            if answer.status_code != 200:  # a world file of another template: tokens unknown
                raise SystemExit(
                    f"the prepared world does not match database {world['database']} "
                    f"({answer.status_code} for {school['code']}): run again with --fresh"
                )
            waiting = answer.json()
            for mentee in [w["mentee_id"] for w in waiting[:2]]:
                client.get(f"/ui/orgs/{school['code']}/mentees/{mentee}")
                client.get(f"/api/v1/orgs/{school['code']}/mentees/{mentee}/suggestions")


@dataclass
class Row:
    """One endpoint of locust's statistics."""

    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    average: float


def read_stats(path: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    """The final statistics the scenario writes (``NASTAVNIK_LOAD_STATS``): rows per endpoint
    (``Aggregated`` for all) and the failures with their messages and counts."""
    found = json.loads(path.read_text(encoding="utf-8"))
    return [Row(**row) for row in found["rows"]], found["failures"]


def run_locust(
    base: str, world_file: Path, users: int, spawn_rate: float, seconds: int, wait: str, out: Path
) -> tuple[Path, float]:
    """Run the scenario headless; return the statistics' file and locust's CPU seconds."""
    prefix = out / "locust.json"
    script = Path(sys.executable).with_name("locust")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "locust"]
    env = os.environ | {"NASTAVNIK_LOAD_WORLD": str(world_file), "NASTAVNIK_LOAD_WAIT": wait,
                        "NASTAVNIK_LOAD_STATS": str(prefix)}  # fmt: skip
    process = psutil.Popen(
        [*command, "-f", str(SCENARIO), "Curator", "--headless", "--users", str(users),
         "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s", "--host", base,
         "--only-summary", "--loglevel", "WARNING",
         "--exit-code-on-error", "0", "--stop-timeout", "120"],
        env=env, stdout=(out / "locust.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    last = 0.0
    while process.poll() is None:
        last = _cpu([process]).get(process.pid, last)
        time.sleep(0.5)
    if process.returncode != 0:
        raise RuntimeError(f"locust failed ({process.returncode}); see {out / 'locust.log'}")
    return prefix, last


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(args: argparse.Namespace) -> None:
    """Prepare (once), copy, serve, load, print."""
    template = f"nastavnik_load_{args.schools}x{args.mentees}_{args.seed}"
    world_file = Path(args.state) / f"{template}.json"
    if args.fresh or not world_file.exists() or not _exists(args.database_url, template):
        _prepare(args, template, world_file)
    world = json.loads(world_file.read_text(encoding="utf-8"))
    copy = f"{template}_run"
    _admin(args.database_url, f'DROP DATABASE IF EXISTS "{copy}"',
           f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="nastavnik-load-"))
    env = os.environ | {
        "NASTAVNIK_DATABASE_URL": _with_database(args.database_url, copy),
        "NASTAVNIK_ENVIRONMENT": "development",
    }
    try:
        with _serving(env, out / "server.log", args.workers) as (base, server):
            _warm(base, world)
            processes = _tree(server.pid)
            cpu_before, db_before = _cpu(processes), _cpu(_backends(copy))
            load_before = _load()
            started = time.perf_counter()
            prefix, locust_cpu = run_locust(base, world_file, args.users, args.spawn_rate,
                                            args.duration, args.wait, out)  # fmt: skip
            wall = time.perf_counter() - started
            server_cpu = _used(cpu_before, _cpu(processes))
            db_cpu = _used(db_before, _cpu(_backends(copy)))
            load_after = _load()
    finally:
        if not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{copy}"')
    rows, failures = read_stats(prefix)
    sizes = [s["mentees"] for s in world["schools"]]
    print(f"nastavnik load test: {args.users} curators on {len(sizes)} schools of "
          f"{min(sizes)}–{max(sizes)} pupil mentees, PostgreSQL, {args.workers} server "
          f"workers, {args.duration} s, a pause of {args.wait} s between clicks; "
          f"logs in {out}")  # fmt: skip
    print(f"load average before {load_before}, after {load_after} (1, 5, 15 min; 2 cores)")
    print(f"CPU seconds over {wall:.0f} s: server {server_cpu:.0f} ({server_cpu / wall:.2f} cores), "
          f"PostgreSQL backends {db_cpu:.0f} ({db_cpu / wall:.2f} cores), "
          f"locust {locust_cpu:.0f} ({locust_cpu / wall:.2f} cores)")  # fmt: skip
    answered = sum(r.count for r in rows if r.name == "Aggregated")
    print(f"server CPU per request: {1000 * server_cpu / max(answered, 1):.0f} ms "
          f"({answered} requests; steadier than latency on a shared machine)")  # fmt: skip
    print(
        f"{'endpoint':<52} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for row in sorted(rows, key=lambda r: (r.name == "Aggregated", r.name)):
        print(f"{row.name:<52} {row.count:>8} {row.failures:>6} {row.p50:>7.0f} {row.p95:>7.0f} "
              f"{row.p99:>7.0f}")  # fmt: skip
    reading = [r for r in rows if r.name.startswith(PAGES_AND_SUGGESTIONS)]
    worst = max(reading, key=lambda r: r.p95, default=None)
    errors = sum(r.failures for r in rows if r.name != "Aggregated")
    if worst is not None:
        print(f"errors: {errors}; slowest p95 of pages and suggestions: {worst.p95:.0f} ms "
              f"({worst.name}); goal: 0 errors, p95 under 200 ms")  # fmt: skip
    for failure in failures:
        print(f"  {failure['occurrences']} x {failure['method']} {failure['name']}: "
              f"{failure['error'][:200]}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run the load test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "NASTAVNIK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
        ),
        help="a PostgreSQL server (the load test creates its own databases there)",
    )
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--mentees", type=int, default=300, help="pupil mentees per school, mean")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--users", type=int, default=50, help="curators at once")
    parser.add_argument(
        "--spawn-rate", type=float, default=2, help="curators signing in per second"
    )
    parser.add_argument("--duration", type=int, default=90, help="seconds of load")
    parser.add_argument("--wait", default="2,6", help="pause between a curator's clicks, s")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--state", default="var/bench-load", help="where the world files are")
    parser.add_argument("--fresh", action="store_true", help="prepare the schools again")
    parser.add_argument("--keep", action="store_true", help="keep the measured copy")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
