"""XLSX exports of what a curator sees: people, proposals, pairs and the waiting list of a school,
with the page's search, filters and sort applied (the same query string as the page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.core.deps import ActorDep, SessionDep
from service.core.errors import NotFound
from service.core.listing import MAX_PER_PAGE, ListParams
from service.core.rules import SUPERSEDED_REASONS, form_title
from service.core.security import organisation_for
from service.pairs import pairs
from service.people import people
from service.people.waiting import waiting_page
from service.runs import runs
from service.ui.rendering import STATUS_TITLES
from service.ui.xlsx import workbook

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _all(fetch: Callable[[ListParams], Any], params: ListParams) -> list[Any]:
    """Every item of a list with its filters (page after page)."""
    items: list[Any] = []
    page = 1
    while True:
        found = fetch(replace(params, page=page, per_page=MAX_PER_PAGE))
        items += found.items
        if page >= found.pages:
            return items
        page += 1


@router.get("/ui/orgs/{org}/export/{what}.xlsx")
def export(request: Request, org: str, what: str, session: SessionDep, actor: ActorDep) -> Response:
    """The list ``what`` (people, proposals, pairs, waiting) as the curator filtered it."""
    query = request.query_params
    rows: list[tuple[Any, ...]]
    if what == "people":
        params = ListParams.parse(query, people.PEOPLE.filters)
        rows = [
            (p.name, "наставник" if p.side == "mentor" else "наставляемый", p.details,
             ", ".join(form_title(f) for f in p.forms), "есть" if p.consent else "нет", p.active_pairs,
             p.capacity if p.side == "mentor" else None,
             "в архиве" if p.archived_at else "в программе")
            for p in _all(lambda lp: people.people_page(session, actor, org, lp), params)
        ]  # fmt: skip
        headers = ["ФИО", "Кто", "Должность, предметы или класс", "Форма", "Согласия",
                   "Действующих пар", "Мест", "Состояние"]  # fmt: skip
        title = "Участники"
    elif what == "proposals":
        params = ListParams.parse(query, runs.PROPOSALS.filters)
        status = params.filters.get("status", "open")
        filters = dict(params.filters) | {"status": status}
        if status == "all":
            del filters["status"]
        rows = [
            (p.mentee_name, p.mentor_name, p.mentor_org if p.remote else "", round(p.score * 100),
             form_title(p.form) if p.form else "", "; ".join(p.reasons),
             STATUS_TITLES.get(p.status, p.status)
             + (f": {SUPERSEDED_REASONS.get(p.status_reason, '')}" if p.status_reason else ""))
            for p in _all(lambda lp: runs.proposals_page(session, actor, org, lp),
                          replace(params, filters=filters))
        ]  # fmt: skip
        headers = ["Наставляемый", "Наставник", "Школа наставника (дистанционно)",
                   "Совместимость из 100", "Форма", "Почему", "Состояние"]  # fmt: skip
        title = "Предложения"
    elif what == "pairs":
        params = ListParams.parse(query, pairs.PAIRS.filters)
        rows = [
            (v.mentee_name, v.mentor_name, form_title(v.form), STATUS_TITLES.get(v.status, v.status),
             v.started_at.date(), v.ended_at.date() if v.ended_at else None)
            for v in _all(lambda lp: pairs.pairs_page(session, actor, org, lp), params)
        ]  # fmt: skip
        headers = ["Наставляемый", "Наставник", "Форма", "Состояние", "С", "По"]
        title = "Пары"
    elif what == "waiting":
        params = ListParams.parse(query, ["overdue"])
        school = organisation_for(session, actor, org).id
        rows = [
            (w.name, w.since.date(), w.days, "да" if w.overdue else "нет")
            for w in _all(lambda lp: waiting_page(session, school, lp), params)
        ]
        headers = ["Наставляемый", "Ждёт с", "Дней", "Дольше 30 дней"]
        title = "Ждут наставника"
    else:
        raise NotFound("list", what)
    data = workbook(title, headers, rows)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{org}-{what}.xlsx"'},
    )
