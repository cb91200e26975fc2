"""Studies: upload (multipart), list, read, rename/label, delete, thumbnail, segmentation."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response, status

from iris3d.api.deps import CurrentUser, Offset, ServicesDep, not_found
from iris3d.api.downloads import blob_response
from iris3d.api.intake import arrange, reader_limits, store_study
from iris3d.api.present import study_public
from iris3d.api.quotas import check_new_study
from iris3d.api.schemas import Message, StudiesPublic, StudyPublic, StudyUpdate
from iris3d.api.services import Services
from iris3d.api.upload_stream import ReceivedForm, receive_form
from iris3d.contracts import ArtifactName, JobState, keys
from iris3d.contracts.formats import NIFTI_SUFFIXES
from iris3d.errors import IrisError
from iris3d.ingest.sandbox import run_limited
from iris3d.labelio import LabelFileError, check_label_file
from iris3d.store import comparisons, studies
from iris3d.store import jobs as job_rows
from iris3d.store.models import Study, User

router = APIRouter(prefix="/studies", tags=["studies"])

_FILE_PARTS = {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "name": {"type": "string"},
        "series_uid": {"type": "string"},
    },
    "required": ["files"],
}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _FILE_PARTS}}}
}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {"model": Message, "description": "Larger than IRIS_MAX_UPLOAD_BYTES."},
    422: {"model": Message, "description": "Not a study Iris can read; the message says why."},
}


def _staging(services: Services) -> Path:
    return Path(tempfile.mkdtemp(prefix="upload-", dir=services.upload_dir))


def _ingest(services: Services, user: User, form: ReceivedForm, folder: Path) -> Study:
    source = arrange(form.files, folder)
    with services.ingest_slots:
        return store_study(
            db=services.db,
            blobs=services.blobs,
            settings=services.settings,
            owner_id=user.id,
            source=source,
            name=form.fields.get("name") or "",  # never the file's name: it may name the patient
            series_uid=form.fields.get("series_uid") or None,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    responses={**_REFUSALS, 403: {"model": Message, "description": "A quota is reached."}},
)
async def upload_study(request: Request, user: CurrentUser, services: ServicesDep) -> StudyPublic:
    """Upload a NIfTI/NRRD/MHA file, a DICOM zip, or the many files of one DICOM series.

    The study is read at once; if it cannot be processed the answer says why and nothing is
    kept. For files over a few hundred megabytes, prefer the resumable ``/api/uploads``.
    """
    await anyio.to_thread.run_sync(check_new_study, user, services, _announced_bytes(request))
    folder = _staging(services)
    try:
        form = await receive_form(request, folder, services.settings.max_upload_bytes)
        services.metrics.upload_bytes.inc(form.total_bytes)
        study = await anyio.to_thread.run_sync(_ingest, services, user, form, folder)
    except IrisError:
        services.metrics.uploads.labels("refused").inc()
        raise
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
    services.metrics.uploads.labels("accepted").inc()
    return await anyio.to_thread.run_sync(public_study, services, study)


def _announced_bytes(request: Request) -> int:
    """The body's declared size, for the stored-bytes quota (0 when not declared)."""
    length = request.headers.get("content-length", "")
    return int(length) if length.isdigit() else 0


def public_study(services: Services, study: Study) -> StudyPublic:
    with services.db.reader() as session:
        latest = job_rows.latest_jobs(session, [study.id]).get(study.id)
        return study_public(session, study, latest, services.eta.calculator(session))


def _owned(services: Services, user: User, study_id: str) -> Study:
    with services.db.reader() as session:
        study = studies.owned_study(session, user.id, study_id)
    if study is None:
        raise not_found("study")
    return study


@router.get("")
def list_studies(
    user: CurrentUser,
    services: ServicesDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StudiesPublic:
    with services.db.reader() as session:
        rows = studies.list_studies(session, user.id, search=search, offset=offset, limit=limit)
        latest = job_rows.latest_jobs(session, [s.id for s in rows])
        eta = services.eta.calculator(session)
        return StudiesPublic(items=[study_public(session, s, latest.get(s.id), eta) for s in rows])


@router.get("/{study_id}", responses={404: {"model": Message}})
def get_study(study_id: str, user: CurrentUser, services: ServicesDep) -> StudyPublic:
    return public_study(services, _owned(services, user, study_id))


@router.patch("/{study_id}", responses={404: {"model": Message}})
def update_study(
    study_id: str, body: StudyUpdate, user: CurrentUser, services: ServicesDep
) -> StudyPublic:
    """Rename a study or set its labels."""
    study = _owned(services, user, study_id)
    labels = None if body.labels is None else [label.strip()[:50] for label in body.labels]
    with services.db.session() as session:
        updated = studies.update_study(session, study.id, name=body.name, labels=labels)
    if updated is None:
        raise not_found("study")
    return public_study(services, updated)


@router.delete(
    "/{study_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Message}}
)
def delete_study(study_id: str, user: CurrentUser, services: ServicesDep) -> None:
    """Delete the study, its jobs, the comparisons it is in, and every file of all of them
    (a running job is stopped)."""
    study = _owned(services, user, study_id)
    with services.db.session() as session:
        compared = comparisons.comparisons_of_study(session, study.id)
        studies.remove_study(session, study.id)
    services.blobs.delete_prefix(keys.study_prefix(study.id))
    for comparison_id in compared:
        services.blobs.delete_prefix(keys.comparison_prefix(comparison_id))


@router.get(
    "/{study_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"model": Message}},
)
def get_thumbnail(
    study_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    """The picture of the latest finished model."""
    study = _owned(services, user, study_id)
    with services.db.reader() as session:
        latest = job_rows.latest_jobs(session, [study.id]).get(study.id)
    thumbnail = ArtifactName.THUMBNAIL
    if latest is None or latest.state != JobState.DONE or thumbnail not in latest.artifacts:
        raise not_found("thumbnail")
    return blob_response(services.blobs, latest.artifacts[thumbnail], request, inline=True)


@router.put(
    "/{study_id}/segmentation",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
    responses={404: {"model": Message}, 422: {"model": Message}},
)
async def put_segmentation(
    study_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> StudyPublic:
    """Attach your own label map (NIfTI), used by jobs with engine ``import``."""
    study = await anyio.to_thread.run_sync(_owned, services, user, study_id)
    folder = _staging(services)
    try:
        form = await receive_form(request, folder, services.settings.max_upload_bytes)
        study = await anyio.to_thread.run_sync(_keep_segmentation, services, study, form)
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
    return await anyio.to_thread.run_sync(public_study, services, study)


def _keep_segmentation(services: Services, study: Study, form: ReceivedForm) -> Study:
    if len(form.files) != 1 or form.files[0].suffix not in NIFTI_SUFFIXES:
        raise LabelFileError("Send one NIfTI label map (.nii or .nii.gz).")
    received = form.files[0]
    path = received.path.rename(received.path.with_name(f"segmentation{received.suffix}"))
    run_limited(check_label_file, path, services.settings.max_voxels,
                limits=reader_limits(services.settings))
    info = services.blobs.put_file(
        keys.segmentation_key(study.id, received.suffix), path, move=True
    )
    with services.db.session() as session:
        updated = studies.update_study(session, study.id, segmentation_key=info.key)
        if updated is not None:
            return updated
    services.blobs.delete_prefix(keys.segmentation_prefix(study.id))  # deleted meanwhile
    raise not_found("study")
