"""Benchmark of the region-wide batch: time, and peak memory of the biggest process.

A synthetic region (``experiments.cohorts.make_city``: pupils' questionnaires, schools of
log-normal sizes, a share of people meeting remotely) is loaded into a fresh SQLite database through
the running service (``nastavnik orgs add --region``, the import API), and the region's batch
(``POST /api/v1/regions/{region}/matching-runs``) is timed on a freshly started server, three ways:

- ``one block, one process``: all schools in one municipality, so the region is one block scored
  and solved in the server process (what a municipality batch does for its schools);
- ``blocks, one process``: the schools spread over municipalities, blocks run one after the other
  in the server's pool (no Dask);
- ``blocks, Dask 2 workers``: the same on a local Dask cluster of 2 worker processes
  (``NASTAVNIK_DASK_SCHEDULER=local``).

Peak memory is the high-water mark of resident memory (``VmHWM`` in ``/proc``, Linux) of the server
and of each of its child processes (the Dask workers), read before the server stops; the biggest
is reported, with the CPU time of the server and its children. Usage::

    .venv/bin/python -m experiments.bench_region --municipalities 4 --schools 40 \\
        --mentees 6000 --mentors 2400

``--bulk`` (a region at the size of issue 13: 1,500 schools, 200,000 mentees, 80,000 mentors)
writes the people straight into the database in bulk (``INSERT`` of many rows at once, the
service's own tables) instead of importing CSV files school by school: their answers are drawn
from a ``make_city`` cohort of at most 20,000 × 8,000 people (re-used with new codes and schools),
and the meeting formats are drawn as in the country family of ``bench_solver``: 10 % of mentees
in person or remotely and 3 % remotely only; ``--remote-mentors`` of mentors (default 1.2 %, which
gives about 23.7 M candidate pairs at that size) also remotely. The same database serves every
mode: only the schools' municipalities change between them. The loading writes the tables the
migrations made (reflected, the service is never imported); the runs are black-box requests::

    .venv/bin/python -m experiments.bench_region --bulk --schools 1500 --mentees 200000 \\
        --mentors 80000 --municipalities 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from experiments.bench_service import _cli, _server
from experiments.cohorts import make_city

REGION = "Регион"


def _peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _load(env: dict[str, str], args: argparse.Namespace, municipalities: int, log: Path) -> str:
    """Create the region's schools and import their people; return an admin token."""
    city = make_city(seed=args.seed, spec="pupil", mentees=args.mentees, mentors=args.mentors,
                     schools=args.schools)  # fmt: skip
    names = sorted(set(city.mentee_orgs) | set(city.mentor_orgs), key=lambda n: int(n.split()[-1]))
    for k, name in enumerate(names):
        _cli(env, "orgs", "add", f"s{k}", "--name", name,
             "--municipality", f"m{k % municipalities}", "--region", REGION)  # fmt: skip
    admin = _cli(env, "users", "add", "--login", "admin", "--role", "admin").split()[-1]
    with (
        _server(env, log) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=600
        ) as client,
    ):
        for k, name in enumerate(names):
            for side, table, orgs in (("mentors", city.mentors_table, city.mentor_orgs),
                                      ("mentees", city.mentees_table, city.mentee_orgs)):  # fmt: skip
                part = table[np.asarray(orgs) == name]
                if not len(part):
                    continue
                buffer = io.StringIO()
                part.to_csv(buffer, index=False, sep=";")
                files = {"file": (f"{side}.csv", buffer.getvalue().encode())}
                response = client.post(
                    f"/api/v1/orgs/s{k}/imports/{side}", files=files, data={"spec": "pupil"}
                )
                response.raise_for_status()
    return admin


