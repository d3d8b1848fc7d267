"""Curators' pages of a school's people: the list, uploading questionnaires, a person's consents,
a mentor's capacity limit.

Every form is read whole (:class:`service.ui.forms.FormReader`): a mistake shows the form again
with every problem named, and nothing is stored until all of it is right.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from service.core.deps import ActorDep, DbDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Conflict, EditedMeanwhile, Invalid
from service.core.listing import ListParams
from service.core.models import ConsentKind, utcnow
from service.core.rules import ASSIGN_WITHIN_DAYS
from service.core.security import Actor, organisation_for
from service.people import consents, editing, people
from service.people.answer_forms import DAYS, form_values, records_from_form
from service.people.answered import ANSWER_FILTERS
from service.people.consents import KIND_TITLES
from service.people.people import PEOPLE
from service.people.routes import read_upload
from service.people.schemas import ConsentPublic, LimitPublic
from service.people.waiting import WAITING_SORTS, waiting_among, waiting_page
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

DECISIONS = {"given": "дано", "withdrawn": "отозвано"}
NO_LIMIT = "none"


PEOPLE_FILTERS = {
    "side": ("Кто", {"mentor": "наставники", "mentee": "наставляемые"}),
    "consent": ("Согласия", {"yes": "есть", "no": "нет"}),
    "pair": ("Пара", {"yes": "есть", "no": "нет"}),
    "form": ("Анкета", {"teacher": "педагоги", "pupil": "ученики"}),
    **ANSWER_FILTERS,
    "archived": ("Архив", {"no": "в программе", "yes": "в архиве"}),
}


@router.get("/ui/orgs/{org}/people")
def people_list(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """Mentors and mentees of a school, one page at a time: search by name, filters, sort; each
    with consents, places and pairs and links to change them."""
    params = ListParams.parse(request.query_params, PEOPLE_FILTERS)
    found = people.people_page(session, actor, org, params)
    waiting = waiting_among(session, [p.id for p in found.items])
    return render(
        request,
        "people.html",
        actor=actor,
        org=org,
        page=found,
        params=params,
        filters=PEOPLE_FILTERS,
        sorts=PEOPLE.sort_titles,
        waiting={w.mentee_id for w in waiting},
    )


def _person_step(org: str, fields: dict[str, Any], session: Any, step: Any) -> Response:
    back_to = str(fields.get("back") or "")
    if not back_to.startswith(f"/ui/orgs/{org}/people"):
        back_to = f"/ui/orgs/{org}/people"
    try:
        with attempt(session):
            message = step()
    except Conflict as exc:
        return back(back_to, exc.message, True)
    return back(back_to, message)


@router.post("/ui/orgs/{org}/people/{person_id}/archive")
def archive_person(
    org: str, person_id: int, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """A person leaves the programme (history kept): out of runs and the waiting list."""

    def step() -> str:
        done = people.archive(session, actor, org, person_id)
        return f"В архиве: {done.name or 'участник без имени'}. История пар и анкет сохранена."

    return _person_step(org, fields, session, step)


@router.post("/ui/orgs/{org}/people/{person_id}/remove")
def remove_person(
    org: str, person_id: int, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """Remove a wrongly imported person who was never in a pair, once the curator has ticked
    that the record goes without a trace (the pages run no scripts: no confirm() dialog)."""
    if fields.get("sure") != "yes":
        back_to = str(fields.get("back") or "")
        if not back_to.startswith(f"/ui/orgs/{org}/people"):
            back_to = f"/ui/orgs/{org}/people"
        return back(
            back_to, "Запись не удалена: отметьте «удалить без следа» рядом с кнопкой.", True
        )

    def step() -> str:
        gone = people.remove(session, actor, org, person_id)
        return f"Удалена ошибочно загруженная запись: {gone.name or 'участник без имени'}."

    return _person_step(org, fields, session, step)


def _edit_page(
    request: Request,
    actor: Actor,
    org: str,
    view: Any,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "person_edit.html",
        status,
        actor=actor,
        org=org,
        view=view,
        values=values,
        errors=errors or [],
        error_columns={e.get("column") for e in errors or []},
        days=DAYS,
    )


@router.get("/ui/orgs/{org}/people/{person_id}/edit")
def edit_person(
    request: Request, org: str, person_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """A person's answers as a form a curator corrects (name, contacts, class or subjects,
    role, meeting format...)."""
    view = editing.answers_of(session, actor, org, person_id)
    return _edit_page(request, actor, org, view, view.answers)


@router.post("/ui/orgs/{org}/people/{person_id}/edit")
def save_person(
    request: Request,
    org: str,
    person_id: int,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """Store the correction made from the version the form was opened at: a mistake shows the
    form again with every question at fault; a newer version stored meanwhile is refused."""
    form = FormReader(fields)
    version = form.integer("version", "Версия анкеты", 1, 2**31 - 1)
    view = editing.answers_of(session, actor, org, person_id)
    records = records_from_form(view.person.spec, view.person.side, fields)
    shown = view.answers | form_values(view.person.spec, view.person.side, records)
    if form.problems or version is None:
        return _edit_page(request, actor, org, view, shown, form.problems, 422)
    try:
        with attempt(session):
            done = editing.correct(session, actor, org, person_id, records, version)
    except EditedMeanwhile as exc:  # the form shows the answers now stored, to correct again
        return _edit_page(request, actor, org, view, view.answers, problems_of(exc), 409)
    except Conflict as exc:
        return _edit_page(request, actor, org, view, shown, problems_of(exc), 409)
    except Invalid as exc:
        return _edit_page(request, actor, org, view, shown, problems_of(exc), 422)
    return back(
        f"/ui/orgs/{org}/people?q={quote(done.person.name or '')}",
        f"Анкета исправлена: {done.person.name or 'участник'} (версия {done.version}).",
    )


WAITING_FILTERS = {
    "overdue": ("Срок", {"yes": "больше 30 дней", "no": "до 30 дней"}),
    **ANSWER_FILTERS,
}


@router.get("/ui/orgs/{org}/waiting")
def waiting_list(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The mentees waiting for a mentor, longest first, one page at a time."""
    params = ListParams.parse(request.query_params, WAITING_FILTERS)
    organisation = organisation_for(session, actor, org)
    found = waiting_page(session, organisation.id, params)
    return render(
        request,
        "waiting.html",
        actor=actor,
        org=org,
        page=found,
        params=params,
        filters=WAITING_FILTERS,
        sorts=WAITING_SORTS,
        within_days=ASSIGN_WITHIN_DAYS,
    )


