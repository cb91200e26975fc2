"""For operators: liveness, readiness and Prometheus metrics (outside /api, unauthenticated)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from iris3d.api.deps import ServicesDep
from iris3d.store.migrate import is_current

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready; the body says what fails."}})
def readyz(services: ServicesDep) -> JSONResponse:
    """The database answers at the current schema and storage can be written."""
    checks: dict[str, str] = {}
    try:
        with services.db.reader() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok" if is_current(services.db) else "schema not at head"
    except Exception as e:
        checks["database"] = f"unreachable: {type(e).__name__}"
    try:
        services.blobs.check()
        checks["storage"] = "ok"
    except Exception as e:
        checks["storage"] = str(e)
    ready = all(v == "ok" for v in checks.values())
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"ready": ready, "checks": checks}, status_code=code)


@router.get("/metrics", response_class=Response)
def metrics(services: ServicesDep) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
