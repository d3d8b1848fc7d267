"""Pages of monitoring added by issue 13: the indicators of a school and of a municipality for a
programme year, with the denominators entered on the page or imported from XLSX
(docs/rules.md#indicators), the bases and the справка to download, and three more orders."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from service.core.deps import (
    ActorDep,
    DbDep,
    SessionDep,
    SettingsDep,
    SolverDep,
    WriteSessionDep,
)
from service.core.errors import Invalid, NotFound
from service.core.models import utcnow
from service.core.rules import INDICATOR_TARGETS, programme_year_label
from service.core.security import Actor
from service.monitoring import analytics, appointments, bases, indicators, series, statistics
from service.monitoring.pages import DEFAULT_BASIS
from service.monitoring.routes import (
    BaseSide,
    ChartKind,
    document,
    spreadsheet,
    statement_file,
    statistics_workbook,
    svg,
)
from service.monitoring.schemas import DenominatorsCreate
from service.pairs import pairs
from service.people import people
from service.people.routes import read_upload
from service.runs import region as regions
from service.runs.pages import OBJECTIVES
from service.runs.routes import options as run_options
from service.runs.schemas import RunCreate
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]


def _years(year: int, current: int) -> list[tuple[int, str]]:
    return [(y, programme_year_label(y)) for y in range(max(year, current), current - 6, -1)]


def _school_page(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Any,
    org: str,
    year: int,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    result = indicators.school_indicators(session, actor, org, year, settings.zone)
    entered = indicators.denominators(session, actor, org)
    if values is None:
        values = next((d.model_dump() for d in entered if d.year == year), {})
    return render(
        request,
        "indicators.html",
        status,
        actor=actor,
        org=org,
        result=result,
        entered=entered,
        values=values,
        errors=errors or [],
        titles=indicators.DENOMINATOR_TITLES,
        targets=INDICATOR_TARGETS,
        charts=series.CHARTS,
        years=_years(year, indicators.current_year(settings.zone)),
        here=f"/ui/orgs/{org}/indicators",
    )


@router.get("/ui/orgs/{org}/indicators")
def school(
    request: Request,
    org: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> HTMLResponse:
    """A school's indicators against the targets, their trend, definitions and denominators."""
    year = year or indicators.current_year(settings.zone)
    return _school_page(request, session, actor, settings, org, year)


