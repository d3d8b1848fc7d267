"""API routes of monitoring: feedback and surveys, the waiting list, the report, the order, the
audit log, a municipality's schools."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import Response

from service.core.deps import ActorDep, ListDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.listing import Page
from service.core.schemas import errors
from service.core.security import organisation_for
from service.monitoring import (
    analytics,
    appointments,
    bases,
    indicators,
    orders,
    reports,
    series,
    statistics,
    surveys,
)
from service.monitoring import feedback as responses
from service.monitoring.schemas import (
    AuditEventPublic,
    CuratorOrderCreate,
    DenominatorsCreate,
    DenominatorsImported,
    DenominatorsPublic,
    FeedbackCreate,
    FeedbackCreated,
    FeedbackPublic,
    FeedbackRow,
    IndicatorsPublic,
    MentorsOrderCreate,
    MunicipalityReport,
    OrderCreate,
    OrderHeading,
    ReplacementOrderCreate,
    ReportPublic,
    SchoolSummary,
    StatisticsPublic,
    SurveyPublic,
)
from service.people.routes import read_upload
from service.people.schemas import WaitingPublic
from service.people.waiting import school_waiting

__all__ = [
    "BaseSide",
    "ChartKind",
    "document",
    "router",
    "spreadsheet",
    "statement_file",
    "statistics_workbook",
    "svg",
]

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


@router.post("/pairs/{pair_id}/feedback", status_code=201, responses=errors(403))
def feedback(
    pair_id: int, body: FeedbackCreate, session: WriteSessionDep, actor: ActorDep
) -> FeedbackCreated:
    """Store feedback or a satisfaction questionnaire (score 1-10) of one side of a pair."""
    item = responses.give_feedback(
        session, actor, pair_id, body.author, body.kind, body.score, body.answers, body.comment
    )
    return FeedbackCreated(feedback_id=item.id, pair_id=pair_id)


@router.get("/pairs/{pair_id}/feedback")
def list_feedback(pair_id: int, session: SessionDep, actor: ActorDep) -> list[FeedbackPublic]:
    """Feedback and satisfaction answers of one pair, oldest first."""
    return responses.responses(session, actor, pair_id)


@router.get("/orgs/{org}/feedback/paged", responses=errors(422))
def page_feedback(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    params: ListDep,
    kind: Annotated[Literal["feedback", "satisfaction"] | None, Query()] = None,
    author: Annotated[Literal["mentee", "mentor"] | None, Query()] = None,
) -> Page[FeedbackRow]:
    """One page of the feedback of a school's pairs: search by either name (`q`), filters by
    kind and author, sort `created` (`-created` newest first, the default), `score`, `mentee`."""
    filters = {k: v for k, v in (("kind", kind), ("author", author)) if v}
    return responses.feedback_page(session, actor, org, replace(params, filters=filters))


@router.get("/surveys/satisfaction")
def satisfaction_survey() -> SurveyPublic:
    """The satisfaction questionnaire: items scored 1-10, open questions, "would you continue"."""
    return SurveyPublic(
        items=surveys.SATISFACTION_ITEMS,
        open_questions=surveys.OPEN_QUESTIONS,
        would_continue=surveys.CONTINUE[1],
    )


def document(order: orders.Order) -> Response:
    """The DOCX answer of an order."""
    return Response(
        order.content,
        media_type=orders.MEDIA_TYPE,
        headers={"Content-Disposition": order.content_disposition},
    )


@router.post(
    "/orgs/{org}/orders",
    response_class=Response,
    responses={200: {"content": {orders.MEDIA_TYPE: {}}, "description": "The order (DOCX)."}},
)
def make_order(
    org: str, body: OrderCreate, session: WriteSessionDep, actor: ActorDep, settings: SettingsDep
) -> Response:
    """The order fixing pairs (приказ о закреплении наставнических пар) as a DOCX document."""
    request = orders.OrderRequest(
        body.number, body.date, body.basis, body.end_date, body.pair_ids, body.head
    )
    return document(orders.make_order(session, actor, org, request, zone=settings.zone))


@router.get("/orgs/{org}/waiting")
def waiting(org: str, session: SessionDep, actor: ActorDep) -> list[WaitingPublic]:
    """Mentees waiting for a mentor, the longest wait first (docs/rules.md#thirty-days)."""
    return school_waiting(session, organisation_for(session, actor, org).id)


@router.get("/orgs/{org}/report")
def report(org: str, session: SessionDep, actor: ActorDep) -> ReportPublic:
    """Monitoring: people and pairs by form, coverage, mentor load, waiting, satisfaction."""
    return reports.report(session, actor, org)


@router.get("/orgs/{org}/audit")
def audit(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventPublic]:
    """Who changed what and when in this school, newest first (ids and statuses, no names)."""
    return reports.audit(session, actor, org, limit)


@router.get("/municipalities/{municipality}/report", responses=errors(403))
def municipality_report(
    municipality: str, session: SessionDep, actor: ActorDep
) -> MunicipalityReport:
    """Coordinators: coverage, mentees waiting past 30 days, satisfaction and mentors' load of
    each school of the municipality and of all of them together."""
    return reports.municipality_report(session, actor, municipality)


@router.get("/municipalities/{municipality}/schools", responses=errors(403))
def municipality(municipality: str, session: SessionDep, actor: ActorDep) -> list[SchoolSummary]:
    """Coordinators: the schools of a municipality with their counts."""
    return reports.municipality(session, actor, municipality)


# -- indicators of the target model and their denominators (docs/rules.md#indicators) ---------

Year = Annotated[
    int | None,
    Query(
        ge=2000,
        le=2100,
        description="Programme year (its school year starts on 1 September "
        "of this year); the current one when omitted.",
    ),
]


@router.get("/orgs/{org}/indicators")
def school_indicators(
    org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: Year = None
) -> IndicatorsPublic:
    """A school's indicators for a programme year: value, target, gap and the trend over years."""
    year = year or indicators.current_year(settings.zone)
    return indicators.school_indicators(session, actor, org, year, settings.zone)


@router.get("/municipalities/{municipality}/indicators", responses=errors(403))
def municipality_indicators(
    municipality: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> IndicatorsPublic:
    """A municipality's indicators (its schools added up) and each school's, for a year."""
    year = year or indicators.current_year(settings.zone)
    return indicators.municipality_indicators(session, actor, municipality, year, settings.zone)


@router.get("/regions/{region}/indicators", responses=errors(403))
def region_indicators(
    region: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: Year = None
) -> IndicatorsPublic:
    """Regional operators: a region's indicators (its schools added up) and each municipality's."""
    year = year or indicators.current_year(settings.zone)
    return indicators.region_indicators(session, actor, region, year, settings.zone)


@router.get("/orgs/{org}/denominators")
def list_denominators(org: str, session: SessionDep, actor: ActorDep) -> list[DenominatorsPublic]:
    """The denominators a school entered, newest programme year first."""
    return indicators.denominators(session, actor, org)


@router.put("/orgs/{org}/denominators/{year}")
def put_denominators(
    org: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: DenominatorsCreate,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> DenominatorsPublic:
    """Enter a school's denominators for a programme year; 422 when a share would exceed 100 %."""
    return indicators.save_denominators(session, actor, org, year, body, settings.zone)


@router.post("/denominators/imports", status_code=201)
def import_denominators(
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile,
        File(description="XLSX: Код школы, Учебный год, and one column per denominator."),
    ],
) -> DenominatorsImported:
    """Import denominators of many schools and years from XLSX; all or nothing (422 lists all)."""
    rows, problems = indicators.read_denominators_file(
        read_upload(file, settings.upload_bytes), settings.file_limits()
    )
    return DenominatorsImported(
        stored=indicators.save_many(session, actor, rows, settings.zone, problems)
    )


# -- the bases of mentees and of mentors (docs/rules.md#bases) --------------------------------

BaseSide = Literal["mentees", "mentors", "curators"]
XLSX: dict[int | str, dict[str, Any]] = {
    200: {"content": {bases.MEDIA_TYPE: {}}, "description": "The base (XLSX)."}
}


def spreadsheet(made: bases.Base) -> Response:
    """The XLSX answer of a base."""
    return Response(
        made.content,
        media_type=bases.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/orgs/{org}/bases/{side}", response_class=Response, responses=XLSX)
def school_base(
    org: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A school's base of mentees, of mentors or of curators for a programme year, as XLSX."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(session, actor, "school", org, side.removesuffix("s"), year, settings.zone)
    return spreadsheet(made)


@router.get(
    "/municipalities/{municipality}/bases/{side}",
    response_class=Response,
    responses={**XLSX, **errors(403)},
)
def municipality_base(
    municipality: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A municipality's combined base of mentees, of mentors (a sheet per category of mentors as
    well: teachers, enterprises, pupils, students) or of curators (all its schools), as XLSX."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(
        session, actor, "municipality", municipality, side.removesuffix("s"), year, settings.zone
    )
    return spreadsheet(made)


# -- the аналитическая справка ------------------------------------------------------------------

DOCX: dict[int | str, dict[str, Any]] = {
    200: {"content": {analytics.MEDIA_TYPE: {}}, "description": "The справка (DOCX)."}
}


def statement_file(made: analytics.Statement) -> Response:
    """The DOCX answer of a справка."""
    return Response(
        made.content,
        media_type=analytics.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/orgs/{org}/statement", response_class=Response, responses=DOCX)
def school_statement(
    org: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: Year = None
) -> Response:
    """A school's аналитическая справка for a programme year: tables and charts, as DOCX."""
    year = year or indicators.current_year(settings.zone)
    return statement_file(analytics.statement(session, actor, "school", org, year, settings.zone))


@router.get(
    "/municipalities/{municipality}/statement",
    response_class=Response,
    responses={**DOCX, **errors(403)},
)
def municipality_statement(
    municipality: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A municipality's аналитическая справка (its schools together and each), as DOCX."""
    year = year or indicators.current_year(settings.zone)
    return statement_file(
        analytics.statement(session, actor, "municipality", municipality, year, settings.zone)
    )


# -- three more orders: appointing mentors, the curator, replacing a mentor --------------------

ORDER_DOCX: dict[int | str, dict[str, Any]] = {
    200: {"content": {orders.MEDIA_TYPE: {}}, "description": "The order (DOCX)."}
}


def heading_of(body: OrderHeading) -> appointments.Heading:
    """The heading every order shares."""
    return appointments.Heading(body.number, body.date, body.basis, body.head)


@router.post("/orgs/{org}/orders/mentors", response_class=Response, responses=ORDER_DOCX)
def mentors_order(
    org: str, body: MentorsOrderCreate, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """The order appointing mentors (приказ о назначении наставников), each with their consent."""
    return document(
        appointments.appoint_mentors(session, actor, org, heading_of(body), body.mentor_ids)
    )


@router.post("/orgs/{org}/orders/curator", response_class=Response, responses=ORDER_DOCX)
def curator_order(
    org: str, body: CuratorOrderCreate, session: WriteSessionDep, actor: ActorDep
) -> Response:
    """The order appointing the curator of the programme (приказ о назначении куратора)."""
    made = appointments.appoint_curator(
        session, actor, org, heading_of(body), body.curator_name, body.curator_post
    )
    return document(made)


@router.post("/orgs/{org}/orders/replacements", response_class=Response, responses=ORDER_DOCX)
def replacement_order(
    org: str,
    body: ReplacementOrderCreate,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """The order replacing mentors (приказ о замене наставника): earlier and new mentor, reason."""
    made = appointments.replace_mentors(
        session, actor, org, heading_of(body), body.pair_ids, settings.zone
    )
    return document(made)


@router.get(
    "/regions/{region}/bases/{side}", response_class=Response, responses={**XLSX, **errors(403)}
)
def region_base(
    region: str,
    side: BaseSide,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A region's combined base of mentees, of mentors (a sheet per category as well) or of
    curators (all its schools), as XLSX."""
    year = year or indicators.current_year(settings.zone)
    made = bases.base(session, actor, "region", region, side.removesuffix("s"), year, settings.zone)
    return spreadsheet(made)


@router.get(
    "/regions/{region}/statement", response_class=Response, responses={**DOCX, **errors(403)}
)
def region_statement(
    region: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, year: Year = None
) -> Response:
    """A region's аналитическая справка (its municipalities together and each), as DOCX."""
    year = year or indicators.current_year(settings.zone)
    return statement_file(
        analytics.statement(session, actor, "region", region, year, settings.zone)
    )


# -- charts (SVG) -------------------------------------------------------------------------------

ChartKind = Literal["indicators", "trend", "coverage", "waiting", "satisfaction", "load"]
SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "The chart (SVG)."}
}


def svg(content: bytes) -> Response:
    """The SVG answer of a chart."""
    return Response(content, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/orgs/{org}/charts/{kind}", response_class=Response, responses=SVG)
def school_chart(
    org: str,
    kind: ChartKind,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A chart of a school: indicators against targets, trend, coverage by month, waiting,
    satisfaction answers or mentor load."""
    year = year or indicators.current_year(settings.zone)
    return svg(series.chart(session, actor, "school", org, kind, year, settings.zone))


@router.get(
    "/municipalities/{municipality}/charts/{kind}",
    response_class=Response,
    responses={**SVG, **errors(403)},
)
def municipality_chart(
    municipality: str,
    kind: ChartKind,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A chart of a municipality (its schools together)."""
    year = year or indicators.current_year(settings.zone)
    return svg(
        series.chart(session, actor, "municipality", municipality, kind, year, settings.zone)
    )


@router.get(
    "/regions/{region}/charts/{kind}", response_class=Response, responses={**SVG, **errors(403)}
)
def region_chart(
    region: str,
    kind: ChartKind,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """A chart of a region (its schools together)."""
    year = year or indicators.current_year(settings.zone)
    return svg(series.chart(session, actor, "region", region, kind, year, settings.zone))


# -- counts for the federal statistics forms (docs/rules.md#statistics) ------------------------

STATISTICS_XLSX: dict[int | str, dict[str, Any]] = {
    200: {"content": {statistics.MEDIA_TYPE: {}}, "description": "The counts (XLSX)."}
}
StatisticsScope = Literal["orgs", "municipalities", "regions"]
SCOPE_OF = {"orgs": "school", "municipalities": "municipality", "regions": "region"}


def statistics_workbook(made: statistics.StatisticsFile) -> Response:
    """The XLSX answer of the counts."""
    return Response(
        made.content,
        media_type=statistics.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/{where}/{name}/statistics", responses=errors(403))
def statistics_counts(
    where: Annotated[
        StatisticsScope,
        Path(description="orgs (a school by its code), municipalities or regions (by name)."),
    ],
    name: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> StatisticsPublic:
    """Counts of participants for the federal statistics forms (формы ФСН) of a school, a
    municipality or a region for a programme year: mentees and mentors by category, pairs by
    form and how they ended, enterprises, and each school's or municipality's counts."""
    year = year or indicators.current_year(settings.zone)
    return statistics.statistics(session, actor, SCOPE_OF[where], name, year, settings.zone)


@router.get(
    "/{where}/{name}/statistics.xlsx",
    response_class=Response,
    responses={**STATISTICS_XLSX, **errors(403)},
)
def statistics_xlsx(
    where: StatisticsScope,
    name: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    year: Year = None,
) -> Response:
    """The same counts as an XLSX workbook: the counts, the forms, each part."""
    year = year or indicators.current_year(settings.zone)
    made = statistics.statistics(session, actor, SCOPE_OF[where], name, year, settings.zone)
    return statistics_workbook(statistics.statistics_file(made))
