"""Curators' monitoring pages: feedback and the satisfaction questionnaire of a pair, the
report, the order fixing pairs, and a coordinator's municipality page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.core.deps import ActorDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Invalid
from service.core.listing import ListParams, fold
from service.core.models import PairStatus, utcnow
from service.core.rules import ASSIGN_WITHIN_DAYS, SATISFACTION_TARGETS
from service.core.security import Actor
from service.monitoring import feedback as responses
from service.monitoring import orders, reports, surveys
from service.monitoring.routes import document
from service.pairs import pairs
from service.runs.pages import OBJECTIVES
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

YES_NO = {"yes": "да", "no": "нет"}
DEFAULT_BASIS = (
    "Положением о системе наставничества, в целях реализации целевой модели наставничества"
)


# -- feedback and the satisfaction questionnaire ---------------------------------------------


def _feedback_page(
    request: Request,
    session: Any,
    actor: Actor,
    pair_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    pair, sides = pairs.pair_with_sides(session, actor, pair_id)
    view = pairs.public(pair)
    return render(
        request,
        "feedback.html",
        status,
        actor=actor,
        org=view.org if "mentee" in sides else view.mentor_org,
        pair=view,
        responses=responses.responses(session, actor, pair_id),
        items=surveys.SATISFACTION_ITEMS,
        open_questions=surveys.OPEN_QUESTIONS,
        would_continue=surveys.CONTINUE,
        all_authors=surveys.AUTHORS,
        authors={k: v for k, v in surveys.AUTHORS.items() if k in sides},
        kinds=surveys.KINDS,
        yes_no=YES_NO,
        values=values,
        errors=errors or [],
    )


@router.get("/ui/pairs/{pair_id}/feedback")
def feedback_form(
    request: Request, pair_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """Feedback (monthly) and the satisfaction questionnaire of a pair, with earlier answers."""
    return _feedback_page(request, session, actor, pair_id, {})


def _read_feedback(
    form: FormReader,
) -> tuple[str | None, str | None, int | None, dict[str, Any], str | None]:
    kind = form.choice("kind", "Вид ответа", surveys.KINDS)
    author = form.choice("author", "Кто отвечает", surveys.AUTHORS)
    answers: dict[str, Any] = {}
    score = None
    if kind == "satisfaction":
        for key, title in surveys.SATISFACTION_ITEMS.items():
            answers[key] = form.integer(key, title, 1, 10)
        for key, title in surveys.OPEN_QUESTIONS.items():
            answers[key] = form.text(key, title, required=False, max_length=5000)
        key, title = surveys.CONTINUE
        answer = form.choice(key, title, YES_NO)
        answers[key] = None if answer is None else answer == "yes"
    else:
        score = form.integer("score", "Оценка", 1, 10, required=False)
    comment = form.text("comment", "Комментарий", required=False, max_length=5000)
    return kind, author, score, answers, comment


@router.post("/ui/pairs/{pair_id}/feedback")
def feedback(
    request: Request, pair_id: int, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """Store one response; a mistake shows the form again with every problem and the answers."""
    form = FormReader(fields)
    kind, author, score, answers, comment = _read_feedback(form)
    try:
        form.check("Ответ не сохранён: исправьте отмеченные поля.")
        assert kind is not None
        assert author is not None
        with attempt(session):
            responses.give_feedback(session, actor, pair_id, author, kind, score, answers, comment)
    except Invalid as exc:
        return _feedback_page(request, session, actor, pair_id, fields, problems_of(exc), 422)
    return back(
        f"/ui/pairs/{pair_id}/feedback",
        f"Ответ сохранён: {surveys.KINDS[kind]} ({surveys.AUTHORS[author]}).",
    )


FEEDBACK_FILTERS = {
    "kind": ("Вид ответа", {"feedback": "отзыв", "satisfaction": "анкета удовлетворённости"}),
    "author": ("Кто отвечает", {"mentee": "наставляемый", "mentor": "наставник"}),
}


@router.get("/ui/orgs/{org}/feedback")
def feedback_list(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The feedback of a school's pairs, one page at a time: search by name, filters, sort."""
    params = ListParams.parse(
        request.query_params, {**responses.FEEDBACK.filters, **FEEDBACK_FILTERS}
    )
    found = responses.feedback_page(session, actor, org, params)
    return render(
        request,
        "feedback_list.html",
        actor=actor,
        org=org,
        page=found,
        params=params,
        filters=FEEDBACK_FILTERS,
        sorts=responses.FEEDBACK.sort_titles,
    )


