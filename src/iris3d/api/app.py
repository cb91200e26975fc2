"""The FastAPI application, built by :func:`create_app` (run it with ``iris serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from iris3d import __version__
from iris3d.api.errors import install_error_handlers
from iris3d.api.hardening import SecurityHeaders
from iris3d.api.maintenance import run_maintenance
from iris3d.api.metrics import RequestTimer
from iris3d.api.pacs_autosend import run_auto_send
from iris3d.api.routes import (
    account,
    admin,
    auth,
    comparisons,
    dicomweb,
    engines,
    events,
    files,
    health,
    jobs,
    limits,
    oidc,
    pacs,
    receiving,
    studies,
    uploads,
)
from iris3d.api.services import open_services
from iris3d.api.web import WebApp, web_app_dir
from iris3d.receiver.service import run_router
from iris3d.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; it connects to the database and storage when it starts serving."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await anyio.to_thread.run_sync(open_services, settings)
        app.state.services = services
        background = [
            asyncio.create_task(run_maintenance(services)),
            asyncio.create_task(run_router(services)),
            asyncio.create_task(run_auto_send(services)),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            services.close()

    docs = settings.api_docs if settings.api_docs is not None else settings.env == "development"
    app = FastAPI(
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        title="Iris",
        version=__version__,
        summary="Turn a CT scan into an explorable 3D model of the patient's anatomy.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    oidc.redact_callback_queries()
    for module in (auth, oidc, account, admin, studies, uploads, jobs, comparisons, files,
                   events, engines, limits, pacs, receiving):
        app.include_router(module.router, prefix="/api")
    app.include_router(health.router)
    app.include_router(dicomweb.router)
    app.add_middleware(RequestTimer)
    app.add_middleware(SecurityHeaders, settings=settings)
    web_dir = web_app_dir(settings.web_dir)
    if web_dir is not None:
        app.mount("/", WebApp(web_dir), name="web")
    elif docs:
        # Until a web app is configured, the front door is the interactive API documentation.
        app.add_api_route("/", _to_api_docs, include_in_schema=False)
    return app


async def _to_api_docs() -> RedirectResponse:
    return RedirectResponse("/docs")
