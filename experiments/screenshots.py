"""Screenshots of the curator's main pages on one school of 600 pupils (docs/screenshots/).

Starts the service as ``experiments.bench_service --pages`` does (SQLite, a synthetic school from
``experiments.cohorts``), runs its matching, confirms the 50 best proposals at once, and saves
what Chromium shows: ``python -m experiments.screenshots [--out docs/screenshots]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import httpx

from experiments.bench_service import _command, _import_city, _server, _setup

PAGES = (
    ("school", "/ui/orgs/{s}"),
    ("school-search", "/ui/orgs/{s}?status=all&q={q}"),
    ("run", "/ui/runs/{run}"),
    ("people", "/ui/orgs/{s}/people?side=mentee&sort=name&page=2"),
    ("waiting", "/ui/orgs/{s}/waiting"),
    ("pairs", "/ui/orgs/{s}/pairs"),
    ("report", "/ui/orgs/{s}/report"),
    ("municipality", "/ui/municipalities/{m}"),
    ("person-edit", "/ui/orgs/{s}/people/{p}/edit"),
)


def main() -> None:
    """Set up the school and save the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--mentees", type=int, default=600)
    parser.add_argument("--mentors", type=int, default=225)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="nastavnik-shots-"))
    env = os.environ | {
        "NASTAVNIK_DATABASE_URL": f"sqlite:///{folder / 'shots.sqlite3'}",
        "NASTAVNIK_ENVIRONMENT": "development",
    }
    world = _setup(env, 1, 1)
    # The pages need a login and a password (a token opens only the API): give the admin one.
    login, password = f"admin-{world.tag}", secrets.token_urlsafe(16)
    subprocess.run([*_command(), "users", "passwd", login, "--password-stdin"], env=env,
                   input=password + "\n", text=True, capture_output=True, check=True)  # fmt: skip
    with (
        _server(env, folder / "server.log") as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {world.admin}"},
                     timeout=600) as client,
    ):  # fmt: skip
        _import_city(client, world, args.mentees, args.mentors, 0)
        school = world.schools[0]
        made = client.post(f"/api/v1/orgs/{school}/matching-runs").json()
        best = [p["proposal_id"] for p in made["proposals"]][:50]
        client.post("/api/v1/proposals/confirm", json={"proposal_ids": best})
        first = client.get(f"/api/v1/orgs/{school}/people/paged").json()["items"][0]
        name = first["name"]
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("NASTAVNIK_CHROMIUM", "/usr/bin/chromium"),
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            page.goto(f"{base}/login")
            page.get_by_label("Логин").fill(login)
            page.get_by_label("Пароль").fill(password)
            page.get_by_role("button", name="Войти").click()
            page.wait_for_url("**/ui**")
            for shot, path in PAGES:
                page.goto(base + path.format(s=school, q=name.split()[0], run=made["run_id"],
                                             m=world.municipality, p=first["id"]))  # fmt: skip
                page.screenshot(path=str(args.out / f"{shot}.png"))
                print(args.out / f"{shot}.png")
            browser.close()


if __name__ == "__main__":
    main()
