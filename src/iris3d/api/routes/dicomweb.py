"""STOW-RS: a PACS sends studies to an account (``POST /dicom-web/studies``).

The PACS signs in with one of the account's receive tokens (``POST /api/dicom/tokens``), as
``Authorization: Bearer <token>`` or as HTTP basic authentication with the token as password
(any user name), for PACS that offer only that. Nothing is read from the body before the token
is checked. Instances wait in the inbox until their study is quiet (IRIS_DICOM_QUIET_SECONDS);
what became of the study is then a receipt (``GET /api/dicom/receipts``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from iris3d.api.deps import ServicesDep
from iris3d.api.schemas import Message
from iris3d.api.security import token_hash
from iris3d.api.services import Services
from iris3d.receiver.router import open_inbox
from iris3d.receiver.stow import Outcome, check_content_type, file_in, receive
from iris3d.store import users
from iris3d.store.models import TokenKind, User, utcnow

router = APIRouter(prefix="/dicom-web", tags=["dicom-web"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {'multipart/related; type="application/dicom"': {"schema": {"type": "string"}}},
    }
}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/dicom+json": {}}, "description": "Every instance kept."},
    202: {"description": "Some instances kept; FailedSOPSequence says which were not and why."},
    401: {"model": Message, "description": "No valid receive token."},
    409: {"description": "No instance kept."},
    413: {"model": Message},
}


def _presented(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _receiver(services: Services, token: str | None) -> User:
    if token:
        with services.db.reader() as session:
            user = users.user_for_token(
                session, token_hash(token), utcnow(), kinds=(TokenKind.DICOM,)
            )
        if user is not None:
            return user
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Send one of the account's receive tokens (POST /api/dicom/tokens) as a bearer token "
        "or as the basic-authentication password.",
        headers={"WWW-Authenticate": 'Bearer, Basic realm="iris"'},
    )


@router.post("/studies", response_class=JSONResponse, openapi_extra=_BODY, responses=_ANSWERS)
async def store_instances(request: Request, services: ServicesDep) -> JSONResponse:
    """Store instances (STOW-RS) in the token's account; they are processed once their study
    has been quiet for IRIS_DICOM_QUIET_SECONDS."""
    user = await anyio.to_thread.run_sync(_receiver, services, _presented(request))
    boundary = check_content_type(request.headers.get("content-type", ""))
    inbox = open_inbox(services)
    settings = services.settings
    paths = await receive(request.stream(), boundary, inbox, settings.max_upload_bytes,
                          settings.max_archive_members)
    outcomes = [await anyio.to_thread.run_sync(file_in, inbox, user.id, p) for p in paths]
    return _answer(outcomes)


@router.post(
    "/studies/{study_uid}", response_class=JSONResponse, openapi_extra=_BODY, responses=_ANSWERS
)
async def store_study_instances(
    study_uid: str, request: Request, services: ServicesDep
) -> JSONResponse:
    """The same, for a client that names the study (each instance's own UID decides)."""
    return await store_instances(request, services)


def _reference(outcome: Outcome) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if outcome.sop_class:
        item["00081150"] = {"vr": "UI", "Value": [outcome.sop_class]}
    if outcome.sop_uid:
        item["00081155"] = {"vr": "UI", "Value": [outcome.sop_uid]}
    return item


def _answer(outcomes: list[Outcome]) -> JSONResponse:
    """The STOW-RS answer (PS3.18 10.5.3): kept instances as ReferencedSOPSequence, the others
    as FailedSOPSequence (status 0xA700), and why in Warning header fields."""
    kept = [o for o in outcomes if o.stored is not None]
    failed = [o for o in outcomes if o.stored is None]
    body: dict[str, Any] = {}
    if kept:
        body["00081199"] = {"vr": "SQ", "Value": [_reference(o) for o in kept]}
    if failed:
        body["00081198"] = {
            "vr": "SQ",
            "Value": [
                {**_reference(o), "00081197": {"vr": "US", "Value": [0xA700]}} for o in failed
            ],
        }
    code = status.HTTP_200_OK if not failed else (
        status.HTTP_202_ACCEPTED if kept else status.HTTP_409_CONFLICT)
    reasons = sorted({o.reason for o in failed})
    # PS3.18 gives reasons in Warning header fields; one per distinct reason.
    headers = [("warning", f'299 iris "{reason}"') for reason in reasons[:10]]
    response = JSONResponse(body, status_code=code, media_type="application/dicom+json")
    for name, value in headers:
        response.headers.append(name, value)
    return response
