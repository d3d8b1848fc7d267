"""Server-rendered pages for curators (Russian): log in with the token, decide on proposals.

A curator is school staff, not a programmer: the pages need no JavaScript. The token is kept in
an HttpOnly, SameSite=Strict cookie, so another site cannot post a form on the curator's behalf.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlparse

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.concurrency import run_in_threadpool

from service import listing, pairs, people, reports, runs
from service.api import COOKIE, MAX_UPLOAD_BYTES, actor_for_token, status_of
from service.errors import Invalid, ServiceError, Unauthorized
from service.forms import FormReader
from service.scoring import form_title
from service.security import Actor

__all__ = ["FormDep", "actor_of", "back", "install", "render", "templates"]

FLASH = "nastavnik_flash"
ALERT = "nastavnik_alert"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals["form_title"] = form_title
templates.env.globals["end_reasons"] = pairs.END_REASONS
STATUS_TITLES = {
    "active": "действует",
    "completed": "завершена",
    "ended": "прекращена",
    "open": "ожидает решения",
    "confirmed": "подтверждено",
    "rejected": "отклонено",
    "superseded": "снято: новый подбор или отзыв согласия",
}
templates.env.globals["status_title"] = lambda s: STATUS_TITLES.get(s, s)


@pass_context
def _local_date(context: Any, value: date | datetime | None) -> str:
    """A date as a curator writes it; a moment (stored in UTC) as the school's local date."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(context["request"].app.state.settings.zone)
    return value.strftime("%d.%m.%Y")


templates.env.globals["date"] = _local_date

router = APIRouter(include_in_schema=False)


def actor_of(request: Request) -> Actor:
    """The user of a page request (the login cookie), or raise Unauthorized."""
    return actor_for_token(
        request.app.state.db, request.app.state.settings, request.cookies.get(COOKIE)
    )


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render the template ``name`` with the message left by the previous step, if any."""
    messages = {
        key: request.cookies.get(cookie) for key, cookie in (("flash", FLASH), ("alert", ALERT))
    }
    response = templates.TemplateResponse(
        request,
        name,
        {key: unquote(value) if value else None for key, value in messages.items()} | context,
        status_code=status,
    )
    for cookie in (FLASH, ALERT):
        if request.cookies.get(cookie):
            response.delete_cookie(cookie)
    return response


def back(url: str, message: str, error: bool = False) -> RedirectResponse:
    """Redirect to ``url`` (one of our pages) and show ``message`` there once."""
    response = RedirectResponse(url, status_code=303)
    cookie = ALERT if error else FLASH
    response.set_cookie(cookie, quote(message), max_age=60, httponly=True, samesite="strict")
    return response


async def _form_fields(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {
        key: values if len(values := form.getlist(key)) > 1 else values[0]
        for key in form.keys()  # noqa: SIM118 (a form is a multi-dict: keys repeat)
    }


FormDep = Annotated[dict[str, Any], Depends(_form_fields)]


@router.get("/")
def root() -> RedirectResponse:
    """Start at the curator's pages."""
    return RedirectResponse("/ui", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login page."""
    return render(request, "login.html")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> Response:
    """Check the token and keep it in a cookie."""
    try:
        actor_for_token(request.app.state.db, request.app.state.settings, token.strip())
    except Unauthorized:
        return render(request, "login.html", 401, error="Токен не подошёл. Проверьте и повторите.")
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    """Forget the token."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/ui")
def home(request: Request) -> Response:
    """The schools the user may see (a curator goes straight to their school)."""
    actor = actor_of(request)
    orgs = listing.organisations(request.app.state.db, actor)
    if len(orgs) == 1:
        return RedirectResponse(f"/ui/orgs/{orgs[0]['code']}", status_code=303)
    return render(request, "orgs.html", actor=actor, orgs=orgs)


@router.get("/ui/orgs/{org}")
def school(request: Request, org: str) -> HTMLResponse:
    """A school: open proposals with reasons, and what to do with them."""
    actor = actor_of(request)
    db = request.app.state.db
    found = listing.proposals(db, actor, org, "open")
    everyone = listing.people(db, actor, org)
    summary, waiting = reports.overview(db, actor, org)
    return render(
        request,
        "school.html",
        actor=actor,
        org=org,
        proposals=found,
        people=everyone,
        report=summary,
        waiting=waiting,
        within_days=reports.ASSIGN_WITHIN_DAYS,
    )


@router.get("/ui/orgs/{org}/pairs")
def school_pairs(request: Request, org: str) -> HTMLResponse:
    """The pairs of a school."""
    actor = actor_of(request)
    db = request.app.state.db
    rows = listing.pairs(db, actor, org)
    mentors = [p for p in listing.people(db, actor, org, "mentor") if p["consent"]]
    has_active = any(view.status == "active" for view, _, _ in rows)
    return render(
        request,
        "pairs.html",
        actor=actor,
        org=org,
        pairs=rows,
        mentors=mentors,
        has_active=has_active,
    )


