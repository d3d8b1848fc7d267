"""Coordinators' page of external mentors: the municipality's pool (colleges, enterprises), the
schools each mentor serves and how; a school's list of the external mentors serving it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from service.core.deps import ActorDep, SessionDep, WriteSessionDep
from service.core.errors import Conflict, Invalid
from service.core.models import Organisation
from service.core.rules import ORG_KINDS, SERVICE_MODES
from service.people import external
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

EXTERNAL_KINDS = {k: v for k, v in ORG_KINDS.items() if k != "school"}


@router.get("/ui/municipalities/{municipality}/external-mentors")
def pool_page(
    request: Request, municipality: str, session: SessionDep, actor: ActorDep
) -> HTMLResponse:
    """The pool of external mentors of a municipality and the schools they serve."""
    mentors = external.external_mentors(session, actor, municipality=municipality)
    schools = session.scalars(
        select(Organisation)
        .where(Organisation.municipality == municipality, Organisation.kind == "school")
        .order_by(Organisation.name)
    ).all()
    homes = session.scalars(
        select(Organisation)
        .where(Organisation.municipality == municipality, Organisation.kind != "school")
        .order_by(Organisation.name)
    ).all()
    return render(
        request,
        "external.html",
        actor=actor,
        municipality=municipality,
        mentors=mentors,
        schools=[s for s in schools if actor.sees(s)],
        homes=homes,
        kinds=EXTERNAL_KINDS,
        modes=SERVICE_MODES,
    )


@router.post("/ui/municipalities/{municipality}/external-mentors/{step}")
def pool_step(
    municipality: str, step: str, fields: FormDep, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """``organisation`` (add a college or an enterprise), ``serve`` or ``stop``."""
    url = f"/ui/municipalities/{municipality}/external-mentors"
    form = FormReader(fields)
    try:
        with attempt(session):
            if step == "organisation":
                code = form.text("code", "Код организации", max_length=64)
                name = form.text("name", "Название", max_length=300)
                kind = form.choice("kind", "Вид", EXTERNAL_KINDS)
                form.check("Организация не добавлена: исправьте отмеченные поля.")
                assert code is not None
                assert name is not None
                assert kind is not None
                external.add_external_organisation(session, actor, municipality, code, name, kind)
                message = f"Организация «{name}» добавлена; загрузите анкеты её наставников."
            elif step in ("serve", "stop"):
                mentor_id = form.integer("mentor_id", "Наставник", 1, 2**31 - 1)
                school = str(fields.get("org") or "")
                if step == "serve":
                    mode = form.choice("mode", "Формат", SERVICE_MODES)
                    form.check("Не сохранено: выберите наставника, школу и формат.")
                    assert mentor_id is not None
                    assert mode is not None
                    done = external.serve(session, actor, mentor_id, school, mode)
                    message = (
                        f"{done.name or 'Наставник'} обслуживает школу ({SERVICE_MODES[mode]})."
                    )
                else:
                    form.check("Не сохранено: выберите наставника.")
                    assert mentor_id is not None
                    external.stop_serving(session, actor, mentor_id, school)
                    message = "Наставник больше не обслуживает школу; его пары там продолжаются."
            else:
                return back(url, "Неизвестное действие.", True)
    except (Invalid, Conflict) as exc:
        problems = exc.extra.get("errors") or []
        detail = "; ".join(f"{p['column']}: {p['message']}" for p in problems if p.get("column"))
        return back(url, exc.message + (f" ({detail})" if detail else ""), True)
    return back(url, message)


@router.get("/ui/orgs/{org}/external-mentors")
def school_page(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The external mentors serving a school."""
    return render(
        request,
        "external_school.html",
        actor=actor,
        org=org,
        mentors=external.external_mentors(session, actor, org=org),
        modes=SERVICE_MODES,
        kinds=ORG_KINDS,
    )
