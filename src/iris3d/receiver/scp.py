"""The DICOM C-STORE receiver (pynetdicom): instances a PACS sends go to their owner's inbox.

Who owns what arrives is the administrator's choice, in IRIS_DICOM_AE_ROUTES: a called AE title
per account (``"called:IRIS_ALICE": "alice@example.org"``; the PACS knows one Iris node per
user) or a calling AE title per account (``"calling:CT_ROUTER": "..."``; everything one PACS
sends belongs to one account). The called AE title is looked up first; an association nobody
owns is aborted, and an instance nobody owns is refused (0x0124, not authorised).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from iris3d.receiver.inbox import BadInstanceError, Inbox, InboxFullError, InstanceIds
from iris3d.settings import Settings

log = logging.getLogger(__name__)

SUCCESS = 0x0000
NOT_AUTHORISED = 0x0124
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000

OwnerLookup = Callable[[str], str | None]
"""An account's e-mail to its id, or None when there is no such enabled account."""


@dataclass(frozen=True)
class AeRoutes:
    own_title: str
    called: dict[str, str]
    calling: dict[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> AeRoutes:
        called: dict[str, str] = {}
        calling: dict[str, str] = {}
        for key, email in settings.dicom_ae_routes.items():
            kind, _, title = key.partition(":")
            (called if kind == "called" else calling)[title.strip()] = email
        return cls(settings.dicom_ae_title.strip(), called, calling)

    def owner_email(self, called_ae: str, calling_ae: str) -> str | None:
        called_ae, calling_ae = called_ae.strip(), calling_ae.strip()
        if called_ae in self.called:
            return self.called[called_ae]
        if called_ae != self.own_title:
            return None
        return self.calling.get(calling_ae)

    @property
    def titles(self) -> list[str]:
        return [self.own_title, *self.called]


def called_title(assoc: Association) -> str:
    """The AE title the sender called (the acceptor's own title is always IRIS_DICOM_AE_TITLE,
    so it is read from the association request)."""
    request = assoc.requestor.primitive
    return str(request.called_ae_title) if request is not None else assoc.acceptor.ae_title


class StoreHandler:
    """pynetdicom's event handlers, bound to one inbox and one way of finding owners."""

    def __init__(self, inbox: Inbox, routes: AeRoutes, owner_id: OwnerLookup) -> None:
        self.inbox = inbox
        self.routes = routes
        self.owner_id = owner_id

    def owner(self, assoc: Association) -> str | None:
        email = self.routes.owner_email(called_title(assoc), assoc.requestor.ae_title)
        return self.owner_id(email) if email else None

    def established(self, event: evt.Event) -> None:
        if self.owner(event.assoc) is None:
            log.warning(
                "refused an association: called %r by %r, which IRIS_DICOM_AE_ROUTES does not "
                "give to an account", called_title(event.assoc), event.assoc.requestor.ae_title
            )
            event.assoc.abort()

    def store(self, event: evt.Event) -> int:
        owner = self.owner(event.assoc)
        if owner is None:
            return NOT_AUTHORISED
        received = self.inbox.incoming_file()
        try:
            ds: Dataset = event.dataset
            ids = InstanceIds(str(ds.get("StudyInstanceUID", "")),
                              str(ds.get("SeriesInstanceUID", "")),
                              str(ds.get("SOPInstanceUID", "")))
            received.write_bytes(event.encoded_dataset(include_meta=True))
            self.inbox.accept(owner, ids, received)
        except InboxFullError as e:
            log.warning("refused an instance: %s", e)
            return OUT_OF_RESOURCES
        except BadInstanceError:
            return CANNOT_UNDERSTAND
        except Exception:  # a dataset pynetdicom could not decode: say so to the sender
            log.exception("could not keep a received instance")
            return CANNOT_UNDERSTAND
        finally:
            received.unlink(missing_ok=True)
        return SUCCESS


def application_entity(routes: AeRoutes) -> AE:
    ae = AE(ae_title=routes.own_title)
    # The called AE title is checked per association against the routes, not by pynetdicom.
    ae.require_called_aet = False
    for context in AllStoragePresentationContexts:
        if context.abstract_syntax is not None:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    ae.maximum_associations = 8
    return ae


def handlers(handler: StoreHandler) -> list[Any]:
    return [(evt.EVT_C_STORE, handler.store), (evt.EVT_ESTABLISHED, handler.established)]
