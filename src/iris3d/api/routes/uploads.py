"""Resumable uploads for large studies: create, send chunks in order, resume, complete.

A chunk is raw bytes (``application/octet-stream``) sent to ``PUT /api/uploads/{id}?offset=N``
where N is the ``received`` count; after a broken connection, ``GET`` the upload and go on from
its ``received``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status

from iris3d.api.deps import NOT_FOUND, CurrentUser, ServicesDep, not_found
from iris3d.api.intake import store_study
from iris3d.api.quotas import check_new_upload
from iris3d.api.routes.studies import public_study
from iris3d.api.schemas import Message, StudyPublic, UploadComplete, UploadCreate, UploadPublic
from iris3d.api.services import Services
from iris3d.api.upload_stream import too_large_message
from iris3d.contracts.formats import upload_suffix
from iris3d.ingest.errors import TooLargeError
from iris3d.store import studies
from iris3d.store.models import Upload, User, utcnow

router = APIRouter(prefix="/uploads", tags=["uploads"])


def _part(services: Services, upload_id: str) -> Path:
    return services.upload_dir / f"{upload_id}.part"


def _public_upload(services: Services, upload: Upload) -> UploadPublic:
    return UploadPublic(
        id=upload.id,
        size=upload.size,
        received=upload.received,
        chunk_size=services.settings.upload_chunk_bytes,
        expires_at=upload.expires_at,
    )


def _owned(services: Services, user: User, upload_id: str) -> Upload:
    with services.db.reader() as session:
        upload = studies.owned_upload(session, user.id, upload_id)
    if upload is None:
        raise not_found("upload")
    return upload


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"model": Message, "description": "A quota is reached."},
        413: {"model": Message},
    },
)
def create_upload(body: UploadCreate, user: CurrentUser, services: ServicesDep) -> UploadPublic:
    """Announce a file of ``size`` bytes; its name only tells its kind (.nii.gz, .zip...)."""
    if body.size > services.settings.max_upload_bytes:
        raise TooLargeError(too_large_message(services.settings.max_upload_bytes))
    expires = utcnow() + timedelta(seconds=services.settings.upload_expiry_s)
    with services.db.session() as session:
        check_new_upload(session, user, services.settings, body.size)
        upload = studies.add_upload(
            session,
            owner_id=user.id,
            size=body.size,
            suffix=upload_suffix(body.filename),
            expires_at=expires,
        )
    _part(services, upload.id).touch()
    return _public_upload(services, upload)


@router.get("/{upload_id}", responses=NOT_FOUND)
def get_upload(upload_id: str, user: CurrentUser, services: ServicesDep) -> UploadPublic:
    return _public_upload(services, _owned(services, user, upload_id))


@router.put(
    "/{upload_id}",
    responses={**NOT_FOUND, 409: {"model": Message, "description": "Wrong offset."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def put_chunk(
    upload_id: str,
    offset: Annotated[int, Query(ge=0)],
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
) -> UploadPublic:
    """Append the request body at ``offset`` (which must equal ``received``)."""
    upload = await anyio.to_thread.run_sync(_owned, services, user, upload_id)
    lock = services.upload_locks.setdefault(upload.id, asyncio.Lock())
    async with lock:
        upload = await anyio.to_thread.run_sync(_owned, services, user, upload_id)
        if offset != upload.received:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"expected offset {upload.received}, got {offset}"
            )
        limit = min(services.settings.upload_chunk_bytes, upload.size - upload.received)
        written = await _append(request, _part(services, upload.id), offset, limit)
        services.metrics.upload_bytes.inc(written)
        await anyio.to_thread.run_sync(_advance, services, upload.id, offset, written)
    return await anyio.to_thread.run_sync(get_upload, upload_id, user, services)


def _advance(services: Services, upload_id: str, offset: int, written: int) -> None:
    with services.db.session() as session:
        studies.advance_upload(session, upload_id, offset, offset + written)


async def _append(request: Request, path: Path, offset: int, limit: int) -> int:
    written = 0
    handle = await anyio.open_file(path, "r+b")
    try:
        await handle.seek(offset)
        await handle.truncate()
        async for chunk in request.stream():
            written += len(chunk)
            if written > limit:
                await handle.truncate(offset)
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"a chunk may be at most {limit} bytes here (chunk size or remaining size)",
                )
            await handle.write(chunk)
    finally:
        await handle.aclose()
    return written


@router.post(
    "/{upload_id}/complete",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, 409: {"model": Message}, 422: {"model": Message}},
)
def complete_upload(
    upload_id: str, body: UploadComplete, user: CurrentUser, services: ServicesDep
) -> StudyPublic:
    """Turn the received file into a study (read and checked now, as for a direct upload)."""
    upload = _owned(services, user, upload_id)
    if upload.received != upload.size:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"received {upload.received} of {upload.size} bytes"
        )
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=services.upload_dir))
    try:
        source = folder / f"study{upload.suffix}"
        _part(services, upload.id).replace(source)
        with services.db.session() as session:
            studies.remove_upload(session, upload.id)
        with services.ingest_slots:
            study = store_study(
                db=services.db,
                blobs=services.blobs,
                settings=services.settings,
                owner_id=user.id,
                source=source,
                name=body.name or "",
                series_uid=body.series_uid,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        services.upload_locks.pop(upload.id, None)
    services.metrics.uploads.labels("accepted").inc()
    return public_study(services, study)


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def cancel_upload(upload_id: str, user: CurrentUser, services: ServicesDep) -> None:
    upload = _owned(services, user, upload_id)
    with services.db.session() as session:
        studies.remove_upload(session, upload.id)
    _part(services, upload.id).unlink(missing_ok=True)
    services.upload_locks.pop(upload.id, None)
