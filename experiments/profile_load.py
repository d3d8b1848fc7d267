"""Server CPU per request of the load test's pages, endpoint by endpoint, one request at a time:
what ``experiments.bench_load`` measures as "server CPU per request", split by endpoint, and far
steadier than latencies on a shared machine.

Run after ``python -m experiments.bench_load`` has prepared its template database once::

    python -m experiments.profile_load [--repeat 10] [--only school] [--py-spy school.txt]

It copies the template (``CREATE DATABASE ... TEMPLATE``), starts ``nastavnik serve`` (one
worker) on the copy and sends, one after another, the reading requests of
``experiments/load_curators.py`` (the school page, its search, people pages and search, pairs,
waiting list, report, a waiting mentee's suggestions page and API) for the largest schools and a
middle one, signed in as each school's curator; then, once per school, what the load test does
besides reading (sign in, confirm, reject, import five pupils, and the first suggestions of a
school the server has not scored yet). Each endpoint is asked once per school first
(as a server that has been up a while: templates compiled, caches filled), then ``--repeat``
times; the table gives the server's CPU time per request (all its threads, from
``/proc/<pid>/task/*/schedstat``, nanoseconds) and the client's wall time. ``--py-spy FILE``
records the server with ``py-spy record --format raw`` while it is measured (stacks and counts,
e.g. ``grep`` a page function's name). The copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from experiments.bench_load import _admin, _exists, _with_database
from experiments.bench_service import _serving

__all__ = ["main"]

_MENTEE = re.compile(r"/ui/orgs/[^/]+/mentees/(\d+)")


def _endpoints(school: dict[str, Any], waiting: list[int]) -> dict[str, tuple[str, str]]:
    code, word = school["code"], school["words"][0]
    mentee = waiting[0] if waiting else 0
    return {
        "health": ("page", "/health"),  # the floor: the framework and one statement
        "school": ("page", f"/ui/orgs/{code}"),
        "school search": ("page", f"/ui/orgs/{code}?status=all&q={word}"),
        "people": ("page", f"/ui/orgs/{code}/people?page=2"),
        "people search": ("page", f"/ui/orgs/{code}/people?q={word}"),
        "pairs": ("page", f"/ui/orgs/{code}/pairs"),
        "waiting": ("page", f"/ui/orgs/{code}/waiting"),
        "report": ("page", f"/ui/orgs/{code}/report"),
        "suggestions page": ("page", f"/ui/orgs/{code}/mentees/{mentee}"),
        "suggestions API": ("api", f"/api/v1/orgs/{code}/mentees/{mentee}/suggestions"),
    }


def _threads_ns(pid: int) -> dict[int, int]:
    """CPU time of each thread of process ``pid`` so far, in nanoseconds."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that ended
            found[int(task.name)] = int((task / "schedstat").read_text().split()[0])
    return found


