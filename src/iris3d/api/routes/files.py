"""Results: download an artifact (Range, ETag), or make a short-lived link that needs no cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from iris3d.api.deps import ServicesDep, not_found
from iris3d.api.downloads import blob_response
from iris3d.api.routes.jobs import OwnedJob
from iris3d.api.schemas import DownloadLink, Message
from iris3d.api.security import sign_link, verify_link
from iris3d.contracts import JobState
from iris3d.store import jobs as job_rows
from iris3d.store.models import Job

router = APIRouter(tags=["files"])

_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file."},
    206: {"description": "The requested byte range."},
    304: {"description": "Not modified (If-None-Match)."},
    404: {"model": Message},
    416: {"description": "The range is outside the file."},
}


def _artifact(job: Job, name: str) -> dict[str, Any]:
    """The artifact record; artifacts exist only once their job is done."""
    if job.state != JobState.DONE or name not in job.artifacts:
        raise not_found("file")
    record: dict[str, Any] = job.artifacts[name]
    return record


@router.get("/jobs/{job_id}/artifacts/{name}", response_class=Response, responses=_FILE)
def download_artifact(
    job: OwnedJob, name: str, request: Request, services: ServicesDep
) -> Response:
    """One result file, named as in the job's ``artifacts`` (an ``ArtifactName``; any other
    name is not found)."""
    return blob_response(services.blobs, _artifact(job, name), request)


@router.post("/jobs/{job_id}/artifacts/{name}/link", responses={404: {"model": Message}})
def link_artifact(job: OwnedJob, name: str, services: ServicesDep) -> DownloadLink:
    """A URL for this file that works without signing in, for ``IRIS_SIGNED_URL_TTL_S``."""
    record = _artifact(job, name)
    ttl = services.settings.signed_url_ttl_s
    presigned = services.blobs.presigned_url(str(record["key"]), ttl, str(record["filename"]))
    token, expires = sign_link(services.link_keys, job.id, name, ttl)
    return DownloadLink(
        url=presigned or f"/api/files/{token}",
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


@router.get("/files/{token}", response_class=Response, responses=_FILE)
def download_signed(token: str, request: Request, services: ServicesDep) -> Response:
    """A file through a link from ``.../link``; no cookie or token needed."""
    claims = verify_link(services.link_keys, token)  # BadLinkError: 404
    with services.db.reader() as session:
        job = job_rows.job_by_id(session, claims.job_id)
    if job is None:
        raise not_found("file")
    record = _artifact(job, claims.artifact)
    response = blob_response(services.blobs, record, request)
    if isinstance(response, RedirectResponse):
        return response
    response.headers["Cache-Control"] = "private, no-store"
    return response