@router.post("/ui/orgs/{org}/indicators/{year}/denominators")
def save(
    request: Request,
    org: str,
    year: int,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """Store the denominators of a year; a mistake shows the form again with the reason."""
    form = FormReader(fields)
    numbers = {
        key: form.integer(key, title, 0, 1_000_000)
        for key, title in indicators.DENOMINATOR_TITLES.items()
    }
    try:
        form.check("Знаменатели не сохранены: исправьте отмеченные поля.")
        values = DenominatorsCreate.model_validate(numbers)
        with attempt(session):
            indicators.save_denominators(session, actor, org, year, values, settings.zone)
    except Invalid as exc:
        return _school_page(
            request, session, actor, settings, org, year, fields, problems_of(exc), 422
        )
    return back(
        f"/ui/orgs/{org}/indicators?year={year}",
        f"Знаменатели на {programme_year_label(year)} сохранены.",
    )


def _area_page(
    request: Request, actor: Any, settings: Any, result: Any, year: int, area: str
) -> HTMLResponse:
    """The indicators page of a municipality or a region (``area``: its page's address)."""
    return render(
        request,
        "indicators.html",
        actor=actor,
        result=result,
        titles=indicators.DENOMINATOR_TITLES,
        targets=INDICATOR_TARGETS,
        charts=series.CHARTS,
        years=_years(year, indicators.current_year(settings.zone)),
        here=f"{area}/indicators",
        objectives=OBJECTIVES,
    )


@router.get("/ui/municipalities/{municipality}/indicators")
def municipality(
    request: Request,
    municipality: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> HTMLResponse:
    """A municipality's indicators (its schools added up) and each school's."""
    year = year or indicators.current_year(settings.zone)
    result = indicators.municipality_indicators(session, actor, municipality, year, settings.zone)
    return _area_page(request, actor, settings, result, year, f"/ui/municipalities/{municipality}")


@router.post("/ui/denominators/import")
def upload(
    request: Request,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    return_to: Annotated[str, Form()] = "/ui",
) -> Response:
    """Import denominators of many schools from XLSX; every problem listed, nothing stored."""
    if not return_to.startswith("/ui/") or "//" in return_to:
        return_to = "/ui"
    try:
        rows, problems = indicators.read_denominators_file(
            read_upload(file, settings.upload_bytes), settings.file_limits()
        )
        with attempt(session):
            stored = indicators.save_many(session, actor, rows, settings.zone, problems)
    except Invalid as exc:
        return render(
            request,
            "import_errors.html",
            422,
            actor=actor,
            message=exc.message,
            errors=exc.errors,
            return_to=return_to,
        )
    return back(return_to, f"Файл принят: сохранено строк — {len(stored)}.")


@router.get("/ui/orgs/{org}/bases/{side}")
def school_base(
    org: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """Download a school's base of mentees or mentors for a year (XLSX)."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(session, actor, "school", org, side.removesuffix("s"), year, settings.zone)
    return spreadsheet(made)


@router.get("/ui/municipalities/{municipality}/bases/{side}")
def municipality_base(
    municipality: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """Download a municipality's combined base of mentees or mentors for a year (XLSX)."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(
        session, actor, "municipality", municipality, side.removesuffix("s"), year, settings.zone
    )
    return spreadsheet(made)


@router.get("/ui/orgs/{org}/statement")
def school_statement(
    org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: YearQuery = None
) -> Response:
    """Download a school's аналитическая справка for a year (DOCX)."""
    year = year or indicators.current_year(settings.zone)
    return statement_file(analytics.statement(session, actor, "school", org, year, settings.zone))


@router.get("/ui/municipalities/{municipality}/statement")
def municipality_statement(
    municipality: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """Download a municipality's аналитическая справка for a year (DOCX)."""
    year = year or indicators.current_year(settings.zone)
    made = analytics.statement(session, actor, "municipality", municipality, year, settings.zone)
    return statement_file(made)


# -- three more orders: appointing mentors, the curator, replacing a mentor --------------------


def _orders_page(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Any,
    org: str,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    kind: str | None = None,
) -> HTMLResponse:
    today = utcnow().astimezone(settings.zone).date()
    defaults = {"date": today.isoformat(), "basis": DEFAULT_BASIS}
    return render(
        request,
        "orders_more.html",
        status,
        actor=actor,
        org=org,
        mentors=people.people(session, actor, org, "mentor"),
        replaced=[pairs.public(p) for p in appointments.replaced_pairs(session, actor, org)],
        values=defaults | (values or {}),
        errors=errors or [],
        kind=kind,
    )


@router.get("/ui/orgs/{org}/orders")
def orders_form(
    request: Request, org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> HTMLResponse:
    """Forms of three orders: appointing mentors, appointing the curator, replacing a mentor."""
    return _orders_page(request, session, actor, settings, org)


def _heading(form: FormReader) -> appointments.Heading | None:
    number = form.text("number", "Номер приказа", max_length=50)
    on = form.date("date", "Дата приказа")
    basis = form.text("basis", "Основание", max_length=2000)
    head = form.text("head", "Руководитель", required=False, max_length=200)
    if number is None or on is None or basis is None:
        return None
    return appointments.Heading(number, on, basis, head)


@router.post("/ui/orgs/{org}/orders/{kind}")
def make_order(
    request: Request,
    org: str,
    kind: str,
    fields: FormDep,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """Download one of the three orders (DOCX); a mistake shows the forms with every problem."""
    form = FormReader(fields)
    heading = _heading(form)
    try:
        if kind == "mentors":
            chosen = form.ids("mentor", "Наставники")
            if not chosen:
                form.problem("Наставники", "отметьте хотя бы одного наставника")
            form.check("Приказ не сформирован: исправьте отмеченные поля.")
            assert heading is not None
            with attempt(session):
                made = appointments.appoint_mentors(session, actor, org, heading, chosen)
        elif kind == "curator":
            name = form.text("curator_name", "ФИО куратора", max_length=300)
            post = form.text("curator_post", "Должность куратора", max_length=300)
            form.check("Приказ не сформирован: исправьте отмеченные поля.")
            assert heading is not None
            assert name is not None
            assert post is not None
            with attempt(session):
                made = appointments.appoint_curator(session, actor, org, heading, name, post)
        elif kind == "replacements":
            chosen = form.ids("pair", "Пары")
            if not chosen:
                form.problem("Пары", "отметьте хотя бы одну пару")
            form.check("Приказ не сформирован: исправьте отмеченные поля.")
            assert heading is not None
            with attempt(session):
                made = appointments.replace_mentors(
                    session, actor, org, heading, chosen, settings.zone
                )
        else:
            raise NotFound("order", kind)
    except Invalid as exc:
        return _orders_page(
            request, session, actor, settings, org, fields, problems_of(exc), 422, kind
        )
    return document(made)


# -- a region ----------------------------------------------------------------------------------


@router.get("/ui/regions/{region}/indicators")
def region(
    request: Request,
    region: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> HTMLResponse:
    """A region's indicators (its schools added up) and each municipality's."""
    year = year or indicators.current_year(settings.zone)
    result = indicators.region_indicators(session, actor, region, year, settings.zone)
    return _area_page(request, actor, settings, result, year, f"/ui/regions/{region}")


@router.get("/ui/regions/{region}/bases/{side}")
def region_base(
    region: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """Download a region's combined base of mentees or mentors for a year (XLSX)."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(session, actor, "region", region, side.removesuffix("s"), year, settings.zone)
    return spreadsheet(made)


@router.get("/ui/regions/{region}/statement")
def region_statement(
    region: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: YearQuery = None
) -> Response:
    """Download a region's аналитическая справка for a year (DOCX)."""
    year = year or indicators.current_year(settings.zone)
    return statement_file(
        analytics.statement(session, actor, "region", region, year, settings.zone)
    )


# -- charts -------------------------------------------------------------------------------------

SCOPES = {"orgs": "school", "municipalities": "municipality", "regions": "region"}


@router.get("/ui/{where}/{name}/charts/{kind}.svg")
def chart(
    where: str,
    name: str,
    kind: ChartKind,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """A chart of a school, municipality or region, drawn on the server (SVG)."""
    if where not in SCOPES:
        raise NotFound("page", where)
    year = year or indicators.current_year(settings.zone)
    return svg(series.chart(session, actor, SCOPES[where], name, kind, year, settings.zone))


@router.post("/ui/regions/{region}/matching-run")
def region_run(
    region: str,
    fields: FormDep,
    db: DbDep,
    actor: ActorDep,
    solver: SolverDep,
    settings: SettingsDep,
) -> Response:
    """One batch over the whole region (virtual pairs across municipalities)."""
    form = FormReader(fields)
    objective = form.choice("objective", "Что важнее", OBJECTIVES)
    form.check("Подбор не выполнен: выберите, что важнее.")
    assert objective is not None
    options = run_options(RunCreate(objective=objective), settings)
    made = regions.run_region(db, solver, actor, options, region)
    return back(
        f"/ui/regions/{quote(region, safe='')}/indicators",
        f"Подбор по региону выполнен: предложено пар — {len(made.proposals)}, "
        f"без пары — {len(made.unmatched)}. Кураторы школ увидят предложения на своих страницах.",
    )


# -- counts for the federal statistics forms (docs/rules.md#statistics) ------------------------


@router.get("/ui/{where}/{name}/statistics")
def statistics_page(
    request: Request,
    where: str,
    name: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> HTMLResponse:
    """Counts of participants for the federal statistics forms, with how each is counted."""
    if where not in SCOPES:
        raise NotFound("page", where)
    year = year or indicators.current_year(settings.zone)
    result = statistics.statistics(session, actor, SCOPES[where], name, year, settings.zone)
    return render(
        request,
        "statistics.html",
        actor=actor,
        result=result,
        where=where,
        sections=statistics.SECTIONS,
        years=_years(year, indicators.current_year(settings.zone)),
    )


@router.get("/ui/{where}/{name}/statistics.xlsx")
def statistics_xlsx(
    where: str,
    name: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: YearQuery = None,
) -> Response:
    """Download the counts (XLSX)."""
    if where not in SCOPES:
        raise NotFound("page", where)
    year = year or indicators.current_year(settings.zone)
    made = statistics.statistics(session, actor, SCOPES[where], name, year, settings.zone)
    return statistics_workbook(statistics.statistics_file(made))