def _bulk_people(
    args: argparse.Namespace,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int], list[int]]:
    """Answers of every mentee and mentor (records as the service stores them) and their school."""
    from features import read_answers

    city = make_city(seed=args.seed, spec="pupil", mentees=min(args.mentees, 20_000),
                     mentors=min(args.mentors, 8_000), schools=min(args.schools, 150))  # fmt: skip
    rng = np.random.default_rng([args.seed, 14])
    size = rng.lognormal(0.0, 0.5, args.schools)
    share = size / size.sum()
    people = []
    for side, table, n, prefix in (("mentees", city.mentees_table, args.mentees, "У"),
                                   ("mentors", city.mentors_table, args.mentors, "Н")):  # fmt: skip
        templates = read_answers(table, city.spec, side).records
        school = np.sort(rng.choice(args.schools, n, p=share))
        picked = rng.integers(len(templates), size=n)
        draw = rng.random(n)
        if side == "mentees":
            formats = np.where(draw < 0.03, 2, np.where(draw < 0.13, 1, 0))
        else:
            formats = np.where(draw < args.remote_mentors, 1, 0)
        choices = (["in_person"], ["in_person", "remote"], ["remote"])
        records = []
        for k in range(n):
            record = dict(templates[picked[k]])
            record["person_id"] = f"{prefix}-{k:06d}"
            record["school"] = f"Школа {school[k]}"
            record["meeting_format"] = choices[formats[k]]
            records.append(record)
        people.append((records, school.tolist()))
    return people[0][0], people[1][0], people[0][1], people[1][1]


def _bulk_load(url: str, args: argparse.Namespace) -> None:
    """Schools, people and their answers written in bulk into the service's tables."""
    from sqlalchemy import MetaData, Table, create_engine, insert

    from features import answers_from_records, load_spec

    started = time.perf_counter()
    mentees, mentors, mentee_school, mentor_school = _bulk_people(args)
    drawn = time.perf_counter() - started
    spec = load_spec("pupil")
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(url)
    # the service's tables as the migrations made them (experiments never import the service)
    metadata = MetaData()
    Organisation, Person, Answers = (
        Table(name, metadata, autoload_with=engine)
        for name in ("organisations", "people", "answers")
    )
    with engine.begin() as connection:
        connection.execute(
            insert(Organisation),
            [
                {
                    "id": k + 1,
                    "code": f"s{k}",
                    "name": f"Школа {k}",
                    "region": REGION,
                    "municipality": "m0",
                    "created_at": now,
                }
                for k in range(args.schools)
            ],
        )
        next_id = 1
        for side, records, schools in (("mentee", mentees, mentee_school),
                                       ("mentor", mentors, mentor_school)):  # fmt: skip
            answers = answers_from_records(spec, f"{side}s", records)
            consent = answers.consent.tolist()
            capacity = answers.capacity.tolist() if side == "mentor" else [None] * len(records)
            for lo in range(0, len(records), 20_000):
                ids = range(next_id + lo, next_id + min(len(records), lo + 20_000))
                part = range(lo, lo + len(ids))
                connection.execute(
                    insert(Person),
                    [
                        {
                            "id": i,
                            "org_id": schools[k] + 1,
                            "side": side,
                            "spec": "pupil",
                            "external_id": answers.person_ids[k],
                            "name": records[k]["full_name"],
                            "consent": consent[k],
                            "capacity": capacity[k],
                            "version": 1,
                            "entered_at": now,
                            "updated_at": now,
                        }
                        for i, k in zip(ids, part, strict=True)
                    ],
                )
                connection.execute(
                    insert(Answers),
                    [
                        {
                            "person_id": i,
                            "version": 1,
                            "spec": "pupil",
                            "records": answers.records[k],
                            "created_at": now,
                        }
                        for i, k in zip(ids, part, strict=True)
                    ],
                )
            next_id += len(records)
    engine.dispose()
    print(
        f"loaded {args.mentees} mentees and {args.mentors} mentors of {args.schools} schools in "
        f"{time.perf_counter() - started:.1f} s ({drawn:.1f} s drawing the answers)",
        flush=True,
    )


