"""Curators' pages beyond the proposals list: one mentee's suggestions, replacing a mentor,
feedback and satisfaction answers, the report, the order fixing pairs, and a coordinator's
municipality-wide run.

Every form is read whole with :class:`service.forms.FormReader`: a mistake shows the same form
again with every problem named and the entered values kept, and nothing is stored until the
whole form is right (the domain functions write in one transaction).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service import listing, orders, pairs, reports, runs, surveys
from service.errors import Conflict, Invalid, NotFound, ServiceError
from service.forms import FormReader
from service.models import utcnow
from service.web import FormDep, actor_of, back, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 10
REPLACE_REASONS = {k: v for k, v in pairs.END_REASONS.items() if k != "completed"}
YES_NO = {"yes": "да", "no": "нет"}
OBJECTIVES = {
    "coverage": "сначала охват: пара для как можно большего числа наставляемых",
    "score": "сначала качество: наибольшая сумма оценок пар",
}
DEFAULT_BASIS = (
    "Положением о системе наставничества, в целях реализации целевой модели наставничества"
)


def _problems(exc: ServiceError) -> list[dict[str, Any]]:
    """Every problem of an error, for the list under a form."""
    return list(exc.extra.get("errors") or []) or [{"column": None, "message": exc.message}]


def _mentors(request: Request, org: str) -> dict[int, dict[str, Any]]:
    actor = actor_of(request)
    return {p["id"]: p for p in listing.people(request.app.state.db, actor, org, "mentor")}


# -- one mentee: who could mentor them ------------------------------------------------------


@router.get("/ui/orgs/{org}/mentees/{mentee_id}")
def mentee(request: Request, org: str, mentee_id: int) -> HTMLResponse:
    """Кто мог бы стать наставником: mentors ranked by score, with reasons and free places."""
    actor = actor_of(request)
    db = request.app.state.db
    person = next(
        (p for p in listing.people(db, actor, org, "mentee") if p["id"] == mentee_id), None
    )
    if person is None:
        raise NotFound("mentee", mentee_id)
    refusal = None
    try:
        found = runs.suggestions(db, actor, org, mentee_id, k=SUGGESTIONS)
    except Conflict as exc:
        found, refusal = [], exc.message
    mentors = _mentors(request, org)
    current = [
        row for row in listing.pairs(db, actor, org, "active") if row[0].mentee_id == mentee_id
    ]
    _, waiting = reports.overview(db, actor, org)
    return render(
        request,
        "mentee.html",
        actor=actor,
        org=org,
        mentee=person,
        suggestions=[(mentors[m], score, reasons) for m, score, reasons in found],
        refusal=refusal,
        current=current[0] if current else None,
        waiting=next((w for w in waiting if w.mentee_id == mentee_id), None),
        within_days=reports.ASSIGN_WITHIN_DAYS,
    )


@router.post("/ui/orgs/{org}/proposals")
def propose(request: Request, org: str, fields: FormDep) -> RedirectResponse:
    """Propose the pair a curator chose from the suggestions; it waits on the school page."""
    actor = actor_of(request)
    form = FormReader(fields)
    mentee_id = form.integer("mentee_id", "Наставляемый", 1, 2**31 - 1)
    mentor_id = form.integer("mentor_id", "Наставник", 1, 2**31 - 1)
    form.check("Не понятно, какую пару предложить: откройте подбор наставника заново.")
    assert mentee_id is not None
    assert mentor_id is not None
    made = runs.propose(request.app.state.db, actor, org, mentee_id, mentor_id)
    return back(
        f"/ui/orgs/{org}",
        f"Пара предложена (предложение № {made.proposal_id}). "
        "Подтвердите или отклоните её в списке «Ожидают решения».",
    )


# -- replacing the mentor of a pair ----------------------------------------------------------


def _replace_page(
    request: Request,
    pair_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    actor = actor_of(request)
    db = request.app.state.db
    detail = listing.pair_detail(db, actor, pair_id)
    view = detail.view
    found: list[tuple[int, float, list[str]]] = []
    refusal = None
    mentee_side = "mentee" in detail.sides
    if view.status == "active" and mentee_side:
        try:
            found = runs.suggestions(db, actor, view.org, view.mentee_id, k=SUGGESTIONS)
        except Conflict as exc:
            refusal = exc.message
    mentors = _mentors(request, view.org) if mentee_side else {}
    return render(
        request,
        "replace.html",
        status,
        actor=actor,
        org=detail.org,
        pair=view,
        mentee_side=mentee_side,
        mentee_name=detail.mentee_name,
        mentor_name=detail.mentor_name,
        candidates=[(mentors[m], score, reasons) for m, score, reasons in found],
        refusal=refusal,
        reasons=REPLACE_REASONS,
        values=values,
        errors=errors or [],
    )


@router.get("/ui/pairs/{pair_id}/replace")
def replace_form(request: Request, pair_id: int) -> HTMLResponse:
    """The form to replace a pair's mentor: the regulation's reason and a suggested mentor."""
    return _replace_page(request, pair_id, {})


@router.post("/ui/pairs/{pair_id}/replace")
def replace(request: Request, pair_id: int, fields: FormDep) -> Response:
    """End the pair with the reason and start a new one with the chosen mentor."""
    actor = actor_of(request)
    form = FormReader(fields)
    reason = form.choice("reason", "Причина замены", REPLACE_REASONS)
    mentor_id = None
    if not str(fields.get("mentor_id") or "").strip():
        form.problem("Новый наставник", "выберите нового наставника из списка")
    else:
        mentor_id = form.integer("mentor_id", "Новый наставник", 1, 2**31 - 1)
    try:
        form.check("Наставник не заменён: исправьте отмеченные поля.")
        assert reason is not None
        assert mentor_id is not None
        new = pairs.replace_mentor(request.app.state.db, actor, pair_id, mentor_id, reason)
    except (Invalid, Conflict) as exc:
        status = 422 if isinstance(exc, Invalid) else 409
        return _replace_page(request, pair_id, fields, _problems(exc), status)
    return back(
        f"/ui/orgs/{new.org}/pairs",
        f"Наставник заменён: новая пара № {new.pair_id}; пара № {pair_id} закрыта "
        f"(причина: {REPLACE_REASONS[reason]}).",
    )


# -- feedback and the satisfaction questionnaire ---------------------------------------------


def _feedback_page(
    request: Request,
    pair_id: int,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    actor = actor_of(request)
    db = request.app.state.db
    detail = listing.pair_detail(db, actor, pair_id)
    return render(
        request,
        "feedback.html",
        status,
        actor=actor,
        org=detail.org,
        pair=detail.view,
        mentee_name=detail.mentee_name,
        mentor_name=detail.mentor_name,
        responses=listing.feedback(db, actor, pair_id),
        items=surveys.SATISFACTION_ITEMS,
        open_questions=surveys.OPEN_QUESTIONS,
        would_continue=surveys.CONTINUE,
        all_authors=surveys.AUTHORS,
        authors={k: v for k, v in surveys.AUTHORS.items() if k in detail.sides},
        kinds=surveys.KINDS,
        yes_no=YES_NO,
        values=values,
        errors=errors or [],
    )


@router.get("/ui/pairs/{pair_id}/feedback")
def feedback_form(request: Request, pair_id: int) -> HTMLResponse:
    """Feedback (monthly) and the satisfaction questionnaire of a pair, with earlier answers."""
    return _feedback_page(request, pair_id, {})


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
def feedback(request: Request, pair_id: int, fields: FormDep) -> Response:
    """Store one response; a mistake shows the form again with every problem and the answers."""
    actor = actor_of(request)
    form = FormReader(fields)
    kind, author, score, answers, comment = _read_feedback(form)
    try:
        form.check("Ответ не сохранён: исправьте отмеченные поля.")
        assert kind is not None
        assert author is not None
        pairs.give_feedback(
            request.app.state.db, actor, pair_id, author, kind, score, answers, comment
        )
    except Invalid as exc:
        return _feedback_page(request, pair_id, fields, _problems(exc), 422)
    return back(
        f"/ui/pairs/{pair_id}/feedback",
        f"Ответ сохранён: {surveys.KINDS[kind]} ({surveys.AUTHORS[author]}).",
    )


# -- monitoring ------------------------------------------------------------------------------


@router.get("/ui/orgs/{org}/report")
def report(request: Request, org: str) -> HTMLResponse:
    """The monitoring report: coverage, mentor load, waiting mentees, satisfaction and targets."""
    actor = actor_of(request)
    now = utcnow()
    summary, waiting = reports.overview(request.app.state.db, actor, org, now)
    return render(
        request,
        "report.html",
        actor=actor,
        org=org,
        report=summary,
        waiting=waiting,
        mentors=_mentors(request, org),
        now=now,
        year=now.year,
        targets=reports.SATISFACTION_TARGETS,
        within_days=reports.ASSIGN_WITHIN_DAYS,
    )


# -- the order fixing pairs ------------------------------------------------------------------


def _order_page(
    request: Request,
    org: str,
    values: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    actor = actor_of(request)
    rows = listing.pairs(request.app.state.db, actor, org, "active")
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
def order_form(request: Request, org: str) -> HTMLResponse:
    """The form of the order fixing pairs: number, date, basis, and which active pairs."""
    today = utcnow().astimezone(request.app.state.settings.zone).date()
    return _order_page(request, org, {"date": today.isoformat(), "basis": DEFAULT_BASIS})


@router.post("/ui/orgs/{org}/order")
def order(request: Request, org: str, fields: FormDep) -> Response:
    """Download the order as a DOCX document; a mistake shows the form with every problem."""
    actor = actor_of(request)
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
        request_ = orders.OrderRequest(number, on, basis, end_date, chosen, head)
        made = orders.make_order(
            request.app.state.db, actor, org, request_, zone=request.app.state.settings.zone
        )
    except Invalid as exc:
        return _order_page(request, org, fields, _problems(exc), 422)
    return Response(
        made.content,
        media_type=orders.MEDIA_TYPE,
        headers={"Content-Disposition": made.content_disposition},
    )


# -- a coordinator's municipality-wide run ---------------------------------------------------


@router.get("/ui/municipalities/{municipality}")
def municipality(request: Request, municipality: str) -> HTMLResponse:
    """The schools of a municipality and one run that matches them all at once."""
    actor = actor_of(request)
    schools = listing.municipality(request.app.state.db, actor, municipality)
    return render(
        request,
        "municipality.html",
        actor=actor,
        municipality=municipality,
        schools=schools,
        objectives=OBJECTIVES,
    )


@router.post("/ui/municipalities/{municipality}/run")
def municipality_run(request: Request, municipality: str, fields: FormDep) -> RedirectResponse:
    """Run the matching over every school of the municipality (virtual pairs may cross)."""
    actor = actor_of(request)
    state = request.app.state
    form = FormReader(fields)
    objective = form.choice("objective", "Что важнее", OBJECTIVES)
    form.check("Подбор не выполнен: выберите, что важнее.")
    assert objective is not None
    options = runs.RunOptions(objective=objective, min_score=state.settings.min_score)
    result = runs.run_matching(state.db, state.solver, actor, options, municipality=municipality)
    return back(
        f"/ui/municipalities/{quote(municipality, safe='')}",
        f"Подбор по муниципалитету выполнен: предложено пар — {len(result.proposals)}, "
        f"без пары осталось — {len(result.unmatched)}, "
        f"действующих пар сохранено — {len(result.kept)}.",
    )