class _Cpu:
    """The CPU time a process spends from now on (its threads come and go: an idle worker
    thread that ends takes its own total with it, which must not count as time given back)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.before = pid, _threads_ns(pid)

    def used(self) -> int:
        """Nanoseconds since this was made."""
        after = _threads_ns(self.pid)
        return sum(ns - self.before.get(tid, 0) for tid, ns in after.items())


def _py_spy() -> str:
    found = Path(sys.executable).with_name("py-spy")  # the bench extra's
    return str(found) if found.exists() else "py-spy"


def _together(pid: int, plan: list[Any], repeat: int, concurrent: int) -> None:
    """Send every request of ``plan`` ``repeat`` times, ``concurrent`` at a time (each client
    in one thread at once): the server's CPU per request when requests overlap, as under load
    (more objects alive at once: more work for the garbage collector)."""
    from concurrent.futures import ThreadPoolExecutor

    by_client: dict[int, list[Any]] = {}
    for item in plan * repeat:
        by_client.setdefault(id(item[0]), []).append(item)
    lanes = list(by_client.values())

    def lane(items: list[Any]) -> None:
        for client, _, path, headers in items:
            assert client.get(path, headers=headers).status_code == 200

    cpu_meter, started = _Cpu(pid), time.perf_counter()
    with ThreadPoolExecutor(concurrent) as pool:
        list(pool.map(lane, lanes))
    used, elapsed = cpu_meter.used(), time.perf_counter() - started
    count = len(plan) * repeat
    print(f"{count} requests, {min(concurrent, len(lanes))} at a time: server CPU per request "
          f"{used / count / 1e6:.1f} ms, {count / elapsed:.1f} requests/s")  # fmt: skip


_OPEN = re.compile(r"/ui/proposals/(\d+)/confirm")


def _writes(
    base: str,
    pid: int,
    world: dict[str, Any],
    chosen: list[dict[str, Any]],
    others: list[dict[str, Any]],
    cpu: dict[str, list[int]],
    wall: dict[str, list[float]],
) -> None:
    """What the load test does besides reading, once per school: sign in, the first
    suggestions of a school this server has not scored yet (``others``), confirm and reject
    an open proposal, import five pupils (each form's redirect not followed)."""

    def timed(name: str, client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
        cpu_meter, started = _Cpu(pid), time.perf_counter()
        answer = client.request(method, url, **kw)
        wall.setdefault(name, []).append(time.perf_counter() - started)
        cpu.setdefault(name, []).append(cpu_meter.used())
        return answer

    for school in [*chosen, *others]:
        client = httpx.Client(base_url=base, timeout=120, headers={"Origin": base})
        login = {"login": school["login"], "password": school["password"]}
        assert timed("sign in", client, "POST", "/login", data=login).status_code == 303
        code = school["code"]
        page = client.get(f"/ui/orgs/{code}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        token = {"csrf_token": csrf.group(1), "org": code}
        if school in others:
            bearer = {"Authorization": f"Bearer {school['token']}"}
            path = f"/api/v1/orgs/{code}/mentees/{_MENTEE.findall(page)[0]}/suggestions"
            found = timed("suggestions, first", client, "GET", path, headers=bearer)
            assert found.status_code == 200, found.text[:200]
            continue
        proposals = list(dict.fromkeys(_OPEN.findall(page)))
        for decision, proposal in zip(("confirm", "reject"), proposals, strict=False):
            url = f"/ui/proposals/{proposal}/{decision}"
            assert timed(decision, client, "POST", url, data=token).status_code == 303
        body = "\n".join([world["header"], *school["extra"][:5]]).encode()
        done = timed("import 5 pupils", client, "POST", f"/ui/orgs/{code}/import",
                     data=token | {"side": "mentees", "spec": "pupil"},
                     files={"file": ("mentees.csv", body, "text/csv")})  # fmt: skip
        assert done.status_code == 303, done.text[:200]


def run(args: argparse.Namespace) -> None:
    """Copy the template, serve it, send the requests, print the table."""
    template = f"nastavnik_load_{args.schools}x{args.mentees}_{args.seed}"
    world_file = Path(args.state) / f"{template}.json"
    if not world_file.exists() or not _exists(args.database_url, template):
        raise SystemExit(f"no {template}: run `python -m experiments.bench_load` once first")
    world = json.loads(world_file.read_text(encoding="utf-8"))
    copy = f"{template}_profile"
    _admin(args.database_url, f'DROP DATABASE IF EXISTS "{copy}"',
           f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')  # fmt: skip
    env = os.environ | {
        "NASTAVNIK_DATABASE_URL": _with_database(args.database_url, copy),
        "NASTAVNIK_ENVIRONMENT": "development",
    }
    schools = sorted(world["schools"], key=lambda s: -s["mentees"])
    chosen = [*schools[: args.largest], schools[len(schools) // 2]]
    cpu: dict[str, list[int]] = {}
    wall: dict[str, list[float]] = {}
    log = Path(tempfile.mkdtemp(prefix="nastavnik-profile-")) / "server.log"
    spy = None
    try:
        with _serving(env, log, 1) as (base, server):
            pid = server.pid
            plan = []
            for school in chosen:
                client = httpx.Client(base_url=base, timeout=120, headers={"Origin": base})
                answer = client.post("/login", data={"login": school["login"],
                                     "password": school["password"]})  # fmt: skip
                assert answer.status_code == 303, answer.text[:300]
                waiting = [int(x) for x in _MENTEE.findall(
                    client.get(f"/ui/orgs/{school['code']}/waiting").text)]  # fmt: skip
                bearer = {"Authorization": f"Bearer {school['token']}"}
                for name, (kind, path) in _endpoints(school, waiting).items():
                    if not args.only or name in args.only:
                        plan.append((client, name, path, bearer if kind == "api" else {}))
            for client, _, path, headers in plan:  # warm: once each
                client.get(path, headers=headers)
            if args.py_spy:
                spy = subprocess.Popen(
                    [_py_spy(), "record", "--pid", str(pid), "--format", "raw", "--gil",
                     "--rate", "250", "--output", args.py_spy],
                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                )  # fmt: skip
                time.sleep(1.0)
            for _ in range(args.repeat):
                for client, name, path, headers in plan:
                    cpu_meter, started = _Cpu(pid), time.perf_counter()
                    answer = client.get(path, headers=headers)
                    elapsed, used = time.perf_counter() - started, cpu_meter.used()
                    assert answer.status_code == 200, (path, answer.status_code)
                    cpu.setdefault(name, []).append(used)
                    wall.setdefault(name, []).append(elapsed)
            if args.concurrent > 1:  # the same requests, several at a time: all together
                _together(pid, plan, args.repeat, args.concurrent)
            if not args.only or "writes" in args.only:
                others = [s for s in schools if s not in chosen][: args.others]
                _writes(base, pid, world, chosen, others, cpu, wall)
            if spy is not None:
                spy.send_signal(2)  # py-spy writes its file on SIGINT
                spy.wait(timeout=60)
    finally:
        _admin(args.database_url, f'DROP DATABASE IF EXISTS "{copy}"')
    sizes = ", ".join(str(s["mentees"]) for s in chosen)
    print(f"server CPU per request, one at a time, {args.repeat} requests per endpoint and school "
          f"(schools of {sizes} mentees); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'endpoint':<18} {'CPU ms mean':>11} {'CPU ms max':>10} {'wall ms median':>14}")
    for name, spent in cpu.items():
        times = sorted(wall[name])
        print(f"{name:<18} {sum(spent) / len(spent) / 1e6:>11.1f} {max(spent) / 1e6:>10.1f} "
              f"{1000 * times[len(times) // 2]:>14.1f}")  # fmt: skip
    if args.py_spy:
        print(f"py-spy stacks in {args.py_spy}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "NASTAVNIK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
        ),
    )
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--mentees", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state", default="var/bench-load", help="where the world files are")
    parser.add_argument("--largest", type=int, default=3, help="largest schools measured")
    parser.add_argument("--repeat", type=int, default=10, help="requests per endpoint and school")
    parser.add_argument(
        "--only", action="append", help="this endpoint only (repeatable; `writes`: the forms)"
    )
    parser.add_argument(
        "--concurrent", type=int, default=1, help="also send the reads this many at a time"
    )
    parser.add_argument(
        "--others", type=int, default=4, help="schools whose first suggestions are measured"
    )
    parser.add_argument("--py-spy", help="record the server's stacks into this file")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