# -- monitoring ------------------------------------------------------------------------------


@router.get("/ui/orgs/{org}/report")
def report(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The monitoring report: coverage, mentor load, waiting mentees, satisfaction and targets."""
    now = utcnow()
    summary, waiting, mentors = reports.overview(session, actor, org, now)
    return render(
        request,
        "report.html",
        actor=actor,
        org=org,
        report=summary,
        waiting=waiting,
        mentors=mentors,
        now=now,
        year=now.year,
        targets=SATISFACTION_TARGETS,
        within_days=ASSIGN_WITHIN_DAYS,
    )


# -- the order fixing pairs ------------------------------------------------------------------


def _order_page(
    request: Request,
    session: Any,
    actor: Actor,
    org: str,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = pairs.pairs(session, actor, org, PairStatus.active.value)
    chosen = values.get("pair")
    chosen = (
        {str(c) for c in (chosen if isinstance(chosen, list) else [chosen])} if chosen else None
    )
    return render(
        request,
        "order.html",
        status,
        actor=actor,
        org=org,
        pairs=rows,
        values=values,
        chosen=chosen,
        errors=errors or [],
    )


@router.get("/ui/orgs/{org}/order")
def order_form(
    request: Request, org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> HTMLResponse:
    """The form of the order fixing pairs: number, date, basis, and which active pairs."""
    today = utcnow().astimezone(settings.zone).date()
    values = {"date": today.isoformat(), "basis": DEFAULT_BASIS}
    return _order_page(request, session, actor, org, values)


@router.post("/ui/orgs/{org}/order")
def order(
    request: Request,
    org: str,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """Download the order as a DOCX document; a mistake shows the form with every problem."""
    form = FormReader(fields)
    number = form.text("number", "Номер приказа", max_length=50)
    on = form.date("date", "Дата приказа")
    basis = form.text("basis", "Основание", max_length=2000)
    end_date = form.date("end_date", "Дата окончания", required=False)
    head = form.text("head", "Руководитель", required=False, max_length=200)
    chosen = form.ids("pair", "Пары")
    if not chosen:
        form.problem("Пары", "отметьте хотя бы одну пару")
    try:
        form.check("Приказ не сформирован: исправьте отмеченные поля.")
        assert number is not None
        assert on is not None
        assert basis is not None
        wanted = orders.OrderRequest(number, on, basis, end_date, chosen, head)
        with attempt(session):
            made = orders.make_order(session, actor, org, wanted, zone=settings.zone)
    except Invalid as exc:
        return _order_page(request, session, actor, org, fields, problems_of(exc), 422)
    return document(made)


# -- a coordinator's municipality page -------------------------------------------------------


@router.get("/ui/municipalities/{municipality}")
def municipality(
    request: Request, municipality: str, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """The schools of a municipality (coverage, waiting past 30 days, satisfaction and mentors'
    load of each and of all together, with links down to each school) and one run that matches
    them all at once. ``q`` finds schools by name."""
    q = str(request.query_params.get("q") or "").strip()
    report = reports.municipality_report(session, actor, municipality)
    words = fold(q).split()
    shown = [i for i in report.schools if all(w in fold(f"{i.name} {i.code}") for w in words)]
    return render(
        request,
        "municipality.html",
        actor=actor,
        municipality=municipality,
        schools=reports.municipality(session, actor, municipality),
        report=report,
        indicators=shown,
        shown={i.code for i in shown},
        q=q,
        objectives=OBJECTIVES,
    )
