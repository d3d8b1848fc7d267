"""Warm runs of a municipality whose block is solved by the network simplex: after a curator
confirms and rejects proposals, the next run re-solves the kept network with the decisions
applied in place and gives what a cold run gives."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.solver import HUNGARIAN_MAX_MENTEES
from service.app import create_app
from service.core.db import Database
from tests.service.util import auth, school, settings_for, token

MENTEE_HEADER = (
    "Отметка времени;Адрес электронной почты;ФИО;Кто вы в программе наставничества?;"
    "Преподаваемые предметы;Педагогический стаж (лет);"
    "Испытываете ли вы затруднения? [Методика: содержание образования, методики и технологии обучения];"
    "Испытываете ли вы затруднения? [ИКТ-компетенции и цифровизация образования];"
    "Испытываете ли вы затруднения? [Нормативно-правовые вопросы];"
    "Удобный формат встреч;Удобное время для встреч;Согласие на обработку персональных данных"
)
MENTOR_HEADER = (
    "Отметка времени;Адрес электронной почты;ФИО;Должность;Преподаваемые предметы;"
    "Педагогический стаж (лет);Квалификационная категория;В каких областях вы можете помочь коллеге?;"
    "Удобный формат встреч;Удобное время для встреч;Сколько наставляемых вы готовы взять (1–3)?;"
    "Профессиональные интересы и увлечения;Согласие на обработку персональных данных"
)
SUBJECTS = ["Физика", "Математика", "Русский язык", "История", "Биология", "Химия"]
TIMES = ["пн утро", "вт после уроков", "ср утро", "чт после уроков", "пт утро"]
LEVELS = ["постоянно", "иногда", "нет"]
N_MENTEES = HUNGARIAN_MAX_MENTEES + 150  # one block too big for the Hungarian engine
N_MENTORS = 220


def _csvs(seed: int = 7) -> tuple[str, str]:
    rng = random.Random(seed)
    mentees = [MENTEE_HEADER]
    for k in range(N_MENTEES):
        mentees.append(
            f"03.09.2024;mentee{k}@school.ru;Ученикова{k} Анна Петровна;Молодой специалист;"
            f"{rng.choice(SUBJECTS)};{rng.randint(0, 3)};{rng.choice(LEVELS)};"
            f"{rng.choice(LEVELS)};{rng.choice(LEVELS)};Очно;"
            f"{', '.join(rng.sample(TIMES, 2))};да"
        )
    mentors = [MENTOR_HEADER]
    for k in range(N_MENTORS):
        mentors.append(
            f"01.09.2024;mentor{k}@school.ru;Учителева{k} Ольга Ивановна;Учитель;"
            f"{rng.choice(SUBJECTS)};{rng.randint(10, 30)};Высшая;Методика, ИКТ;"
            f"Очно, Дистанционно;{', '.join(rng.sample(TIMES, 3))};{rng.randint(1, 3)};шахматы;да"
        )
    return "\n".join(mentees) + "\n", "\n".join(mentors) + "\n"


def _load(client: TestClient, db: Database) -> dict[str, str]:
    school(db, "s1", "m1")
    curator = auth(token(db, "curator", "s1"))
    for side, content in zip(("mentees", "mentors"), _csvs(), strict=True):
        response = client.post(
            f"/api/v1/orgs/s1/imports/{side}",
            files={"file": (f"{side}.csv", content.encode(), "text/csv")},
            data={"spec": "teacher"},
            headers=curator,
        )
        assert response.status_code == 201, response.text
    return auth(token(db, "coordinator", None, municipality="m1"))


def _run(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/municipalities/m1/matching-runs", headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _summary(run: dict[str, Any]) -> tuple[int, float]:
    return len(run["proposals"]), round(sum(p["score"] for p in run["proposals"]), 6)


def _solved(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The executor's "batch solved" lines since the last call."""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("batch solved")]
    caplog.clear()
    return lines


def test_decisions_are_applied_in_place_to_the_kept_network(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nastavnik.service.solving")
    with TestClient(create_app(settings_for(db), db)) as client:
        headers = _load(client, db)
        caplog.clear()
        first = _run(client, headers)
        assert _solved(caplog) == ["batch solved: 1 blocks, 0 reused, 0 warm (0 in place)"]
        proposals = first["proposals"]
        assert len(proposals) > HUNGARIAN_MAX_MENTEES // 2
        confirmed, rejected = proposals[:3], proposals[3:6]
        for p in confirmed:
            answer = client.post(f"/api/v1/proposals/{p['proposal_id']}/confirm", headers=headers)
            assert answer.is_success, answer.text
        for p in rejected:
            answer = client.post(f"/api/v1/proposals/{p['proposal_id']}/reject", headers=headers)
            assert answer.is_success, answer.text
        warm = _run(client, headers)
        # the kept network (only the network simplex's is kept) took the decisions in place
        assert _solved(caplog) == ["batch solved: 1 blocks, 0 reused, 1 warm (1 in place)"]
        pairs = {(p["mentee_id"], p["mentor_id"]) for p in warm["proposals"]}
        assert not pairs & {(p["mentee_id"], p["mentor_id"]) for p in rejected}
        assert not {p["mentee_id"] for p in confirmed} & {m for m, _ in pairs}
    with TestClient(create_app(settings_for(db), db)) as cold_client:  # a fresh process: cold
        cold = _run(cold_client, headers)
        assert _solved(caplog) == ["batch solved: 1 blocks, 0 reused, 0 warm (0 in place)"]
    assert _summary(cold) == _summary(warm)
