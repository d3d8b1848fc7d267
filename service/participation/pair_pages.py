"""A participant's page of their pair (``/p/<token>`` of a pair link): the plan, meetings,
monthly feedback and the final report; only the other person's name is shown of them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.core.deps import ActorDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Conflict, Denied, Invalid
from service.core.models import Invitation, LinkPurpose, utcnow
from service.core.security import Actor
from service.participation import links, pairwork
from service.participation.routes import opened, plan_document
from service.participation.schemas import (
    FinalReportCreate,
    FlagPublic,
    MeetingCreate,
    PlanCreate,
    PlanTask,
)
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["flags_for", "pair_page", "router"]

router = APIRouter(include_in_schema=False)
TASK_ROWS = 8


def _today(request: Request) -> date:
    return utcnow().astimezone(request.app.state.settings.zone).date()


def pair_page(
    request: Request,
    session: Any,
    invitation: Invitation,
    token: str,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    plan_values: PlanCreate | None = None,
) -> HTMLResponse:
    """The pair of a pair link."""
    pair, side = pairwork.pair_of(session, invitation)
    work = pairwork.work(session, pair, side)
    draft = plan_values or work.plan or pairwork.draft_plan(pair, _today(request))
    return render(
        request, "participation/pair.html", status, work=work, side=side, token=token,
        person_name=invitation.person.name if invitation.person else None,
        draft=draft, task_rows=TASK_ROWS, errors=errors or [], formats=pairwork.FORMATS,
        today=_today(request),
    )  # fmt: skip


def flags_for(session: Any, actor: Actor, org: str) -> list[FlagPublic]:
    """Pairs with something missing, for the curator's page."""
    return pairwork.flags(session, actor, org)


def _pair(request: Request, session: Any, token: str) -> tuple[Invitation, Any, str]:
    invitation = opened(request, session, token, {LinkPurpose.pair.value})
    pair, side = pairwork.pair_of(session, invitation)
    return invitation, pair, side


def _read_plan(fields: dict[str, Any]) -> PlanCreate:
    form = FormReader(fields)
    goals = form.text("goals", "Цели", max_length=5000)
    starts = form.date("starts_on", "Начало")
    ends = form.date("ends_on", "Окончание")
    tasks = []
    for n in range(1, TASK_ROWS + 1):
        if not str(fields.get(f"task_{n}") or "").strip():
            continue
        title = form.text(f"task_{n}", f"Задача {n}", max_length=300)
        due = form.date(f"due_{n}", f"Срок задачи {n}")
        if title and due:
            tasks.append(PlanTask(title=title, due=due))
    if not tasks and not form.problems:
        form.problem("Задачи", "нужна хотя бы одна задача со сроком")
    form.check("План не сохранён: исправьте отмеченное.")
    assert goals
    assert starts
    assert ends
    return PlanCreate(goals=goals, tasks=tasks, starts_on=starts, ends_on=ends)


def _step(
    request: Request, session: Any, invitation: Invitation, token: str, step: Any, done: str
) -> Response:
    try:
        with attempt(session):
            step()
    except (Invalid, Conflict, Denied) as exc:
        return pair_page(request, session, invitation, token, problems_of(exc), exc.status)
    invitation.used_at = utcnow()
    return back(f"/p/{token}", done)


@router.post("/p/{token}/plan")
def plan(request: Request, token: str, session: WriteSessionDep, fields: FormDep) -> Response:
    """The mentor writes or changes the plan."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    try:
        body = _read_plan(fields)
    except Invalid as exc:
        return pair_page(request, session, invitation, token, problems_of(exc), 422)
    return _step(request, session, invitation, token,
                 lambda: pairwork.save_plan(session, actor, pair, side, body), "План сохранён.")  # fmt: skip


@router.post("/p/{token}/plan/read")
def plan_read(request: Request, token: str, session: WriteSessionDep) -> Response:
    """The mentee has read the plan."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    return _step(request, session, invitation, token,
                 lambda: pairwork.acknowledge_plan(session, actor, pair, side),
                 "Отмечено: с планом ознакомлен(а).")  # fmt: skip


