"""Curators' pages of groups, terms and co-mentors (docs/rules.md#group, #term, #co-mentors).

A school's groups and the proposed ones (confirmed at once), each form's largest group; one
group: replace a member, end a member or the group, move the group's term, end the programme;
one pair's term: extension, change of form, the final survey and the end; a mentee's number of
mentors. Every step calls the same domain functions as the API (``service.pairs.groups``,
``terms``, ``comentors``); a form with a mistake is shown again with the problems named.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.deps import ActorDep, SessionDep, WriteSessionDep
from service.core.errors import Conflict, Invalid, NotFound
from service.core.models import PairStatus, Person, Side
from service.core.rules import END_REASONS, MAX_DEMAND, REPLACE_REASONS, mentoring_forms
from service.core.security import Actor, organisation_for
from service.pairs import comentors, groups, pairs, terms
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

TERM_TITLES = {"ok": "в срок", "ending": "срок истекает", "overdue": "срок истёк"}


def _failed(exc: Invalid | Conflict) -> int:
    return 422 if isinstance(exc, Invalid) else 409


@router.get("/ui/orgs/{org}/groups")
def school_groups(
    request: Request,
    org: str,
    session: SessionDep,
    actor: ActorDep,
    mentor: int | None = None,
) -> HTMLResponse:
    """A school's groups (or one mentor's), the proposed groups and each form's largest group."""
    if mentor is not None:
        found = groups.mentor_groups(session, actor, org, mentor)
        proposed = [g for g in groups.proposed_groups(session, actor, org) if g.mentor_id == mentor]
    else:
        found = groups.groups(session, actor, org)
        proposed = groups.proposed_groups(session, actor, org)
    return render(
        request,
        "groups.html",
        actor=actor,
        org=org,
        groups=found,
        proposed=proposed,
        limits=groups.group_limits(session, actor, org),
        mentor=mentor,
        term_titles=TERM_TITLES,
    )


@router.post("/ui/orgs/{org}/groups/confirm")
def confirm_group(org: str, fields: FormDep, session: WriteSessionDep, actor: ActorDep) -> Response:
    """Confirm a proposed group: each proposal as a single confirmation; the refused named."""
    form = FormReader(fields)
    mentor_id = form.integer("mentor_id", "Наставник", 1, 2**31 - 1)
    key = form.choice("form", "Форма", mentoring_forms())
    if form.problems or mentor_id is None or key is None:
        return back(f"/ui/orgs/{org}/groups", "Не выбрана группа для подтверждения.", True)
    done = groups.confirm_group(session, actor, org, mentor_id, key)
    message = f"Подтверждено в группе: {len(done.confirmed)}."
    if done.refused:
        message += " Не подтверждены: " + "; ".join(
            f"{r.mentee_name or 'наставляемый'} — {r.reason}" for r in done.refused
        )
    target = f"/ui/groups/{done.group.group_id}" if done.group else f"/ui/orgs/{org}/groups"
    return back(target, message, error=not done.confirmed)


