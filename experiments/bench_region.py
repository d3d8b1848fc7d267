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
is reported. The service itself is never imported: this is a black-box measurement. Usage::

    .venv/bin/python -m experiments.bench_region --municipalities 4 --schools 40 \\
        --mentees 6000 --mentors 2400
"""

from __future__ import annotations

import argparse
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


def _run(env: dict[str, str], admin: str, log: Path) -> dict[str, Any]:
    with (
        _server(env, log) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=3600
        ) as client,
    ):
        server = _server_pid(base)
        started = time.perf_counter()
        response = client.post(f"/api/v1/regions/{REGION}/matching-runs")
        seconds = time.perf_counter() - started
        response.raise_for_status()
        run = response.json()
        peaks = {pid: _peak_mb(pid) for pid in [server, *_descendants(server)]}
    return {
        "seconds": seconds,
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
    args = parser.parse_args(argv)
    print(
        f"region: {args.schools} schools, {args.mentees} mentees, {args.mentors} mentors "
        f"(pupils' questionnaires, seed {args.seed})"
    )
    print("| mode | seconds | proposals | unmatched | peak RSS server, MB | peak RSS workers, MB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        ways = [
            ("one block, one process", 1, None),
            (f"{args.municipalities} blocks, one process", args.municipalities, None),
            (f"{args.municipalities} blocks, Dask 2 workers", args.municipalities, "local"),
        ]
        loaded: dict[int, tuple[dict[str, str], str]] = {}
        for name, municipalities, dask in ways:
            if municipalities not in loaded:
                url = f"sqlite:///{Path(tmp) / f'region-{municipalities}.sqlite3'}"
                env = os.environ | {
                    "NASTAVNIK_DATABASE_URL": url,
                    "NASTAVNIK_ENVIRONMENT": "development",
                }
                env.pop("NASTAVNIK_DASK_SCHEDULER", None)
                _cli(env, "db", "upgrade")
                loaded[municipalities] = (env, _load(env, args, municipalities, Path(tmp) / "l"))
            env, admin = loaded[municipalities]
            run_env = env | ({"NASTAVNIK_DASK_SCHEDULER": dask} if dask else {})
            r = _run(run_env, admin, Path(tmp) / "server.log")
            workers = ", ".join(f"{mb:.0f}" for mb in r["others_mb"]) or "—"
            print(
                f"| {name} | {r['seconds']:.1f} | {r['proposals']} | {r['unmatched']} | "
                f"{r['server_mb']:.0f} | {workers} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
