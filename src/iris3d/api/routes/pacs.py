"""PACS (DICOMweb) servers: list, add and remove your own; search one; pull a series in as a
study; send a job's DICOM results back."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, status

from iris3d.api import pacs
from iris3d.api.deps import NOT_FOUND, CurrentUser, Responses, ServicesDep, not_found
from iris3d.api.pacs_schemas import (
    PacsPull,
    PacsPulled,
    PacsSearch,
    PacsSend,
    PacsSendStatus,
    PacsSent,
    PacsSeriesHit,
    PacsSeriesHits,
    PacsServerCreate,
    PacsServerPublic,
    PacsServersPublic,
    PacsStudyHit,
    PacsStudyHits,
)
from iris3d.api.schemas import Message
from iris3d.pacs import SearchFilter
from iris3d.settings import PacsServerConfig
from iris3d.store import pacs_sends, pacs_servers
from iris3d.store.models import PacsSendState

router = APIRouter(prefix="/pacs", tags=["pacs"])

_PACS_FAULTS: Responses = {
    **NOT_FOUND,
    502: {"model": Message, "description": "The PACS is down, refused or failed; says which."},
    504: {"model": Message, "description": "The PACS did not answer in time."},
}


def _server(server_id: str, user: CurrentUser, services: ServicesDep) -> PacsServerConfig:
    return pacs.server_for(services, user, server_id)


Server = Annotated[PacsServerConfig, Depends(_server)]


@router.get("/servers")
def list_servers(user: CurrentUser, services: ServicesDep) -> PacsServersPublic:
    """The administrator's servers (shared) and your own; passwords and tokens are never shown."""
    return PacsServersPublic(items=pacs.list_servers(services, user))


@router.post(
    "/servers",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"model": Message}, 422: {"model": Message}},
)
def add_server(
    body: PacsServerCreate, user: CurrentUser, services: ServicesDep
) -> PacsServerPublic:
    """Add a DICOMweb server of your own (its password or token is never shown again)."""
    pacs.check_user_server(body.url, services.settings)
    with services.db.session() as session:
        row = pacs_servers.add_server(
            session,
            owner_id=user.id,
            name=body.name,
            url=body.url,
            auth=body.auth,
            username=body.username if body.auth == "basic" else None,
            secret=body.secret if body.auth != "none" else None,
        )
    return pacs.list_one(services, user, row.id)


@router.delete(
    "/servers/{server_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 403: {"model": Message}},
)
def remove_server(server_id: str, user: CurrentUser, services: ServicesDep) -> None:
    if server_id.startswith(pacs.SITE_PREFIX):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "The administrator's servers are changed in IRIS_PACS_SERVERS.")
    with services.db.session() as session:
        if not pacs_servers.remove_server(session, user.id, server_id):
            raise not_found("PACS server")


def _filter(query: PacsSearch) -> SearchFilter:
    return SearchFilter(
        date_from=query.date_from.isoformat() if query.date_from else None,
        date_to=query.date_to.isoformat() if query.date_to else None,
        modality=query.modality,
        description=query.description,
        limit=query.limit,
    )


@router.get("/servers/{server_id}/studies", responses=_PACS_FAULTS)
async def search_studies(
    server: Server, services: ServicesDep, query: Annotated[PacsSearch, Depends()]
) -> PacsStudyHits:
    """Studies in the PACS (QIDO-RS); shown to you, never stored."""
    def search() -> PacsStudyHits:
        with pacs.client(services, server) as client:
            hits = client.search_studies(_filter(query))
        return PacsStudyHits(items=[PacsStudyHit(**vars(hit)) for hit in hits])

    return await anyio.to_thread.run_sync(search)


@router.get("/servers/{server_id}/series", responses=_PACS_FAULTS)
async def search_series(
    server: Server,
    services: ServicesDep,
    query: Annotated[PacsSearch, Depends()],
    study_uid: str | None = None,
) -> PacsSeriesHits:
    """Series in the PACS (QIDO-RS), in one study or all; shown to you, never stored."""
    def search() -> PacsSeriesHits:
        with pacs.client(services, server) as client:
            hits = client.search_series(_filter(query), study_uid=study_uid)
        return PacsSeriesHits(items=[PacsSeriesHit(**vars(hit)) for hit in hits])

    return await anyio.to_thread.run_sync(search)


@router.post(
    "/servers/{server_id}/pull",
    status_code=status.HTTP_201_CREATED,
    responses={**_PACS_FAULTS, 403: {"model": Message}, 413: {"model": Message},
               422: {"model": Message}},
)
async def pull(
    server_id: str, body: PacsPull, server: Server, user: CurrentUser, services: ServicesDep
) -> PacsPulled:
    """Bring one series in as a new study, as an upload would be, and queue its processing;
    with ``send_results``, its DICOM-SEG and SR go back to this server when the job is done."""
    return await anyio.to_thread.run_sync(
        pacs.pull_series, services, user, server, body, server_id
    )


@router.post(
    "/servers/{server_id}/send",
    responses={**_PACS_FAULTS, 409: {"model": Message, "description": "No DICOM results, or "
                                      "the PACS no longer has their source series."}},
)
async def send(
    body: PacsSend, server: Server, user: CurrentUser, services: ServicesDep
) -> PacsSent:
    """Send a finished job's DICOM-SEG and SR to the PACS (STOW-RS)."""
    return await anyio.to_thread.run_sync(pacs.send_results, services, user, server, body.job_id)


@router.get("/sends/{job_id}", responses=NOT_FOUND)
def send_status(job_id: str, user: CurrentUser, services: ServicesDep) -> PacsSendStatus:
    """Where a job's automatic send (a series pulled with ``send_results``) stands."""
    with services.db.reader() as session:
        send = pacs_sends.send_of(session, user.id, job_id)
    if send is None:
        raise not_found("automatic send")
    return PacsSendStatus(job_id=send.job_id, server_id=send.server_id,
                          state=PacsSendState(send.state), detail=send.detail)
