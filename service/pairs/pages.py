"""Curators' pages of pairs: the pairs of a school, deciding on proposals (and undoing a
rejection), ending a pair, replacing its mentor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.deps import ActorDep, SessionDep, WriteSessionDep
from service.core.errors import Conflict, Invalid, NotFound
from service.core.listing import ListParams
from service.core.models import PairStatus, Side
from service.core.rules import END_REASONS, REPLACE_REASONS, mentoring_forms
from service.core.security import Actor
from service.pairs import pairs
from service.people import people
from service.people.answered import ANSWER_FILTERS
from service.runs import runs
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 10


PAIR_FILTERS = {
    "status": (
        "Состояние",
        {"active": "действуют", "completed": "завершены", "ended": "прекращены"},
    ),
    "form": ("Форма", mentoring_forms()),
    "consent": ("Согласия", {"missing": "нет согласия в действующей паре"}),
    "term": ("Срок", {"ending": "истекает в ближайшие 14 дней", "overdue": "истёк"}),
    **ANSWER_FILTERS,
}


@router.get("/ui/orgs/{org}/pairs")
def school_pairs(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The pairs of a school, one page at a time: search by name, filters, sort."""
    params = ListParams.parse(request.query_params, PAIR_FILTERS)
    found = pairs.pairs_page(session, actor, org, params)
    return render(
        request,
        "pairs.html",
        actor=actor,
        org=org,
        page=found,
        pairs=found.items,
        params=params,
        filters=PAIR_FILTERS,
        sorts=pairs.PAIRS.sort_titles,
        has_active=pairs.has_active_pairs(session, actor, org),
    )


@router.post("/ui/orgs/{org}/proposals/confirm")
def confirm_many(
    request: Request, org: str, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """Confirm the selected proposals (or all shown), each as a single confirmation; the page
    lists what was confirmed and what was not, and why, by name."""
    form = FormReader(fields)
    which = fields.get("which")
    ids = form.ids("shown" if which == "shown" else "proposal_id", "Предложения")
    back_to = str(fields.get("back") or "")
    if not back_to.startswith(f"/ui/orgs/{org}"):
        back_to = f"/ui/orgs/{org}"
    if form.problems or not ids:
        return back(back_to, "Отметьте предложения, которые нужно подтвердить.", True)
    done = pairs.confirm_many(session, actor, ids)
    return render(request, "bulk.html", actor=actor, org=org, done=done, back_to=back_to)


@router.post("/ui/proposals/{proposal_id}/{decision}")
def decide(
    proposal_id: int,
    decision: str,
    org: Annotated[str, Form()],
    session: WriteSessionDep,
    actor: ActorDep,
) -> Response:
    """Confirm or reject a proposal from the school page, or undo a rejection."""
    if decision == "confirm":
        pair = pairs.confirm(session, actor, proposal_id)
        message = (
            f"Пара подтверждена (наставник {pair.mentor_name or 'без имени'} — "
            f"наставляемый {pair.mentee_name or 'без имени'})."
        )
    elif decision == "reject":
        message = pairs.decided_message(pairs.reject(session, actor, proposal_id))
    elif decision == "undo-reject":
        message = pairs.decided_message(pairs.undo_reject(session, actor, proposal_id))
    else:
        raise NotFound("proposal", proposal_id)
    return back(f"/ui/orgs/{org}", message)


@router.post("/ui/pairs/{pair_id}/end")
def end(
    pair_id: int, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> RedirectResponse:
    """End a pair from the pairs page, with one of the regulation's reasons."""
    form = FormReader(fields)
    reason = form.choice("reason", "Причина", END_REASONS)
    pair, sides = pairs.pair_with_sides(session, actor, pair_id)
    view = pairs.public(pair)
    # Back to the pairs page it came from: a pair of two schools is on both schools' pages.
    orgs = [view.org] if Side.mentee.value in sides else []
    orgs += [view.mentor_org] if Side.mentor.value in sides else []
    org = fields.get("org") if fields.get("org") in orgs else orgs[0]
    if reason is None:
        return back(f"/ui/orgs/{org}/pairs", "Выберите причину, по которой пара закрывается.", True)
    pairs.end_pair(session, actor, pair_id, reason)
    return back(
        f"/ui/orgs/{org}/pairs",
        f"Пара {view.mentee_name or ''} — {view.mentor_name or ''} закрыта: {END_REASONS[reason]}.",
    )


def _replace_page(
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
    found = []
    refusal = None
    mentee_side = Side.mentee.value in sides
    if view.status == PairStatus.active.value and mentee_side:
        try:
            found = runs.suggestions(session, actor, view.org, view.mentee_id, k=SUGGESTIONS)
        except Conflict as exc:
            refusal = exc.message
    mentors = (
        {p.id: p for p in people.people(session, actor, view.org, "mentor")} if mentee_side else {}
    )
    return render(
        request,
        "replace.html",
        status,
        actor=actor,
        org=view.org if mentee_side else view.mentor_org,
        pair=view,
        mentee_side=mentee_side,
        candidates=[(mentors[s.mentor_id], s.score, s.reasons) for s in found],
        refusal=refusal,
        reasons=REPLACE_REASONS,
        values=values,
        errors=errors or [],
    )


@router.get("/ui/pairs/{pair_id}/replace")
def replace_form(
    request: Request, pair_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """The form to replace a pair's mentor: the regulation's reason and a suggested mentor."""
    return _replace_page(request, session, actor, pair_id, {})


@router.post("/ui/pairs/{pair_id}/replace")
def replace(
    request: Request, pair_id: int, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """End the pair with the reason and start a new one with the chosen mentor."""
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
        with attempt(session):
            new = pairs.replace_mentor(session, actor, pair_id, mentor_id, reason)
    except (Invalid, Conflict) as exc:
        status = 422 if isinstance(exc, Invalid) else 409
        return _replace_page(request, session, actor, pair_id, fields, problems_of(exc), status)
    return back(
        f"/ui/orgs/{new.org}/pairs",
        f"Наставник заменён: {new.mentee_name or 'наставляемый'} теперь в паре с "
        f"{new.mentor_name or 'новым наставником'}; прежняя пара закрыта "
        f"(причина: {REPLACE_REASONS[reason]}).",
    )
