"""Running the receiver: the routing loop (in the API's lifespan, and in ``iris dicom-receiver``)
and the C-STORE listener (``iris dicom-receiver``; ``iris serve`` starts it when
IRIS_DICOM_PORT is set)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import anyio
from fastapi import HTTPException

from iris3d.api.pacs import client, server_for
from iris3d.api.services import Services, open_services
from iris3d.errors import IrisError
from iris3d.receiver.inbox import Inbox
from iris3d.receiver.router import ResultSender, open_inbox, sweep
from iris3d.receiver.scp import AeRoutes, StoreHandler, application_entity, handlers
from iris3d.settings import Settings
from iris3d.store import users

log = logging.getLogger(__name__)


class PacsSender:
    """Results go to one of the owner's PACS servers (theirs or the site's) by STOW-RS, with the
    DICOMweb client the "Import from PACS" feature uses."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def send(self, owner_id: str, destination: str, files: list[Path]) -> None:
        with self.services.db.reader() as session:
            user = users.user_by_id(session, owner_id)
        if user is None:
            raise IrisError("the account is gone")
        try:
            server = server_for(self.services, user, destination)
        except HTTPException as e:
            raise IrisError(
                "the destination PACS server no longer exists; choose another in your rule"
            ) from e
        with client(self.services, server) as pacs:
            pacs.store(files)


def result_sender(services: Services) -> ResultSender:
    return PacsSender(services)


def loop_interval(settings: Settings) -> float:
    return min(1.0, settings.dicom_quiet_seconds / 4)


def _round(services: Services, inbox: Inbox, sender: ResultSender | None) -> None:
    try:
        sweep(services, inbox, sender)
    except Exception:  # the next round tries again; the service keeps running
        log.exception("routing received studies failed")


async def run_router(services: Services) -> None:
    """The routing loop inside the API (for studies that came by STOW-RS)."""
    inbox, sender = open_inbox(services), result_sender(services)
    while True:
        await anyio.to_thread.run_sync(_round, services, inbox, sender)
        await anyio.sleep(loop_interval(services.settings))


def _route_until(services: Services, inbox: Inbox, stop: threading.Event) -> None:
    sender = result_sender(services)
    while not stop.wait(loop_interval(services.settings)):
        _round(services, inbox, sender)


def run_receiver(settings: Settings, stop: threading.Event) -> None:
    """Listen for C-STORE on IRIS_DICOM_HOST:IRIS_DICOM_PORT and route what arrives, until
    ``stop`` is set."""
    if settings.dicom_port is None:
        raise IrisError("set IRIS_DICOM_PORT to the port the receiver listens on (e.g. 11112)")
    services = open_services(settings)
    inbox = open_inbox(services)
    routes = AeRoutes.from_settings(settings)
    if not settings.dicom_ae_routes:
        log.warning("IRIS_DICOM_AE_ROUTES is empty: every association will be refused")

    def owner_id(email: str) -> str | None:
        with services.db.reader() as session:
            user = users.user_by_email(session, email)
        return user.id if user is not None and not user.disabled else None

    handler = StoreHandler(inbox, routes, owner_id)
    server = application_entity(routes).start_server(
        (settings.dicom_host, settings.dicom_port), block=False, evt_handlers=handlers(handler)
    )
    assert server is not None  # block=False: the server runs in its own threads
    router = threading.Thread(target=_route_until, args=(services, inbox, stop), daemon=True)
    router.start()
    log.info("DICOM receiver %s on %s:%d", routes.own_title, settings.dicom_host,
             settings.dicom_port)
    try:
        stop.wait()
    finally:
        server.shutdown()
        router.join()
        services.close()
