"""Server-rendered pages for curators (Russian): log in with the token, decide on proposals.

A curator is school staff, not a programmer: the pages need no JavaScript. The token is kept in
an HttpOnly, SameSite=Strict cookie, so another site cannot post a form on the curator's behalf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlparse

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service import listing, pairs, people, reports, runs
from service.api import COOKIE, MAX_UPLOAD_BYTES, actor_for_token
from service.errors import Invalid, ServiceError, Unauthorized
from service.scoring import form_title
from service.security import Actor

__all__ = ["install"]

FLASH = "nastavnik_flash"
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
    "superseded": "заменено новым подбором",
}
templates.env.globals["status_title"] = lambda s: STATUS_TITLES.get(s, s)

router = APIRouter(include_in_schema=False)


def _actor(request: Request) -> Actor:
    return actor_for_token(
        request.app.state.db, request.app.state.settings, request.cookies.get(COOKIE)
    )


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    flash = request.cookies.get(FLASH)
    response = templates.TemplateResponse(
        request, name, {"flash": unquote(flash) if flash else None, **context}, status_code=status
    )
    if flash:
        response.delete_cookie(FLASH)
    return response


def _back(url: str, message: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLASH, quote(message), max_age=60, httponly=True, samesite="strict")
    return response


@router.get("/")
def root() -> RedirectResponse:
    """Start at the curator's pages."""
    return RedirectResponse("/ui", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login page."""
    return _page(request, "login.html")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> Response:
    """Check the token and keep it in a cookie."""
    try:
        actor_for_token(request.app.state.db, request.app.state.settings, token.strip())
    except Unauthorized:
        return _page(request, "login.html", 401, error="Токен не подошёл. Проверьте и повторите.")
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
    actor = _actor(request)
    orgs = listing.organisations(request.app.state.db, actor)
    if len(orgs) == 1:
        return RedirectResponse(f"/ui/orgs/{orgs[0]['code']}", status_code=303)
    return _page(request, "orgs.html", actor=actor, orgs=orgs)


@router.get("/ui/orgs/{org}")
def school(request: Request, org: str) -> HTMLResponse:
    """A school: open proposals with reasons, and what to do with them."""
    actor = _actor(request)
    db = request.app.state.db
    found = listing.proposals(db, actor, org, "open")
    everyone = listing.people(db, actor, org)
    summary = reports.report(db, actor, org)
    return _page(
        request,
        "school.html",
        actor=actor,
        org=org,
        proposals=found,
        people=everyone,
        report=summary,
    )


@router.get("/ui/orgs/{org}/pairs")
def school_pairs(request: Request, org: str) -> HTMLResponse:
    """The pairs of a school."""
    actor = _actor(request)
    db = request.app.state.db
    rows = listing.pairs(db, actor, org)
    mentors = [p for p in listing.people(db, actor, org, "mentor") if p["consent"]]
    return _page(request, "pairs.html", actor=actor, org=org, pairs=rows, mentors=mentors)


@router.post("/ui/orgs/{org}/run")
def run(request: Request, org: str) -> RedirectResponse:
    """Run the matching of a school."""
    actor = _actor(request)
    state = request.app.state
    options = runs.RunOptions(min_score=state.settings.min_score)
    result = runs.run_matching(state.db, state.solver, actor, options, org=org)
    return _back(
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
    actor = _actor(request)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise Invalid(f"Файл больше {MAX_UPLOAD_BYTES // 1024 // 1024} МБ.")
        result = people.import_answers(
            request.app.state.db, actor, org, side, data, file.filename, spec
        )
    except Invalid as exc:
        return _page(
            request,
            "import_errors.html",
            422,
            actor=actor,
            org=org,
            message=exc.message,
            errors=exc.extra.get("errors", []),
        )
    return _back(
        f"/ui/orgs/{org}",
        f"Файл принят: новых — {result.created}, обновлено — {result.updated}, "
        f"без изменений — {result.unchanged}.",
    )


@router.post("/ui/proposals/{proposal_id}/{decision}")
def decide(
    request: Request, proposal_id: int, decision: str, org: Annotated[str, Form()]
) -> Response:
    """Confirm or reject a proposal from the school page."""
    actor = _actor(request)
    db = request.app.state.db
    if decision == "confirm":
        pair = pairs.confirm(db, actor, proposal_id)
        message = f"Пара подтверждена (№ {pair.pair_id})."
    elif decision == "reject":
        pairs.reject(db, actor, proposal_id)
        message = "Предложение отклонено; эта пара больше не будет предложена."
    else:
        return Response(status_code=404)
    return _back(f"/ui/orgs/{org}", message)


@router.post("/ui/pairs/{pair_id}/end")
def end(
    request: Request, pair_id: int, org: Annotated[str, Form()], reason: Annotated[str, Form()]
) -> RedirectResponse:
    """End a pair from the pairs page."""
    pairs.end_pair(request.app.state.db, _actor(request), pair_id, reason)
    return _back(f"/ui/orgs/{org}/pairs", f"Пара № {pair_id} закрыта.")


def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, Unauthorized):
        return RedirectResponse("/login", status_code=303)
    back = urlparse(request.headers.get("referer", "")).path
    if request.method == "POST" and back.startswith("/ui"):  # only our own pages, never a host
        return _back(back, exc.message)
    try:
        actor: Actor | None = _actor(request)
    except ServiceError:
        actor = None
    status = 404 if exc.code == "not_found" else 409
    return _page(request, "error.html", status, message=exc.message, actor=actor)


def install(app: FastAPI) -> None:
    """Add the pages to ``app``; errors on a page become a Russian page, not JSON."""
    app.include_router(router)
    api_handler = app.exception_handlers[ServiceError]

    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return await _maybe_await(api_handler(request, exc))
        return _error_page(request, exc)

    app.add_exception_handler(ServiceError, handler)


async def _maybe_await(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value