@router.post("/ui/orgs/{org}/group-limits")
def set_group_limit(
    org: str, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """Set the largest group of a form at the school."""
    form = FormReader(fields)
    key = form.choice("form", "Форма", mentoring_forms())
    size = form.integer("max_size", "Наибольшая группа", 1, 100)
    if form.problems or key is None or size is None:
        return back(f"/ui/orgs/{org}/groups", "Укажите форму и размер группы (целое число).", True)
    try:
        with attempt(session):
            limit = groups.set_group_limit(session, actor, org, key, size)
    except Invalid as exc:
        return back(f"/ui/orgs/{org}/groups", exc.message, True)
    return back(
        f"/ui/orgs/{org}/groups",
        f"Наибольшая группа в форме «{limit.form_title}»: {limit.max_size}.",
    )


def _free_mentees(session: Session, actor: Actor, org: str) -> list[Person]:
    """The school's mentees who may take a place: consent given, fewer pairs than they need."""
    from service.core.models import Pair

    organisation = organisation_for(session, actor, org)
    people = session.scalars(
        select(Person)
        .where(
            Person.org_id == organisation.id,
            Person.side == Side.mentee.value,
            Person.consent.is_(True),
            Person.archived_at.is_(None),
        )
        .order_by(Person.name, Person.id)
    ).all()
    active: dict[int, int] = {}
    for mentee_id in session.scalars(
        select(Pair.mentee_id).where(
            Pair.org_id == organisation.id, Pair.status == PairStatus.active.value
        )
    ):
        active[mentee_id] = active.get(mentee_id, 0) + 1
    return [p for p in people if active.get(p.id, 0) < p.demand]


def _group_page(
    request: Request,
    session: Session,
    actor: Actor,
    group_id: int,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    group = groups.group_public(session, groups.get_group(session, actor, group_id))
    return render(
        request,
        "group.html",
        status,
        actor=actor,
        org=group.org,
        group=group,
        candidates=_free_mentees(session, actor, group.org) if group.status == "active" else [],
        replace_reasons=REPLACE_REASONS,
        term_titles=TERM_TITLES,
        errors=errors or [],
        values=values or {},
    )


@router.get("/ui/groups/{group_id}")
def group_page(request: Request, group_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """One group: its members with their terms, and what a curator does with them."""
    return _group_page(request, session, actor, group_id)


@router.post("/ui/groups/{group_id}/{step}")
def group_step(
    request: Request,
    group_id: int,
    step: str,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """A step of a group: ``replace`` a member, ``end-member``, ``term``, ``finish`` or ``end``."""
    form = FormReader(fields)
    try:
        with attempt(session):
            message = _group_step(session, actor, group_id, step, form)
    except (Invalid, Conflict) as exc:
        return _group_page(
            request, session, actor, group_id, problems_of(exc), _failed(exc), fields
        )
    return back(f"/ui/groups/{group_id}", message)


def _group_step(session: Session, actor: Actor, group_id: int, step: str, form: FormReader) -> str:
    if step == "replace":
        pair_id = form.integer("pair_id", "Участник группы", 1, 2**31 - 1)
        mentee_id = form.integer("mentee_id", "Новый участник", 1, 2**31 - 1)
        reason = form.choice("reason", "Причина", REPLACE_REASONS)
        form.check("Участник не заменён: исправьте отмеченные поля.")
        assert pair_id is not None
        assert mentee_id is not None
        assert reason is not None
        new = groups.replace_member(session, actor, group_id, pair_id, mentee_id, reason)
        return f"В группу вошёл {new.mentee_name or 'новый участник'}; прежний участник выбыл."
    if step == "end-member":
        pair_id = form.integer("pair_id", "Участник группы", 1, 2**31 - 1)
        reason = form.choice("reason", "Причина", END_REASONS)
        form.check("Участник не выведен из группы: исправьте отмеченные поля.")
        assert pair_id is not None
        assert reason is not None
        left = groups.end_member(session, actor, group_id, pair_id, reason)
        return f"{left.mentee_name or 'Участник'} выбыл из группы: {END_REASONS[reason]}."
    if step == "term":
        end = form.date("planned_end", "Новая дата окончания")
        reason = form.text("reason", "Причина (согласие сторон)", max_length=2000)
        form.check("Срок не изменён: исправьте отмеченные поля.")
        assert end is not None
        assert reason is not None
        terms.extend_group(session, actor, group_id, end, reason)
        return f"Срок группы изменён: окончание {end:%d.%m.%Y}."
    if step == "finish":
        terms.finish_group(session, actor, group_id)
        return "Программа группы завершена: пары закрыты (программа наставничества завершена)."
    if step == "end":
        reason = form.choice("reason", "Причина", END_REASONS)
        form.check("Группа не закрыта: выберите причину.")
        assert reason is not None
        groups.end_group(session, actor, group_id, reason)
        return f"Группа закрыта: {END_REASONS[reason]}."
    raise NotFound("group step", group_id)


def _term_page(
    request: Request,
    session: Session,
    actor: Actor,
    pair_id: int,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    state = terms.finish_state(session, actor, pair_id)
    pair = state.pair
    _, sides = pairs.pair_with_sides(session, actor, pair_id)
    return render(
        request,
        "term.html",
        status,
        actor=actor,
        org=pair.org if Side.mentee.value in sides else pair.mentor_org,
        pair=pair,
        state=state,
        changes=terms.changes(session, actor, pair_id),
        forms=mentoring_forms(),
        term_titles=TERM_TITLES,
        errors=errors or [],
        values=values or {},
    )


@router.get("/ui/pairs/{pair_id}/term")
def term_page(request: Request, pair_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """A pair's term: planned dates, changes with reasons, the final survey and the end."""
    return _term_page(request, session, actor, pair_id)


@router.post("/ui/pairs/{pair_id}/term/{step}")
def term_step(
    request: Request,
    pair_id: int,
    step: str,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """A step of a pair's term: ``extend``, ``form`` or ``finish``."""
    form = FormReader(fields)
    try:
        with attempt(session):
            if step == "extend":
                end = form.date("planned_end", "Новая дата окончания")
                reason = form.text("reason", "Причина (согласие сторон)", max_length=2000)
                form.check("Срок не изменён: исправьте отмеченные поля.")
                assert end is not None
                assert reason is not None
                terms.extend_term(session, actor, pair_id, end, reason)
                message = f"Срок пары изменён: окончание {end:%d.%m.%Y}."
            elif step == "form":
                key = form.choice("form", "Новая форма", mentoring_forms())
                reason = form.text("reason", "Причина (согласие сторон)", max_length=2000)
                form.check("Форма не изменена: исправьте отмеченные поля.")
                assert key is not None
                assert reason is not None
                changed = terms.change_form(session, actor, pair_id, key, reason)
                message = f"Форма пары изменена; пара в группе № {changed.group_id}."
            elif step == "finish":
                terms.finish(session, actor, pair_id)
                message = "Программа завершена: пара закрыта (программа наставничества завершена)."
            else:
                raise NotFound("term step", pair_id)
    except (Invalid, Conflict) as exc:
        return _term_page(request, session, actor, pair_id, problems_of(exc), _failed(exc), fields)
    return back(f"/ui/pairs/{pair_id}/term", message)


@router.get("/ui/orgs/{org}/mentees/{mentee_id}/demand")
def demand_page(
    request: Request, org: str, mentee_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """How many mentors a mentee needs at once, and their pairs."""
    return render(
        request,
        "demand.html",
        actor=actor,
        org=org,
        demand=comentors.demand_of(session, actor, org, mentee_id),
        choices=range(1, MAX_DEMAND + 1),
        errors=[],
    )


@router.post("/ui/orgs/{org}/mentees/{mentee_id}/demand")
def set_demand(
    request: Request,
    org: str,
    mentee_id: int,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """Set how many distinct mentors a mentee needs."""
    form = FormReader(fields)
    try:
        with attempt(session):
            value = form.integer("demand", "Сколько наставников нужно", 1, MAX_DEMAND)
            form.check("Не сохранено: исправьте отмеченные поля.")
            assert value is not None
            comentors.set_demand(session, actor, org, mentee_id, value)
    except (Invalid, Conflict) as exc:
        return render(
            request,
            "demand.html",
            _failed(exc),
            actor=actor,
            org=org,
            demand=comentors.demand_of(session, actor, org, mentee_id),
            choices=range(1, MAX_DEMAND + 1),
            errors=problems_of(exc),
        )
    return back(
        f"/ui/orgs/{org}/mentees/{mentee_id}/demand", f"Сохранено: нужно наставников — {value}."
    )