def _regroup(url: str, municipalities: int) -> None:
    """Spread the schools over ``municipalities`` (school k in municipality k mod n)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE organisations SET municipality = 'm' || CAST((id - 1) % :n AS TEXT)"),
            {"n": municipalities},
        )
    engine.dispose()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(env: dict[str, str], admin: str, log: Path) -> dict[str, Any]:
    with (
        _server(env, log) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=3600
        ) as client,
    ):
        server = _server_pid(base)
        before = sum(_cpu_seconds(pid) for pid in [server, *_descendants(server)])
        started = time.perf_counter()
        response = client.post(f"/api/v1/regions/{REGION}/matching-runs")
        seconds = time.perf_counter() - started
        response.raise_for_status()
        run = response.json()
        family = [server, *_descendants(server)]
        peaks = {pid: _peak_mb(pid) for pid in family}
        cpu = sum(_cpu_seconds(pid) for pid in family) - before
    return {
        "seconds": seconds,
        "cpu": cpu,
        "proposals": len(run["proposals"]),
        "unmatched": len(run["unmatched"]),
        "server_mb": peaks[server],
        "others_mb": sorted((mb for pid, mb in peaks.items() if pid != server), reverse=True),
    }


def _server_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    wanted = f":{int(port):04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(wanted) and fields[3] == "0A":  # listening
                inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    raise RuntimeError(f"no process listens on {base}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--municipalities", type=int, default=4)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--mentees", type=int, default=6000)
    parser.add_argument("--mentors", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bulk", action="store_true", help="write the people in bulk (big regions)"
    )
    parser.add_argument("--remote-mentors", type=float, default=0.012)
    parser.add_argument("--modes", default="one,blocks,dask", help="of one,blocks,dask")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    print(
        f"region: {args.schools} schools, {args.mentees} mentees, {args.mentors} mentors "
        f"(pupils' questionnaires, seed {args.seed}); load average {os.getloadavg()[0]:.1f}"
    )
    header = "| mode | seconds | CPU s | proposals | unmatched | peak RSS server, MB | peak RSS workers, MB |"
    with tempfile.TemporaryDirectory() as tmp:
        ways = [
            ("one", "one block, one process", 1, None),
            ("blocks", f"{args.municipalities} blocks, one process", args.municipalities, None),
            ("dask", f"{args.municipalities} blocks, Dask 2 workers", args.municipalities, "local"),
        ]
        loaded: dict[int, tuple[dict[str, str], str]] = {}
        first = True
        for mode, name, municipalities, dask in ways:
            if mode not in modes:
                continue
            if args.bulk:
                if not loaded:
                    url = args.database or f"sqlite:///{Path(tmp) / 'region.sqlite3'}"
                    env = os.environ | {"NASTAVNIK_DATABASE_URL": url,
                                        "NASTAVNIK_ENVIRONMENT": "development"}  # fmt: skip
                    env.pop("NASTAVNIK_DASK_SCHEDULER", None)
                    _cli(env, "db", "upgrade")
                    _bulk_load(url, args)
                    admin = _cli(env, "users", "add", "--login", "admin", "--role", "admin")
                    loaded[0] = (env, admin.split()[-1])
                env, admin = loaded[0]
                _regroup(env["NASTAVNIK_DATABASE_URL"], municipalities)
            else:
                if municipalities not in loaded:
                    url = f"sqlite:///{Path(tmp) / f'region-{municipalities}.sqlite3'}"
                    env = os.environ | {
                        "NASTAVNIK_DATABASE_URL": url,
                        "NASTAVNIK_ENVIRONMENT": "development",
                    }
                    env.pop("NASTAVNIK_DASK_SCHEDULER", None)
                    _cli(env, "db", "upgrade")
                    loaded[municipalities] = (
                        env,
                        _load(env, args, municipalities, Path(tmp) / "l"),
                    )
                env, admin = loaded[municipalities]
            if first:
                print(header)
                print("|---|---|---|---|---|---|---|")
                first = False
            run_env = env | ({"NASTAVNIK_DASK_SCHEDULER": dask} if dask else {})
            r = _run(run_env, admin, Path(tmp) / "server.log")
            workers = ", ".join(f"{mb:.0f}" for mb in r["others_mb"]) or "—"
            print(
                f"| {name} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['proposals']} | "
                f"{r['unmatched']} | {r['server_mb']:.0f} | {workers} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
