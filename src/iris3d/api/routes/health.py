"""For operators: liveness, readiness and Prometheus metrics (outside /api, unauthenticated)."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from iris3d.api.deps import ServicesDep
from iris3d.api.services import Services
from iris3d.scrub import scrub
from iris3d.store.migrate import is_current

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready; the server log says why."}})
def readyz(services: ServicesDep) -> JSONResponse:
    """The database answers at the current schema and storage can be written. The answer names
    what fails but never why (the reason, which may name hosts or paths, goes to the log)."""
    checks: dict[str, str] = {}
    try:
        with services.db.reader() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok" if is_current(services.db) else "failing"
    except Exception as e:
        log.warning("readiness: database unreachable: %s", type(e).__name__)
        checks["database"] = "failing"
    try:
        services.blobs.check()
        checks["storage"] = "ok"
    except Exception as e:
        log.warning("readiness: storage failing: %s", scrub(e))
        checks["storage"] = "failing"
    ready = all(v == "ok" for v in checks.values())
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"ready": ready, "checks": checks}, status_code=code)


def _metrics_allowed(services: Services, authorization: str | None) -> bool:
    """Open in development; elsewhere only with ``Authorization: Bearer IRIS_METRICS_TOKEN``
    (and off without one): the figures run database queries and describe the service."""
    expected = services.settings.metrics_token
    if expected is None:
        return services.settings.env == "development"
    given = (authorization or "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), expected.encode())


@router.get("/metrics", response_class=Response, responses={404: {"description": "Off."}})
def metrics(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus text format."""
    if not _metrics_allowed(services, authorization):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