@router.post("/ui/orgs/{org}/run")
def run(request: Request, org: str) -> RedirectResponse:
    """Run the matching of a school."""
    actor = actor_of(request)
    state = request.app.state
    options = runs.RunOptions(min_score=state.settings.min_score)
    result = runs.run_matching(state.db, state.solver, actor, options, org=org)
    return back(
        f"/ui/orgs/{org}",
        f"Подбор выполнен: предложено пар — {len(result.proposals)}, "
        f"без пары осталось — {len(result.unmatched)}.",
    )


@router.post("/ui/orgs/{org}/import")
def upload(
    request: Request,
    org: str,
    side: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    spec: Annotated[str, Form()] = "teacher",
) -> Response:
    """Import a questionnaire file from the school page."""
    actor = actor_of(request)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise Invalid(f"Файл больше {MAX_UPLOAD_BYTES // 1024 // 1024} МБ.")
        result = people.import_answers(
            request.app.state.db, actor, org, side, data, file.filename, spec
        )
    except Invalid as exc:
        return render(
            request,
            "import_errors.html",
            422,
            actor=actor,
            org=org,
            message=exc.message,
            errors=exc.extra.get("errors", []),
        )
    return back(
        f"/ui/orgs/{org}",
        f"Файл принят: новых — {result.created}, обновлено — {result.updated}, "
        f"без изменений — {result.unchanged}.",
    )


@router.post("/ui/proposals/{proposal_id}/{decision}")
def decide(
    request: Request, proposal_id: int, decision: str, org: Annotated[str, Form()]
) -> Response:
    """Confirm or reject a proposal from the school page."""
    actor = actor_of(request)
    db = request.app.state.db
    if decision == "confirm":
        pair = pairs.confirm(db, actor, proposal_id)
        message = f"Пара подтверждена (№ {pair.pair_id})."
    elif decision == "reject":
        pairs.reject(db, actor, proposal_id)
        message = "Предложение отклонено; эта пара больше не будет предложена."
    else:
        return Response(status_code=404)
    return back(f"/ui/orgs/{org}", message)


@router.post("/ui/pairs/{pair_id}/end")
def end(request: Request, pair_id: int, fields: FormDep) -> RedirectResponse:
    """End a pair from the pairs page, with one of the regulation's reasons."""
    actor = actor_of(request)
    form = FormReader(fields)
    reason = form.choice("reason", "Причина", pairs.END_REASONS)
    detail = listing.pair_detail(request.app.state.db, actor, pair_id)
    # Back to the pairs page it came from: a pair of two schools is on both schools' pages.
    org = fields.get("org") if fields.get("org") in detail.orgs else detail.org
    if reason is None:
        return back(f"/ui/orgs/{org}/pairs", "Выберите причину, по которой пара закрывается.", True)
    pairs.end_pair(request.app.state.db, actor, pair_id, reason)
    return back(f"/ui/orgs/{org}/pairs", f"Пара № {pair_id} закрыта: {pairs.END_REASONS[reason]}.")


def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, Unauthorized):
        return RedirectResponse("/login", status_code=303)
    origin = urlparse(request.headers.get("referer", "")).path
    if request.method == "POST" and origin.startswith("/ui"):  # only our own pages, never a host
        return back(origin, exc.message, error=True)
    return _message_page(request, exc.message, status_of(exc))


def _message_page(request: Request, message: str, status: int) -> Response:
    try:
        actor: Actor | None = actor_of(request)
    except ServiceError:
        actor = None
    return render(request, "error.html", status, message=message, actor=actor)


async def _unreadable_request(request: Request, exc: Exception) -> Response:
    """A page request whose address or form could not be read (say, a hand-edited address)."""
    if request.url.path.startswith("/api/"):
        assert isinstance(exc, RequestValidationError)
        return await request_validation_exception_handler(request, exc)
    return await run_in_threadpool(
        _message_page,
        request,
        "Запрос не понят: проверьте адрес страницы или заполните форму заново.",
        404 if request.method == "GET" else 422,
    )


def install(app: FastAPI) -> None:
    """Add the pages to ``app``; errors on a page become a Russian page, not JSON."""
    from service import pages, people_pages

    app.include_router(router)
    app.include_router(pages.router)
    app.include_router(people_pages.router)
    api_handler = app.exception_handlers[ServiceError]

    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return await _maybe_await(api_handler(request, exc))
        return await run_in_threadpool(_error_page, request, exc)  # it reads the database

    app.add_exception_handler(ServiceError, handler)
    app.add_exception_handler(RequestValidationError, _unreadable_request)


async def _maybe_await(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value
