"""What happens to a received study: quiet studies become stored studies and queued jobs by
their owner's rule; finished jobs' DICOM results go to the owner's destination.

Every outcome is a receipt the owner can read (``GET /api/dicom/receipts``), with the reason
when nothing could be processed or sent: a refusal leaves no study, so the receipt carries it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fastapi import HTTPException

from iris3d.api.intake import store_study
from iris3d.api.quotas import check_new_job, check_new_study
from iris3d.api.services import Services
from iris3d.contracts import ArtifactName, EngineName, JobState, Quality
from iris3d.errors import IrisError
from iris3d.receiver.inbox import ClaimedStudy, Inbox
from iris3d.store import dicom, users
from iris3d.store import jobs as job_rows
from iris3d.store.dicom import ReceiptState
from iris3d.store.models import DicomReceipt, Job

log = logging.getLogger(__name__)

RESULT_ARTIFACTS = (ArtifactName.DICOM_SEG, ArtifactName.DICOM_SR)


@dataclass(frozen=True)
class Rule:
    quality: str = Quality.FAST.value
    engine: str = EngineName.AUTO.value
    destination: str | None = None


class ResultSender(Protocol):
    """Sends DICOM files to one of the owner's PACS servers (STOW-RS); raises an IrisError
    whose message tells the owner what went wrong."""

    def send(self, owner_id: str, destination: str, files: list[Path]) -> None: ...


def open_inbox(services: Services) -> Inbox:
    settings = services.settings
    return Inbox(
        settings.data_dir / "dicom-inbox",
        max_study_bytes=settings.max_upload_bytes,
        max_owner_bytes=settings.quota_upload_bytes,
        max_study_instances=settings.max_archive_members,
    )


def rule_for(services: Services, owner_id: str) -> Rule:
    with services.db.reader() as session:
        row = dicom.rule_of(session, owner_id)
    if row is None:
        return Rule()
    return Rule(row.quality, row.engine, row.destination)


def process_quiet(services: Services, inbox: Inbox) -> list[DicomReceipt]:
    """Claim every quiet study and process it; one receipt each."""
    receipts: list[DicomReceipt] = []
    for claimed in inbox.claim_quiet(services.settings.dicom_quiet_seconds):
        try:
            receipts.append(process_claimed(services, claimed))
        except IrisError as e:
            log.warning("a received study was dropped: %s", e)
        finally:
            shutil.rmtree(claimed.folder, ignore_errors=True)
    return receipts


def process_claimed(services: Services, claimed: ClaimedStudy) -> DicomReceipt:
    rule = rule_for(services, claimed.owner_id)
    with services.db.reader() as session:
        user = users.user_by_id(session, claimed.owner_id)
    if user is None or user.disabled:
        raise IrisError("the account that was sent this study is gone or disabled")
    # A private folder: the intake packs the series beside it.
    staging = Path(tempfile.mkdtemp(prefix="received-", dir=services.upload_dir))
    try:
        source = staging / "dicom"
        claimed.folder.rename(source)
        check_new_study(user, services, claimed.size)
        with services.ingest_slots:
            study = store_study(db=services.db, blobs=services.blobs, settings=services.settings,
                                owner_id=user.id, source=source, name="", series_uid=None)
    except (IrisError, HTTPException) as e:
        return _refused(services, claimed, _reason(e))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        with services.db.session() as session:
            check_new_job(session, user, services.settings)
            job = job_rows.add_job(session, study, quality=rule.quality, engine=rule.engine,
                                   series_uid=None, max_attempts=services.settings.job_max_attempts)
            receipt = dicom.add_receipt(session, user.id, instances=claimed.instances,
                                        size=claimed.size, state=ReceiptState.QUEUED,
                                        study_id=study.id, job_id=job.id,
                                        destination=rule.destination)
    except HTTPException as e:
        return _refused(services, claimed, f"kept as a study, not processed: {_reason(e)}",
                        study_id=study.id)
    services.executor.submit(job.id)
    return receipt


def _reason(error: Exception) -> str:
    return str(error.detail) if isinstance(error, HTTPException) else str(error)


def _refused(
    services: Services, claimed: ClaimedStudy, reason: str, study_id: str | None = None
) -> DicomReceipt:
    with services.db.session() as session:
        return dicom.add_receipt(session, claimed.owner_id, instances=claimed.instances,
                                 size=claimed.size, state=ReceiptState.REFUSED, reason=reason,
                                 study_id=study_id)


def deliver_finished(services: Services, sender: ResultSender | None) -> None:
    """Look at every receipt whose job was running; send the finished ones' results."""
    with services.db.reader() as session:
        waiting = [(r, job_rows.job_by_id(session, r.job_id) if r.job_id else None)
                   for r in dicom.waiting_receipts(session)]
    for receipt, job in waiting:
        if job is not None and job.state not in (s.value for s in (JobState.DONE,
                                                                  JobState.FAILED,
                                                                  JobState.CANCELLED)):
            continue
        after, reason = _outcome(job, receipt)
        if after is not ReceiptState.DELIVERING:
            _move(services, receipt, ReceiptState.QUEUED, after, reason)
        elif _move(services, receipt, ReceiptState.QUEUED, after, ""):
            _deliver(services, sender, receipt, job)


def _outcome(job: Job | None, receipt: DicomReceipt) -> tuple[ReceiptState, str]:
    if job is None:
        return ReceiptState.FAILED, "the study or its job was deleted before it finished"
    if job.state == JobState.CANCELLED.value:
        return ReceiptState.FAILED, "the job was cancelled"
    if job.state != JobState.DONE.value:
        return ReceiptState.FAILED, f"the job failed: {job.error or 'no reason given'}"
    if receipt.destination is None:
        return ReceiptState.PROCESSED, ""
    if not any(name.value in job.artifacts for name in RESULT_ARTIFACTS):
        return ReceiptState.PROCESSED, "the job made no DICOM results (DICOM-SEG, SR) to send"
    return ReceiptState.DELIVERING, ""


def _move(
    services: Services, receipt: DicomReceipt, before: ReceiptState, after: ReceiptState,
    reason: str,
) -> bool:
    with services.db.session() as session:
        return dicom.move_receipt(session, receipt.id, before, after, reason)


def _deliver(
    services: Services, sender: ResultSender | None, receipt: DicomReceipt, job: Job | None
) -> None:
    assert job is not None and receipt.destination is not None
    if sender is None:
        _move(services, receipt, ReceiptState.DELIVERING, ReceiptState.FAILED,
              "this server cannot send results to a PACS (no DICOMweb client configured)")
        return
    folder = Path(tempfile.mkdtemp(prefix="results-", dir=services.upload_dir))
    try:
        files = []
        for name in RESULT_ARTIFACTS:
            record = job.artifacts.get(name.value)
            if record is not None:
                path = folder / f"{name.value}.dcm"
                services.blobs.download(str(record["key"]), path)
                files.append(path)
        sender.send(receipt.owner_id, receipt.destination, files)
    except IrisError as e:
        _move(services, receipt, ReceiptState.DELIVERING, ReceiptState.FAILED,
              f"the results could not be sent: {e}")
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _move(services, receipt, ReceiptState.DELIVERING, ReceiptState.DELIVERED, "")


def sweep(services: Services, inbox: Inbox, sender: ResultSender | None) -> None:
    """One round: quiet studies in, finished results out, abandoned receptions away."""
    for receipt in process_quiet(services, inbox):
        log.info("received study: receipt %s %s", receipt.id, receipt.state)
    deliver_finished(services, sender)
    inbox.sweep_incoming(older_than_s=3600.0)