@router.get("/p/{token}/plan.docx")
def plan_docx(request: Request, token: str, session: SessionDep) -> Response:
    """The plan as a Word document."""
    _, pair, _ = _pair(request, session, token)
    return plan_document(session, pair)


@router.post("/p/{token}/meetings")
def meeting(
    request: Request, token: str, session: WriteSessionDep, settings: SettingsDep, fields: FormDep
) -> Response:
    """Log a meeting with this side's note."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    form = FormReader(fields)
    held_on = form.date("held_on", "Дата встречи", not_after=_today(request))
    kind = form.choice("format", "Формат", pairwork.FORMATS)
    topic = form.text("topic", "Тема", max_length=300)
    note = form.text("note", "Заметка", required=False, max_length=2000)
    try:
        form.check("Встреча не записана: исправьте отмеченное.")
    except Invalid as exc:
        return pair_page(request, session, invitation, token, problems_of(exc), 422)
    assert held_on is not None
    assert kind in ("in_person", "remote")
    assert topic is not None
    body = MeetingCreate(held_on=held_on, format=kind, topic=topic, note=note)
    return _step(request, session, invitation, token,
                 lambda: pairwork.log_meeting(session, actor, pair, side, body, _today(request)),
                 "Встреча записана.")  # fmt: skip


@router.post("/p/{token}/meetings/{meeting_id}/note")
def meeting_note(
    request: Request, token: str, meeting_id: int, session: WriteSessionDep, fields: FormDep
) -> Response:
    """Add this side's note to a meeting."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    note = str(fields.get("note") or "")
    return _step(request, session, invitation, token,
                 lambda: pairwork.add_note(session, actor, pair, side, meeting_id, note),
                 "Заметка сохранена.")  # fmt: skip


@router.post("/p/{token}/feedback")
def feedback(request: Request, token: str, session: WriteSessionDep, fields: FormDep) -> Response:
    """This side's monthly feedback."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    form = FormReader(fields)
    score = form.integer("score", "Оценка", 1, 10, required=False)
    comment = form.text("comment", "Комментарий", required=False, max_length=2000)
    try:
        form.check("Отзыв не сохранён: исправьте отмеченное.")
    except Invalid as exc:
        return pair_page(request, session, invitation, token, problems_of(exc), 422)
    return _step(request, session, invitation, token,
                 lambda: pairwork.monthly_feedback(session, actor, pair, side, score, comment),
                 "Спасибо за отзыв.")  # fmt: skip


@router.post("/p/{token}/final-report")
def final_report(
    request: Request, token: str, session: WriteSessionDep, fields: FormDep
) -> Response:
    """This side's final report."""
    invitation, pair, side = _pair(request, session, token)
    actor = links.link_actor(invitation)
    form = FormReader(fields)
    text = form.text("text", "Отчёт", max_length=10000)
    score = form.integer("score", "Оценка", 1, 10, required=False)
    try:
        form.check("Отчёт не сохранён: исправьте отмеченное.")
    except Invalid as exc:
        return pair_page(request, session, invitation, token, problems_of(exc), 422)
    body = FinalReportCreate(text=text or "", score=score)
    return _step(request, session, invitation, token,
                 lambda: pairwork.final_report(session, actor, pair, side, body),
                 "Итоговый отчёт сдан.")  # fmt: skip


@router.post("/ui/orgs/{org}/participation/reminders")
def reminders(
    org: str, session: WriteSessionDep, actor: ActorDep, settings: SettingsDep
) -> Response:
    """Queue the reminders now due (each once)."""
    queued = pairwork.remind(
        session, actor, org, secret=settings.secret_key, base_url=settings.public_url,
        days=settings.link_days, zone=settings.zone,
    )  # fmt: skip
    return back(
        f"/ui/orgs/{org}/participation",
        f"Напоминаний поставлено в очередь: {queued}. Отправить — на странице «Письма».",
    )
