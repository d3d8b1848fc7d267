"""Curators' pages of a school's people: the list, a person's consents, a mentor's limit.

Like the other pages, every form is read whole (:class:`service.forms.FormReader`): a mistake
shows the form again with every problem named, and nothing is stored until all of it is right.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service import consents, listing, people, reports
from service.consents import KIND_TITLES
from service.errors import Invalid, ServiceError
from service.forms import FormReader
from service.models import ConsentKind, utcnow
from service.web import FormDep, actor_of, back, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

DECISIONS = {"given": "дано", "withdrawn": "отозвано"}
NO_LIMIT = "none"


def _problems(exc: ServiceError) -> list[dict[str, Any]]:
    return list(exc.extra.get("errors") or []) or [{"column": None, "message": exc.message}]


@router.get("/ui/orgs/{org}/people")
def people_list(request: Request, org: str) -> HTMLResponse:
    """Mentors and mentees of a school: consents, places and pairs, with links to change them."""
    actor = actor_of(request)
    db = request.app.state.db
    everyone = listing.people(db, actor, org)
    _, waiting = reports.overview(db, actor, org)
    return render(
        request,
        "people.html",
        actor=actor,
        org=org,
        mentors=[p for p in everyone if p["side"] == "mentor"],
        mentees=[p for p in everyone if p["side"] == "mentee"],
        waiting={w.mentee_id for w in waiting},
    )


# -- a person's consents ---------------------------------------------------------------------


def _consent_page(
    request: Request,
    org: str,
    person_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    actor = actor_of(request)
    found = consents.status(request.app.state.db, actor, org, person_id)
    return render(
        request,
        "consent.html",
        status,
        actor=actor,
        org=org,
        person=found,
        kinds={k: KIND_TITLES[k] for k in found.asked},
        kind_titles=KIND_TITLES,
        sources=consents.SOURCE_TITLES,
        decisions=DECISIONS,
        values=values,
        errors=errors or [],
    )


@router.get("/ui/orgs/{org}/people/{person_id}/consent")
def consent_form(request: Request, org: str, person_id: int) -> HTMLResponse:
    """A person's consents now and every record of them, and the form for a paper one."""
    today = utcnow().astimezone(request.app.state.settings.zone).date()
    values = {"kind": ConsentKind.participant.value, "signed_on": today.isoformat()}
    return _consent_page(request, org, person_id, values)


@router.post("/ui/orgs/{org}/people/{person_id}/consent")
def consent(request: Request, org: str, person_id: int, fields: FormDep) -> Response:
    """Record a paper consent or its withdrawal; say what it changed."""
    actor = actor_of(request)
    zone = request.app.state.settings.zone
    asked = consents.status(request.app.state.db, actor, org, person_id).asked
    form = FormReader(fields)
    kind = form.choice("kind", "Чьё согласие", {k: KIND_TITLES[k] for k in asked})
    decision = form.choice("decision", "Согласие", DECISIONS)
    today = utcnow().astimezone(zone).date()
    signed_on = form.date("signed_on", "Дата документа", not_after=today)
    try:
        form.check("Согласие не записано: исправьте отмеченные поля.")
        assert kind is not None
        assert decision is not None
        assert signed_on is not None
        done = consents.record_consent(
            request.app.state.db,
            actor,
            org,
            person_id,
            decision == "given",
            kind,
            signed_on,
            zone,
        )
    except Invalid as exc:
        return _consent_page(request, org, person_id, fields, _problems(exc), 422)
    return back(f"/ui/orgs/{org}/people/{person_id}/consent", _consent_message(done))


def _consent_message(done: consents.Recorded) -> str:
    what = KIND_TITLES[done.kind].capitalize()
    message = f"Записано: {what} — {DECISIONS['given' if done.given else 'withdrawn']}, " + (
        f"документ от {done.signed_on:%d.%m.%Y}. "
    )
    if done.consent:
        return message + "Все нужные согласия есть: участник участвует в подборе пар."
    message += "Участник не попадает в новые предложения пар"
    if done.superseded:
        message += f"; снято открытых предложений — {len(done.superseded)}"
    if done.pairs_to_decide:
        numbers = ", ".join(f"№ {p}" for p in done.pairs_to_decide)
        message += (
            f". Действующие пары ({numbers}) сохранены: решите на странице пар, закрыть ли их "
            "или заменить наставника"
        )
    return message + "."


# -- a mentor's capacity limit ---------------------------------------------------------------


def _limits(agreed: int) -> dict[str, str]:
    choices = {NO_LIMIT: f"без предела: столько, сколько в анкете ({agreed})"}
    for n in range(agreed + 1):
        choices[str(n)] = "0 — новых наставляемых не брать" if n == 0 else str(n)
    return choices


def _capacity_page(
    request: Request,
    org: str,
    mentor_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    actor = actor_of(request)
    load = listing.mentor_load(request.app.state.db, actor, org, mentor_id)
    return render(
        request,
        "capacity.html",
        status,
        actor=actor,
        org=org,
        mentor=load.mentor,
        pairs=load.pairs,
        limits=_limits(load.mentor["agreed"]),
        values=values,
        errors=errors or [],
    )


@router.get("/ui/orgs/{org}/mentors/{mentor_id}/capacity")
def capacity_form(request: Request, org: str, mentor_id: int) -> HTMLResponse:
    """A mentor's places: their answer, the curator's limit, and the active pairs taking them."""
    limit = listing.mentor_load(request.app.state.db, actor_of(request), org, mentor_id)
    current = limit.mentor["capacity_limit"]
    return _capacity_page(
        request, org, mentor_id, {"limit": NO_LIMIT if current is None else str(current)}
    )


@router.post("/ui/orgs/{org}/mentors/{mentor_id}/capacity")
def capacity(request: Request, org: str, mentor_id: int, fields: FormDep) -> Response:
    """Set or clear the limit; a limit below the active pairs keeps them, with no new places."""
    actor = actor_of(request)
    db = request.app.state.db
    agreed = listing.mentor_load(db, actor, org, mentor_id).mentor["agreed"]
    form = FormReader(fields)
    chosen = form.choice("limit", "Предел наставляемых", _limits(agreed))
    try:
        form.check("Предел не сохранён: исправьте отмеченное поле.")
        assert chosen is not None
        value = None if chosen == NO_LIMIT else int(chosen)
        done = people.set_capacity_limit(db, actor, org, mentor_id, value)
    except Invalid as exc:
        return _capacity_page(request, org, mentor_id, fields, _problems(exc), 422)
    return back(f"/ui/orgs/{org}/mentors/{mentor_id}/capacity", _capacity_message(done))


def _capacity_message(done: people.Limit) -> str:
    what = "Предел снят" if done.capacity_limit is None else f"Предел {done.capacity_limit}"
    message = f"{what}: наставник может вести до {done.places}, сейчас пар — {done.active_pairs}."
    if done.active_pairs > done.places:
        return message + " Действующие пары сохраняются, новых мест нет."
    free = done.places - done.active_pairs
    return message + (f" Свободных мест — {free}." if free else " Свободных мест нет.")
