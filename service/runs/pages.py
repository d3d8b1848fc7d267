"""Curators' pages of matching: the school page with the proposals to decide on, a school run,
one mentee's suggestions («кто мог бы стать наставником») and proposing a chosen pair, and a
coordinator's municipality run."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from service.core.deps import ActorDep, DbDep, SessionDep, SettingsDep, SolverDep, WriteSessionDep
from service.core.errors import NoConsent
from service.core.listing import ListParams
from service.core.models import Side
from service.core.rules import ASSIGN_WITHIN_DAYS, mentoring_forms
from service.core.security import organisation_for
from service.people import people
from service.people.answered import ANSWER_FILTERS
from service.people.lookup import person_of
from service.people.waiting import school_waiting_top, waiting_among
from service.runs import runs
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, back, render

__all__ = ["OBJECTIVES", "router"]

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 10
OBJECTIVES = {
    "coverage": "сначала охват: пара для как можно большего числа наставляемых",
    "score": "сначала качество: наибольшая сумма оценок пар",
}


PROPOSAL_FILTERS = {
    "status": (
        "Состояние",
        {
            "open": "ожидают решения",
            "confirmed": "подтверждены",
            "rejected": "отклонены",
            "superseded": "сняты",
            "all": "все",
        },
    ),
    "form": ("Форма", mentoring_forms()),
    **ANSWER_FILTERS,
}
WAITING_SHOWN = 10


@router.get("/ui/orgs/{org}")
def school(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """A school: its proposals one page at a time (open ones first: search, filters, sort, bulk
    confirmation), the mentees waiting longest, imports and a run."""
    params = ListParams.parse(request.query_params, PROPOSAL_FILTERS)
    status = params.filters.get("status", "open")
    query = dict(params.filters) | {"status": status}
    if status == "all":
        del query["status"]
    found = runs.proposals_page(
        session, actor, org, ListParams(params.q, query, params.sort, params.page, params.per_page)
    )
    searched = bool(params.q) or any(k != "status" or v != "open" for k, v in query.items())
    params = ListParams(  # the form shows the status chosen by default
        params.q, dict(params.filters) | {"status": status}, params.sort, params.page,
        params.per_page,
    )  # fmt: skip
    mentors, mentees, paired = people.school_counts(session, actor, org)
    waiting, waiting_total = school_waiting_top(
        session, organisation_for(session, actor, org).id, WAITING_SHOWN
    )
    return render(
        request,
        "school.html",
        actor=actor,
        org=org,
        page=found,
        params=params,
        shown_status=status,
        searched=searched,
        filters=PROPOSAL_FILTERS,
        sorts=runs.PROPOSALS.sort_titles,
        mentors=mentors,
        mentees=mentees,
        paired=paired,
        waiting=waiting,
        waiting_total=waiting_total,
        within_days=ASSIGN_WITHIN_DAYS,
    )


def _done(title: str, result: runs.RunPublic, kept: bool = False) -> str:
    """What a run's page says when it is done: proposals, mentees left without a pair, those
    who never entered it for lack of consent (listed on the run's page too), kept pairs."""
    said = [
        f"предложено пар — {len(result.proposals)}",
        f"без пары осталось — {len(result.unmatched)}",
    ]
    if result.without_consent:
        said.append(f"без записанного согласия (в подбор не попали) — {result.without_consent}")
    if kept:
        said.append(f"действующих пар сохранено — {len(result.kept)}")
    return f"{title}: {', '.join(said)}."


@router.post("/ui/orgs/{org}/run")
def run(
    org: str, db: DbDep, actor: ActorDep, solver: SolverDep, settings: SettingsDep
) -> RedirectResponse:
    """Run the matching of a school."""
    options = runs.RunOptions(min_score=settings.min_score, max_pairs=settings.pairs_per_run)
    result = runs.run_matching(db, solver, actor, options, org=org)
    return back(f"/ui/runs/{result.run_id}", _done("Подбор выполнен", result))


@router.get("/ui/runs/{run_id}")
def run_page(request: Request, run_id: int, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """A run's result: its proposals (a school's run), the mentees left without a pair and why,
    the mentors left with free places."""
    result = runs.run_result(session, actor, run_id)
    proposals = None
    if result.org is not None:
        proposals = runs.proposals_page(
            session, actor, result.org, ListParams(filters={"run": str(run_id)}, per_page=20)
        )
    return render(
        request,
        "run.html",
        actor=actor,
        org=result.org,
        result=result,
        proposals=proposals,
    )


@router.get("/ui/orgs/{org}/mentees/{mentee_id}")
def mentee(
    request: Request, org: str, mentee_id: int, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """Кто мог бы стать наставником: mentors ranked by score, with reasons and free places."""
    person = person_of(session, actor, org, mentee_id, Side.mentee)
    refusal = None
    try:
        found = runs.suggestions(session, actor, org, mentee_id, k=SUGGESTIONS)
    except NoConsent as exc:
        found, refusal = [], exc.message
    shown = [s.mentor_id for s in found]
    mentors = {p.id: p for p in people.people(session, actor, org, "mentor", ids=shown)}
    waiting = waiting_among(session, [mentee_id])
    return render(
        request,
        "mentee.html",
        actor=actor,
        org=org,
        mentee=person,
        suggestions=[(mentors[s.mentor_id], s.score, s.reasons) for s in found],
        refusal=refusal,
        current=runs.active_pair_of(session, mentee_id),
        waiting=waiting[0] if waiting else None,
        within_days=ASSIGN_WITHIN_DAYS,
    )


@router.post("/ui/orgs/{org}/proposals")
def propose(
    org: str, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> RedirectResponse:
    """Propose the pair a curator chose from the suggestions; it waits on the school page."""
    form = FormReader(fields)
    mentee_id = form.integer("mentee_id", "Наставляемый", 1, 2**31 - 1)
    mentor_id = form.integer("mentor_id", "Наставник", 1, 2**31 - 1)
    form.check("Не понятно, какую пару предложить: откройте подбор наставника заново.")
    assert mentee_id is not None
    assert mentor_id is not None
    made = runs.propose(session, actor, org, mentee_id, mentor_id)
    return back(
        f"/ui/orgs/{org}",
        f"Пара предложена: {made.mentee_name or 'наставляемый'} — "
        f"{made.mentor_name or 'наставник'}. "
        "Подтвердите или отклоните её в списке «Ожидают решения».",
    )


@router.post("/ui/municipalities/{municipality}/run")
def municipality_run(
    municipality: str,
    fields: FormDep,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
) -> RedirectResponse:
    """Run the matching over every school of the municipality (virtual pairs may cross)."""
    form = FormReader(fields)
    objective = form.choice("objective", "Что важнее", OBJECTIVES)
    form.check("Подбор не выполнен: выберите, что важнее.")
    assert objective is not None
    options = runs.RunOptions(
        objective=objective, min_score=settings.min_score, max_pairs=settings.pairs_per_run
    )
    result = runs.run_matching(db, solver, actor, options, municipality=municipality)
    return back(
        f"/ui/municipalities/{quote(municipality, safe='')}",
        _done("Подбор по муниципалитету выполнен", result, kept=True),
    )
