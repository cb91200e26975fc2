"""PACS servers as the API sees them (the site's and each user's own), and the two things done
with them: pulling a series in as a study, exactly as an upload, and sending a job's DICOM
results back. Search hits pass through to the user and are never stored or logged."""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import HTTPException, status

from iris3d.api.deps import not_found
from iris3d.api.intake import store_study
from iris3d.api.pacs_schemas import PacsPull, PacsPulled, PacsSent, PacsServerPublic
from iris3d.api.quotas import check_new_job, check_new_study
from iris3d.api.routes.engines import totalseg_qualities
from iris3d.api.routes.jobs import create_job
from iris3d.api.routes.studies import public_study
from iris3d.api.schemas import JobCreate
from iris3d.api.services import Services
from iris3d.contracts import ArtifactName, EngineName, JobState
from iris3d.pacs import DicomWebClient
from iris3d.pacs.reidentify import reidentified_instances
from iris3d.settings import PacsServerConfig, Settings
from iris3d.store import jobs as job_rows
from iris3d.store import pacs_sends, pacs_servers
from iris3d.store.models import Job, PacsServer, User

RESULT_ARTIFACTS = (ArtifactName.DICOM_SEG, ArtifactName.DICOM_SR)
"""A finished job's DICOM results that go back to the PACS (the DICOM-SEG and the SR)."""

SITE_PREFIX = "site-"
"""Ids of the administrator's servers start so; users' servers have hex ids."""


def check_user_server(url: str, settings: Settings) -> None:
    """Users choose where Iris connects: never where IRIS_PACS_USER_SERVERS forbids, and never
    to link-local addresses (cloud metadata services live there)."""
    if not settings.users_add_pacs:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "On this server only the administrator's PACS servers may be used.",
        )
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError) as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"The PACS address {host!r} does not resolve."
        ) from e
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{host!r} is a link-local, multicast or unspecified address, not a PACS.",
            )


def site_server_id(name: str) -> str:
    """A stable id for an administrator's server, from its name (the list's order may change)."""
    return SITE_PREFIX + hashlib.sha256(name.encode()).hexdigest()[:16]


def _config(row: PacsServer) -> PacsServerConfig:
    return PacsServerConfig(
        name=row.name, url=row.url, auth=row.auth,
        username=row.username, secret=row.secret,
    )


def _public(server_id: str, config: PacsServerConfig, *, shared: bool) -> PacsServerPublic:
    return PacsServerPublic(
        id=server_id,
        name=config.name,
        url=config.url,
        auth=config.auth,
        username=config.username,
        has_secret=bool(config.secret),
        shared=shared,
    )


def list_servers(services: Services, user: User) -> list[PacsServerPublic]:
    site = [_public(site_server_id(s.name), s, shared=True) for s in services.settings.pacs_servers]
    with services.db.reader() as session:
        own = [
            _public(row.id, _config(row), shared=False)
            for row in pacs_servers.list_servers(session, user.id)
        ]
    return site + own


def list_one(services: Services, user: User, server_id: str) -> PacsServerPublic:
    return _public(server_id, server_for(services, user, server_id), shared=False)


def server_for(services: Services, user: User, server_id: str) -> PacsServerConfig:
    """The server ``server_id`` names, if the user may use it (404 otherwise)."""
    if server_id.startswith(SITE_PREFIX):
        for server in services.settings.pacs_servers:
            if site_server_id(server.name) == server_id:
                return server
        raise not_found("PACS server")
    with services.db.reader() as session:
        row = pacs_servers.owned_server(session, user.id, server_id)
    if row is None:
        raise not_found("PACS server")
    return _config(row)


def client(services: Services, server: PacsServerConfig) -> DicomWebClient:
    return DicomWebClient(server, services.settings.pacs_timeout_s)


def pull_series(
    services: Services, user: User, server: PacsServerConfig, body: PacsPull, server_id: str
) -> PacsPulled:
    """Retrieve the series into a staging folder and take it in as an upload is taken in
    (de-identified, checked in the sandbox, within the limits), then queue its job. Nothing is
    kept when the PACS or the ingest fails."""
    _refuse_before_retrieval(services, user, body)
    settings = services.settings
    folder = Path(tempfile.mkdtemp(prefix="pacs-", dir=services.upload_dir))
    try:
        series = folder / "dicom"
        with client(services, server) as pacs:
            pacs.retrieve_series(
                body.series_uid,
                series,
                study_uid=body.study_uid,
                max_bytes=settings.max_upload_bytes,
                max_instances=settings.max_archive_members,
            )
        with services.ingest_slots:
            # No series UID: the folder holds this series only, and ingest may replace UIDs.
            study = store_study(
                db=services.db,
                blobs=services.blobs,
                settings=settings,
                owner_id=user.id,
                source=series,
                name=body.name or "",  # never the PACS's descriptions: they may name the patient
                series_uid=None,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    job = create_job(
        JobCreate(study_id=study.id, quality=body.quality, engine=body.engine), user, services
    )
    if body.send_results:  # sent by the API's background sender (iris3d.api.pacs_autosend)
        with services.db.session() as session:
            pacs_sends.add_send(session, job_id=job.id, owner_id=user.id, server_id=server_id)
    return PacsPulled(study=public_study(services, study), job=job)


def _refuse_before_retrieval(services: Services, user: User, body: PacsPull) -> None:
    """What would refuse the study or its job, checked before any byte is fetched (so that a
    refusal leaves no study without its job)."""
    check_new_study(user, services, 0)
    with services.db.reader() as session:
        check_new_job(session, user, services.settings)
    if body.engine is EngineName.IMPORT:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "Engine 'import' needs your own segmentation: upload the study.")
    if (body.engine is EngineName.TOTALSEGMENTATOR
            and body.quality not in totalseg_qualities(services.settings)):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"TotalSegmentator is not installed on this server for {body.quality.value!r} "
            "quality. Choose Automatic or the built-in tissue engine.",
        )


def send_results(
    services: Services, user: User, server: PacsServerConfig, job_id: str
) -> PacsSent:
    """STOW-RS the user's finished job's DICOM-SEG and SR to ``server``."""
    with services.db.reader() as session:
        job = job_rows.owned_job(session, user.id, job_id)
    if job is None:
        raise not_found("job")
    return send_job_results(services, server, job)


def send_job_results(services: Services, server: PacsServerConfig, job: Job) -> PacsSent:
    """STOW-RS ``job``'s DICOM-SEG and SR (whichever it has), filed with their patient: the
    patient and study attributes come from the PACS's record of the source series, in memory
    only (:mod:`iris3d.pacs.reidentify`)."""
    names = [name for name in RESULT_ARTIFACTS if name in (job.artifacts or {})]
    if job.state != JobState.DONE.value or not names:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "This job has no DICOM results to send (a DICOM-SEG or SR): they are made for "
            "finished jobs of studies that came from DICOM.",
        )
    results = [b"".join(services.blobs.read(str(job.artifacts[name]["key"]))) for name in names]
    with client(services, server) as pacs:
        stored = pacs.store(reidentified_instances(pacs, results))
    return PacsSent(artifacts=names, instances=stored)
