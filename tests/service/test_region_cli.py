"""A region from the command line: schools and an operator with ``--region``, then the region's and a
municipality's batch with ``nastavnik runs`` and its options, against a real database (the command
opens it itself and commits); the answers are read back over the API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app
from service.core.db import Database
from tests.service.util import SECRET, auth, settings_for

DATA = Path(__file__).with_name("data")


@pytest.fixture
def db(live_db: Database) -> Database:
    """The command line opens the database itself and commits for real."""
    return live_db


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    from service.core.config import get_settings

    monkeypatch.setenv("NASTAVNIK_DATABASE_URL", db.url)
    monkeypatch.setenv("NASTAVNIK_SECRET_KEY", SECRET)
    monkeypatch.delenv("NASTAVNIK_DASK_SCHEDULER", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _token(output: str) -> dict[str, str]:
    return auth(output.split()[-1])


def _region(cli: CliRunner, db: Database) -> dict[str, str]:
    """Region R: m1's school has only mentees (Козлов also meets remotely), m2's only mentors;
    s3 of region Q has mentors too. Returns the admin's and the operator's headers."""
    for code, municipality, region in (("s1", "m1", "R"), ("s2", "m2", "R"), ("s3", "m3", "Q")):
        _ok(cli, "orgs", "add", code, "--name", f"Школа {code}", "--municipality", municipality,
            "--region", region)  # fmt: skip
    admin = _token(_ok(cli, "users", "add", "--login", "root", "--role", "admin"))
    operator = _token(
        _ok(cli, "users", "add", "--login", "kuban", "--role", "region", "--region", "R")
    )
    mentees = (
        (DATA / "mentees.csv")
        .read_text()
        .replace("постоянно;Очно;пн утро", "постоянно;Очно, Дистанционно;пн утро")
    )
    uploads = [("s1", "mentees", mentees.encode()), ("s2", "mentors", (DATA / "mentors.csv").read_bytes()),
               ("s3", "mentors", (DATA / "mentors.csv").read_bytes())]  # fmt: skip
    with TestClient(create_app(settings_for(db), db)) as client:
        for code, side, content in uploads:
            response = client.post(
                f"/api/v1/orgs/{code}/imports/{side}",
                files={"file": (f"{side}.csv", content, "text/csv")},
                headers=admin,
            )
            assert response.status_code == 201, response.text
    return {"admin": admin["Authorization"], "operator": operator["Authorization"]}


def _open_proposals(db: Database, headers: dict[str, str]) -> set[tuple[str, str]]:
    with TestClient(create_app(settings_for(db), db)) as client:
        names = {}
        for org in ("s1", "s2"):
            people = client.get(f"/api/v1/orgs/{org}/people", headers=headers).json()
            names.update({p["id"]: p["external_id"] for p in people})
        found = client.get("/api/v1/orgs/s1/proposals", headers=headers)
        assert found.status_code == 200, found.text
        return {(names[p["mentee_id"]], names[p["mentor_id"]]) for p in found.json()}


def test_a_region_set_up_and_matched_from_the_command_line(cli: CliRunner, db: Database) -> None:
    tokens = _region(cli, db)
    operator = {"Authorization": tokens["operator"]}
    with TestClient(create_app(settings_for(db), db)) as client:
        # the operator made with --region sees their region, not another one
        assert client.get("/api/v1/regions/R/indicators", headers=operator).status_code == 200
        assert client.get("/api/v1/regions/Q/indicators", headers=operator).status_code == 404
        codes = [o["code"] for o in client.get("/api/v1/orgs", headers=operator).json()]
        assert codes == ["s1", "s2"]
    # a municipality alone: m1 has only mentees, nobody can be proposed
    output = _ok(cli, "runs", "municipality", "m1")
    assert "Подбор по муниципалитету «m1»" in output
    assert "предложено пар — 0, без пары — 3" in output
    # the region: across m1 and m2 only Козлов and Смирнов both meet remotely (s3 is of Q)
    output = _ok(cli, "runs", "region", "R", "--objective", "score", "--min-score", "0.1")
    assert "Подбор по региону «R»" in output
    assert "предложено пар — 1, без пары — 2" in output
    assert _open_proposals(db, operator) == {("kozlov@school.ru", "smirnov@school.ru")}
    # a minimum score no pair reaches: nothing is proposed, the earlier proposal is superseded
    assert "предложено пар — 0" in _ok(cli, "runs", "region", "R", "--min-score", "1.0")
    assert _open_proposals(db, operator) == set()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["runs", "region", "Нигде"], 1, "Нигде"),
        (["runs", "municipality", "m9"], 1, "m9"),
        (["runs", "region", "R", "--objective", "best"], 1, "--objective: 'best'"),
        (["runs", "region", "R", "--dask-scheduler", "http://x"], 1, "tcp://host:port или local"),
        (["runs", "region", "R", "--min-score", "2"], 2, "--min-score"),
        (["runs", "region", "R", "--workers", "0"], 2, "--workers"),
        (["users", "add", "--login", "x", "--role", "region"], 1, "нужен регион"),
    ],
)
def test_bad_options_say_what_is_wrong(
    cli: CliRunner, args: list[str], code: int, message: str
) -> None:
    _ok(cli, "orgs", "add", "s1", "--name", "Школа", "--municipality", "m1", "--region", "R")
    result = cli.invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.output


@pytest.mark.slow
@pytest.mark.parametrize("live_db", ["sqlite"], indirect=True)
def test_the_region_batch_on_a_local_dask_cluster_from_the_console_script(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    tokens = _region(cli, db)
    command = [str(Path(sys.executable).with_name("nastavnik")), "runs", "region", "R",
               "--dask-scheduler", "local"]  # fmt: skip
    env = os.environ | {"NASTAVNIK_DATABASE_URL": db.url, "NASTAVNIK_SECRET_KEY": SECRET}
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "предложено пар — 1, без пары — 2" in done.stdout
    operator = {"Authorization": tokens["operator"]}
    assert _open_proposals(db, operator) == {("kozlov@school.ru", "smirnov@school.ru")}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("live_db", ["sqlite"], indirect=True)
def test_the_region_batch_on_a_dask_scheduler_started_as_the_readme_says(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    """`dask scheduler` and `dask worker` as separate processes, the batch sent to tcp://."""
    from dask.distributed import Client

    tokens = _region(cli, db)
    bin_dir = Path(sys.executable).parent
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = os.environ | {"NASTAVNIK_DATABASE_URL": db.url, "NASTAVNIK_SECRET_KEY": SECRET}
    started = [
        subprocess.Popen(
            [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1",
             "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        started.append(
            subprocess.Popen(
                [str(bin_dir / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard"],
                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
        done = subprocess.run(
            [str(bin_dir / "nastavnik"), "runs", "region", "R", "--dask-scheduler", address],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "предложено пар — 1, без пары — 2" in done.stdout
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    operator = {"Authorization": tokens["operator"]}
    assert _open_proposals(db, operator) == {("kozlov@school.ru", "smirnov@school.ru")}
