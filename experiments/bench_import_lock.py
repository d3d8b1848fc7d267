"""Does a big import stall other schools' writes? A real ``nastavnik serve`` on SQLite.

    python -m experiments.bench_import_lock [--rows 100000] [--database-url ...]

One school imports ``--rows`` mentees (pupil questionnaires of ``experiments.cohorts``) while another
school's curator writes every 0.2 s (a small import, which stores an import record). Prints the
big import's time and answer, and the slowest and median of the other school's writes during it:
SQLite has one writer at a time, so a write waits as long as the big import holds the write lock.
The file limits are raised for the run (``NASTAVNIK_FILE_ROWS`` etc.).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from experiments.bench_service import _cli, _csv, _server
from experiments.cohorts import make_city

__all__ = ["main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nastavnik-lock-"))
    env = os.environ | {
        "NASTAVNIK_DATABASE_URL": args.database_url or f"sqlite:///{folder / 'lock.sqlite3'}",
        "NASTAVNIK_ENVIRONMENT": "development",
        "NASTAVNIK_FILE_ROWS": str(args.rows + 10),
        "NASTAVNIK_FILE_CELLS": str(10**9),
        "NASTAVNIK_UPLOAD_BYTES": str(2**30),
        "NASTAVNIK_PARSE_SECONDS": "3600",
        "NASTAVNIK_PEOPLE_PER_SCHOOL": str(args.rows * 2),
    }
    _cli(env, "orgs", "add", "big", "--name", "Большая школа")
    _cli(env, "orgs", "add", "other", "--name", "Другая школа")
    token = _cli(env, "users", "add", "--login", "admin", "--role", "admin").split()[-1]
    city = make_city(seed=3, spec="pupil", mentees=args.rows, mentors=10, schools=1)
    big = _csv(city.mentees_table)
    small = _csv(city.mentors_table.head(3))
    headers = {"Authorization": f"Bearer {token}"}
    with _server(env, folder / "server.log") as base:
        waits: list[float] = []
        moments: list[float] = []  # when each of the other school's writes began
        done = threading.Event()
        began = time.perf_counter()
        answer: dict[str, object] = {}

        def importer() -> None:
            started = time.perf_counter()
            with httpx.Client(base_url=base, headers=headers, timeout=3600) as client:
                response = client.post(
                    "/api/v1/orgs/big/imports/mentees",
                    files={"file": ("big.csv", big)},
                    data={"spec": "pupil"},
                )
            answer["status"] = response.status_code
            answer["body"] = response.text[:200]
            answer["seconds"] = time.perf_counter() - started
            done.set()

        thread = threading.Thread(target=importer)
        thread.start()
        with httpx.Client(base_url=base, headers=headers, timeout=3600) as client:
            statuses = []
            while not done.is_set():
                started = time.perf_counter()
                # A new connection each time: an idle kept-alive one may be closed by the server
                # just as the next request is sent (a reset that says nothing of the lock).
                response = client.post(
                    "/api/v1/orgs/other/imports/mentors",
                    files={"file": ("small.csv", small)},
                    data={"spec": "pupil"},
                    headers={"Connection": "close"},
                )
                waits.append(time.perf_counter() - started)
                moments.append(started - began)
                statuses.append(response.status_code)
                time.sleep(0.2)
        thread.join()
    print(
        f"big import of {args.rows} rows ({len(big) / 2**20:.1f} MB): {answer['status']} in {answer['seconds']:.1f} s"
    )
    print(
        f"other school's writes during it: {len(waits)}, statuses {sorted(set(statuses))}, "
        f"slowest {max(waits):.2f} s, median {statistics.median(waits):.3f} s"
    )
    slowest = sorted(zip(waits, moments, strict=True), reverse=True)[:3]
    print(
        "the slowest began at "
        + ", ".join(f"{at:.1f} s ({wait:.2f} s)" for wait, at in slowest)
        + f" of the big import's {answer['seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