@router.post("/ui/orgs/{org}/import")
def upload(
    request: Request,
    org: str,
    db: DbDep,
    actor: ActorDep,
    side: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    settings: SettingsDep,
    spec: Annotated[str, Form()] = "teacher",
) -> Response:
    """Import a questionnaire file from the school page."""
    try:
        data = read_upload(file, settings.upload_bytes)
        result = people.import_answers(
            db,
            actor,
            org,
            side,
            data,
            file.filename,
            spec,
            settings.file_limits(),
            settings.people_per_school,
        )
    except Invalid as exc:
        return render(
            request,
            "import_errors.html",
            422,
            actor=actor,
            org=org,
            message=exc.message,
            errors=exc.errors,
        )
    return back(
        f"/ui/orgs/{org}",
        f"Файл принят: новых — {result.created}, обновлено — {result.updated}, "
        f"без изменений — {result.unchanged}.",
    )


# -- a person's consents ---------------------------------------------------------------------


def _consent_page(
    request: Request,
    session: Any,
    actor: Actor,
    org: str,
    person_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = consents.status(session, actor, org, person_id)
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
def consent_form(
    request: Request,
    org: str,
    person_id: int,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """A person's consents now and every record of them, and the form for a paper one."""
    today = utcnow().astimezone(settings.zone).date()
    values = {"kind": ConsentKind.participant.value, "signed_on": today.isoformat()}
    return _consent_page(request, session, actor, org, person_id, values)


@router.post("/ui/orgs/{org}/people/{person_id}/consent")
def consent(
    request: Request,
    org: str,
    person_id: int,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """Record a paper consent or its withdrawal; say what it changed."""
    zone = settings.zone
    asked = consents.status(session, actor, org, person_id).asked
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
        with attempt(session):
            done = consents.record_consent(
                session, actor, org, person_id, decision == "given", kind, signed_on, zone
            )
    except Invalid as exc:
        return _consent_page(request, session, actor, org, person_id, fields, problems_of(exc), 422)
    return back(f"/ui/orgs/{org}/people/{person_id}/consent", _consent_message(done))


def _consent_message(done: ConsentPublic) -> str:
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
    session: Any,
    actor: Actor,
    org: str,
    mentor_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    load = people.mentor_load(session, actor, org, mentor_id)
    return render(
        request,
        "capacity.html",
        status,
        actor=actor,
        org=org,
        mentor=load.mentor,
        pairs=load.pairs,
        limits=_limits(load.mentor.agreed or 0),
        values=values,
        errors=errors or [],
    )


@router.get("/ui/orgs/{org}/mentors/{mentor_id}/capacity")
def capacity_form(
    request: Request, org: str, mentor_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """A mentor's places: their answer, the curator's limit, and the active pairs taking them."""
    current = people.mentor_load(session, actor, org, mentor_id).mentor.capacity_limit
    values = {"limit": NO_LIMIT if current is None else str(current)}
    return _capacity_page(request, session, actor, org, mentor_id, values)


@router.post("/ui/orgs/{org}/mentors/{mentor_id}/capacity")
def capacity(
    request: Request,
    org: str,
    mentor_id: int,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """Set or clear the limit; a limit below the active pairs keeps them, with no new places."""
    agreed = people.mentor_load(session, actor, org, mentor_id).mentor.agreed or 0
    form = FormReader(fields)
    chosen = form.choice("limit", "Предел наставляемых", _limits(agreed))
    try:
        form.check("Предел не сохранён: исправьте отмеченное поле.")
        assert chosen is not None
        value = None if chosen == NO_LIMIT else int(chosen)
        with attempt(session):
            done = people.set_capacity_limit(session, actor, org, mentor_id, value)
    except Invalid as exc:
        return _capacity_page(
            request, session, actor, org, mentor_id, fields, problems_of(exc), 422
        )
    return back(f"/ui/orgs/{org}/mentors/{mentor_id}/capacity", _capacity_message(done))


def _capacity_message(done: LimitPublic) -> str:
    what = "Предел снят" if done.capacity_limit is None else f"Предел {done.capacity_limit}"
    can = (
        "наставник новых наставляемых не берёт"
        if done.places == 0
        else f"наставник может вести до {done.places}"
    )
    message = f"{what}: {can}, сейчас пар — {done.active_pairs}."
    if done.active_pairs > done.places:
        return message + " Действующие пары сохраняются, новых мест нет."
    free = done.places - done.active_pairs
    return message + (f" Свободных мест — {free}." if free else " Свободных мест нет.")
