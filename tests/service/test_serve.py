"""`nastavnik serve` as a user starts it: a real process, a fresh SQLite file, the sample school."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DATA = Path(__file__).with_name("data")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_the_sample_school_prints_a_working_login_and_token(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {
        "NASTAVNIK_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "NASTAVNIK_ENVIRONMENT": "development",
    }
    command = [
        sys.executable,
        "-c",
        "from service.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--sample",
        str(DATA),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not any("/docs" in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        token = next(line for line in lines if "Токен API" in line).split(":")[1].strip()
        found = re.search(r"логин: (\S+), пароль: (\S+)\)", "".join(lines))
        assert found is not None, "".join(lines)
        login, password = found.groups()
        assert f"http://127.0.0.1:{port}/docs" in lines[-1]
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "database": "sqlite"}
        people = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/orgs/demo/people",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert people.status_code == 200
        assert len(people.json()) == 8
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as browser:
            wrong = browser.post("/login", data={"login": login, "password": password + "x"})
            assert wrong.status_code == 401
            signed = browser.post("/login", data={"login": login, "password": password})
            assert signed.status_code == 303
            page = browser.get("/ui/orgs/demo")
            assert page.status_code == 200
            assert "Демонстрационная школа" in page.text or "demo" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)
