"""Your PACS routing: receive tokens for a PACS, the rule for what it sends, the receipts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from iris3d.api.account_schemas import TokenCreated, TokenPublic, TokensPublic
from iris3d.api.deps import NOT_FOUND, CurrentUser, Offset, ServicesDep, not_found
from iris3d.api.dicom_schemas import (
    DicomRulePublic,
    ReceiptPublic,
    ReceiptsPublic,
    ReceiveTokenCreate,
)
from iris3d.api.pacs import server_for
from iris3d.api.routes.engines import totalseg_qualities
from iris3d.api.schemas import Message
from iris3d.api.security import new_token, token_hash
from iris3d.contracts import EngineName, JobState, Quality
from iris3d.receiver.router import rule_for
from iris3d.store import dicom, users
from iris3d.store import jobs as job_rows
from iris3d.store.dicom import ReceiptState
from iris3d.store.models import TokenKind, utcnow

router = APIRouter(prefix="/dicom", tags=["dicom"])

_MAX_RECEIVE_TOKENS = 20


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Message, "description": "Too many receive tokens."}},
)
def create_receive_token(
    body: ReceiveTokenCreate, user: CurrentUser, services: ServicesDep
) -> TokenCreated:
    """A token a PACS sends studies to you with (STOW-RS at ``/dicom-web/studies``); it can do
    nothing else. Its secret is shown only in this answer; revoke it with
    ``DELETE /api/dicom/tokens/{id}``."""
    days = body.expires_in_days
    ttl_s = days * 86400.0 if days is not None else services.settings.api_token_ttl_s
    secret = new_token()
    with services.db.session() as session:
        if users.count_tokens(session, user.id, TokenKind.DICOM) >= _MAX_RECEIVE_TOKENS:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"You have {_MAX_RECEIVE_TOKENS} receive tokens; revoke one you no longer use.",
            )
        row = users.add_token(session, user.id, token_hash(secret),
                              utcnow() + timedelta(seconds=ttl_s), kind=TokenKind.DICOM,
                              name=body.name)
        public = TokenPublic.model_validate(row)
    return TokenCreated(token=public, secret=secret)


@router.get("/tokens")
def list_receive_tokens(user: CurrentUser, services: ServicesDep) -> TokensPublic:
    with services.db.reader() as session:
        rows = users.list_tokens(session, user.id, utcnow())
    return TokensPublic(
        items=[TokenPublic.model_validate(r) for r in rows if r.kind == TokenKind.DICOM.value]
    )


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def revoke_receive_token(token_id: str, user: CurrentUser, services: ServicesDep) -> None:
    """The PACS using it is refused (401) from now on."""
    with services.db.session() as session:
        if not users.remove_token_by_id(session, user.id, token_id):
            raise not_found("token")


@router.get("/rule")
def get_rule(user: CurrentUser, services: ServicesDep) -> DicomRulePublic:
    """How studies a PACS sends you are processed (the defaults until you set one)."""
    rule = rule_for(services, user.id)
    return DicomRulePublic(quality=Quality(rule.quality), engine=EngineName(rule.engine),
                           destination=rule.destination)


@router.put("/rule", responses={422: {"model": Message}})
def set_rule(body: DicomRulePublic, user: CurrentUser, services: ServicesDep) -> DicomRulePublic:
    if body.engine is EngineName.IMPORT:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "A PACS sends no segmentation to import: choose another engine.")
    if (body.engine is EngineName.TOTALSEGMENTATOR
            and body.quality.value not in totalseg_qualities(services.settings)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"TotalSegmentator is not installed here for {body.quality.value!r} "
                            "quality; choose Automatic or the tissue engine.")
    if body.destination is not None:
        try:
            server_for(services, user, body.destination)
        except HTTPException as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "No such PACS server of yours: add it first (/api/pacs/servers)."
                                ) from e
    with services.db.session() as session:
        dicom.set_rule(session, user.id, quality=body.quality.value, engine=body.engine.value,
                       destination=body.destination)
    return body


@router.get("/receipts")
def list_receipts(
    user: CurrentUser,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReceiptsPublic:
    """Studies PACS sent you, newest first: processed, refused (with the reason), delivered."""
    with services.db.reader() as session:
        rows = dicom.list_receipts(session, user.id, offset=offset, limit=limit)
        return ReceiptsPublic(items=[ReceiptPublic.model_validate(r) for r in rows])


@router.post("/receipts/{receipt_id}/resend", responses={**NOT_FOUND, 409: {"model": Message}})
def resend(receipt_id: str, user: CurrentUser, services: ServicesDep) -> ReceiptPublic:
    """Send a finished job's results to the destination again (after the PACS was down)."""
    with services.db.session() as session:
        receipt = dicom.owned_receipt(session, user.id, receipt_id)
        if receipt is None:
            raise not_found("receipt")
        job = job_rows.job_by_id(session, receipt.job_id) if receipt.job_id else None
        sendable = (receipt.state == ReceiptState.FAILED.value and receipt.destination
                    and job is not None and job.state == JobState.DONE.value)
        if not sendable or not dicom.move_receipt(session, receipt.id, ReceiptState.FAILED,
                                                  ReceiptState.QUEUED):
            raise HTTPException(status.HTTP_409_CONFLICT,
                                "Only results of a finished job whose sending failed can be "
                                "sent again.")
        fresh = dicom.owned_receipt(session, user.id, receipt_id)
        return ReceiptPublic.model_validate(fresh)
