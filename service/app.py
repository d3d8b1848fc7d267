"""The FastAPI application: API, web pages, health and docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from service.config import Settings, get_settings
from service.db import Database
from service.solving import Solver

__all__ = ["create_app"]

log = logging.getLogger("nastavnik.service")


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
    from service import api, web

    settings = settings or get_settings()
    database = db or Database(settings.database_url)
    solver = Solver(settings.solver_workers, settings.dask_scheduler)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        solver.close()
        if db is None:
            database.dispose()

    app = FastAPI(
        title="nastavnik",
        summary="Mentoring pairs for Russian schools: questionnaires in, confirmed pairs out.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.solver = solver
    api.install_error_handlers(app)
    app.include_router(api.router)
    web.install(app)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness and database check."""
        with database.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "database": database.dialect}

    log.info("application ready (database engine: %s)", database.dialect)
    return app
