"""Rendering the curators' pages (Russian, server-side, no JavaScript needed).

Domain folders keep their pages in ``pages.py`` and render them with :func:`render`; a form step
that succeeded redirects with :func:`back`, which leaves a one-time message for the next page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import Session

from service.core.rules import END_REASONS, SUPERSEDED_REASONS, form_title
from service.ui import formatting

__all__ = ["FormDep", "attempt", "back", "problems_of", "render", "templates"]

FLASH = "nastavnik_flash"
ALERT = "nastavnik_alert"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals["form_title"] = form_title
templates.env.globals["end_reasons"] = END_REASONS
STATUS_TITLES = {
    "active": "действует",
    "completed": "завершена",
    "ended": "прекращена",
    "open": "ожидает решения",
    "confirmed": "подтверждено",
    "rejected": "отклонено",
    "superseded": "снято",
}
templates.env.globals["status_title"] = lambda s: STATUS_TITLES.get(s, s)


@pass_context
def _local_date(context: Any, value: date | datetime | None) -> str:
    """A date as a curator writes it; a moment (stored in UTC) as the school's local date."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(context["request"].app.state.settings.zone)
    return f"{value.day:02d}.{value.month:02d}.{value.year}"  # strftime's "%d.%m.%Y", 3x faster


templates.env.globals["date"] = _local_date


@pass_context
def _school_name(context: Any, code: str | None) -> str:
    """A school's name for a code (pages show names, never codes); read once per request."""
    if not code:
        return ""
    request = context["request"]
    names = getattr(request.state, "school_names", None)
    if names is None:
        names = request.state.school_names = {}
    if code not in names:  # the schools a page names, not every school of the region
        from sqlalchemy import select

        from service.core.models import Organisation

        query = select(Organisation.name).where(Organisation.code == code)
        session = getattr(request.state, "session", None)  # the page's own transaction
        if session is not None and session.is_active:
            known = session.info.get("organisations", {}).get(code)  # read by the page already
            names[code] = known.name if known is not None else session.scalar(query)
        else:
            with request.app.state.db.read() as session:
                names[code] = session.scalar(query)
    return str(names.get(code) or code)


templates.env.globals["school_name"] = _school_name
templates.env.globals["found_title"] = lambda n: f"Найдено: {n}"  # «Найдено: 21» reads for any n
templates.env.globals["superseded_reason"] = lambda key: SUPERSEDED_REASONS.get(key, key)
# Russian formatting by Babel: decimal commas, percentages, whole days with plurals, one scale.
templates.env.globals.update(
    score100=formatting.score100,
    number=formatting.number,
    percent=formatting.percent,
    days=formatting.days,
    plural=formatting.plural,
    signed=formatting.signed,
    size=formatting.size,
)


@pass_context
def _csrf_input(context: Any) -> Markup:
    """The hidden field every POST form of the pages carries: ``{{ csrf_input() }}`` right after
    ``<form method="post" ...>``. It holds the request's anti-forgery token, when one is set."""
    state = context["request"].state
    token = getattr(state, "csrf_token", None)
    made = getattr(state, "csrf_field", None)  # a page has a form per row: made once
    if made is not None and made[0] == token:
        cached: Markup = made[1]
        return cached
    field = Markup("")
    if token:
        field = Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)
    state.csrf_field = (token, field)
    return field


templates.env.globals["csrf_input"] = _csrf_input


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


# A domain error names a field by its API name (``planned_end``); under a form it is named as
# the form names it. (Other columns are a questionnaire's own headings: shown as they are.)
_FIELD_TITLES = {
    "planned_end": "Новая дата окончания",
    "reason": "Причина",
    "form": "Форма наставничества",
    "max_size": "Размер группы",
    "demand": "Сколько наставников нужно",
    "mentor_id": "Наставник",
    "mode": "Формат работы",
    "kind": "Вид",
    "sort": "Порядок",
}


def problems_of(exc: Any) -> list[dict[str, Any]]:
    """Every problem of a domain error, for the list under a form."""
    problems = list(exc.extra.get("errors") or []) or [{"column": None, "message": exc.message}]
    return [
        {**problem, "column": _FIELD_TITLES.get(problem.get("column"), problem.get("column"))}
        for problem in problems
    ]


async def _form_fields(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {
        key: values if len(values := form.getlist(key)) > 1 else values[0]
        for key in form.keys()  # noqa: SIM118 (a form is a multi-dict: keys repeat)
    }


FormDep = Annotated[dict[str, Any], Depends(_form_fields)]


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """A step of a page whose error is shown on the same page: on an error, everything the step
    wrote is undone (a savepoint), while the request's transaction goes on to render the form."""
    with session.begin_nested():
        yield
