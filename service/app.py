"""The FastAPI application: every domain's API routes and pages, health, docs and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import text

from service import handlers
from service.accounts import pages as account_pages
from service.accounts import routes as account_routes
from service.core import collector
from service.core.config import Settings, get_settings
from service.core.db import Database
from service.core.deps import UNSAFE, check_address, guard_page
from service.core.logs import redact_access_log
from service.core.schemas import ERROR_RESPONSES, errors
from service.core.throttle import LoginThrottle
from service.monitoring import exports as monitoring_exports
from service.monitoring import indicator_pages
from service.monitoring import pages as monitoring_pages
from service.monitoring import routes as monitoring_routes
from service.notifications import pages as notification_pages
from service.notifications import routes as notification_routes
from service.pairs import group_pages
from service.pairs import pages as pair_pages
from service.pairs import routes as pair_routes
from service.participation import pages as participation_pages
from service.participation import pair_pages as participation_pair_pages
from service.participation import routes as participation_routes
from service.people import external_pages, external_routes, reading
from service.people import pages as people_pages
from service.people import routes as people_routes
from service.runs import pages as run_pages
from service.runs import routes as run_routes
from service.runs.executor import Solver
from service.runs.scoring import preload
from service.ui import login
from service.ui.headers import SecurityHeaders

__all__ = ["create_app", "serve_app"]

log = logging.getLogger("nastavnik.service")


class Health(BaseModel):
    """The service is up and its database answers."""

    status: Literal["ok"]
    database: str = Field(description="The database engine: sqlite or postgresql.")


API = (
    account_routes,
    people_routes,
    external_routes,
    run_routes,
    pair_routes,
    monitoring_routes,
    participation_routes,
    notification_routes,
)
PAGES = (
    login,
    account_pages,
    people_pages,
    external_pages,
    run_pages,
    pair_pages,
    group_pages,
    monitoring_pages,
    participation_pages,
    participation_pair_pages,
    notification_pages,
    indicator_pages,
    monitoring_exports,
)


def _document_refusals(app: FastAPI) -> None:
    """Every unsafe API request may be refused 403 (``csrf``: authenticated by the pages' cookie
    from another origin, see ``service.core.deps.current_actor``): the schema says so."""
    for route in app.routes:
        if isinstance(route, APIRoute) and (route.methods or set()) & UNSAFE:
            route.responses.setdefault(403, ERROR_RESPONSES[403])


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to the environment's (``NASTAVNIK_*``).
    db : Database, optional
        An already opened database (tests); else one is opened on ``settings.database_url``.
        The schema must be migrated (``nastavnik serve`` does it).
    """
    settings = settings or get_settings()
    preload()
    database = db or Database(settings.database_url)
    solver = Solver(settings.solver_workers, settings.dask_scheduler)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        redact_access_log()  # here: uvicorn has configured its loggers by now
        yield
        solver.close()
        reading.close()  # workers still reading big imported files
        if db is None:
            database.dispose()

    app = FastAPI(
        title="nastavnik",
        summary="Mentoring pairs for Russian schools: questionnaires in, confirmed pairs out.",
        version="0.1.0",
        lifespan=lifespan,
        # The API's documentation is public only where it is enabled (not in production).
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.solver = solver
    app.state.login_throttle = LoginThrottle(settings.login_attempts_per_minute)
    app.add_middleware(SecurityHeaders)
    handlers.install(app)
    for module in API:
        app.include_router(
            module.router,
            responses=errors(401, 404, 422, 503),
            dependencies=[Depends(check_address)],
        )
    _document_refusals(app)
    for module in PAGES:  # sessions, anti-forgery tokens and origin checks of every page
        app.include_router(
            module.router, dependencies=[Depends(guard_page), Depends(check_address)]
        )

    @app.get("/health", tags=["service"])
    def health() -> Health:
        """Liveness and database check."""
        with database.read() as session:
            session.execute(text("SELECT 1"))
        return Health(status="ok", database=database.dialect)

    log.info("application ready (database engine: %s)", database.dialect)
    return app


def serve_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application of a server process (``nastavnik serve``, each of its workers).

    Everything made at start-up (the application, the imported libraries: pandas, scikit-learn,
    SQLAlchemy's mappers, hundreds of thousands of objects) lives as long as the process, so it
    is moved out of the garbage collector's sight (``gc.freeze``): a full collection then walks
    only what requests made since, instead of 0.3 s over the whole heap now and then inside a
    request. A page makes tens of thousands of objects (rows, ORM objects, template output),
    nearly all freed by reference counting when it ends; the collector's default of a pass every
    700 allocations walked them again and again, and with requests overlapping moved the live
    ones into older generations to be walked once more: passes every 10,000 allocations, and
    the older generations 50 and 100 times rarer (``experiments.profile_load --concurrent 8``:
    45 -> 26-33 ms of server CPU per request; cyclic garbage is still collected).
    """
    app = create_app(settings, db)
    collector.freeze_startup()
    return app
