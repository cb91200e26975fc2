"""Sending results to a PACS when their job finishes, for series pulled with ``send_results``.

The API, not the worker, sends: it is the process that holds the PACS servers' credentials and
talks to PACS, and workers may run where no PACS can be reached. A loop in each API process
looks for finished jobs with a pending send every IRIS_PACS_SEND_INTERVAL_S seconds; a claim
in the database makes sure one process sends each job's results once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import anyio
from fastapi import HTTPException

from iris3d.api.pacs import send_job_results, server_for
from iris3d.api.services import Services
from iris3d.contracts import JobState
from iris3d.errors import IrisError
from iris3d.store import pacs_sends
from iris3d.store.models import Job, PacsSendState, User, utcnow

log = logging.getLogger(__name__)

STALE_TIMEOUTS = 20
"""A send is abandoned when it has been "sending" for this many PACS timeouts (10 min)."""


def send_due(services: Services) -> int:
    """Send the results of every job that finished since the last round; how many were tried."""
    # A send still "sending" after this long was abandoned (its process stopped).
    stale_before = utcnow() - timedelta(seconds=STALE_TIMEOUTS * services.settings.pacs_timeout_s)
    with services.db.reader() as session:
        due = pacs_sends.due_sends(session, stale_before)
    for job_id in due:
        _send_one(services, job_id, stale_before)
    return len(due)


def _send_one(services: Services, job_id: str, stale_before: datetime) -> None:
    with services.db.session() as session:
        send = pacs_sends.claim(session, job_id, stale_before)
        if send is None:
            return  # another API process has it
        job, user = session.get(Job, job_id), session.get(User, send.owner_id)
        server_id = send.server_id
    state, detail = _attempt(services, job, user, server_id)
    with services.db.session() as session:
        pacs_sends.finish(session, job_id, state, detail)
    # Ids and Iris's own messages only: they name servers, never a patient.
    log.info("results of job %s to PACS server %s: %s (%s)", job_id, server_id, state.value,
             detail)


def _attempt(
    services: Services, job: Job | None, user: User | None, server_id: str
) -> tuple[PacsSendState, str]:
    if job is None or user is None:
        return PacsSendState.SKIPPED, "The job or its owner was removed."
    if job.state != JobState.DONE.value:
        return PacsSendState.SKIPPED, f"The job ended {job.state}: there are no results to send."
    try:
        server = server_for(services, user, server_id)
        sent = send_job_results(services, server, job)
    except HTTPException as e:
        if e.status_code == 404:
            return PacsSendState.FAILED, "The PACS server was removed before the job finished."
        return PacsSendState.SKIPPED, str(e.detail)
    except IrisError as e:
        return PacsSendState.FAILED, str(e)
    except Exception as e:  # never left "sending"; the type only, as its text may quote a header
        log.error("sending the results of job %s failed: %s", job.id, type(e).__name__)
        return PacsSendState.FAILED, "Iris could not send the results (see the server's log)."
    plural = "" if sent.instances == 1 else "s"
    return PacsSendState.SENT, f"The PACS stored {sent.instances} instance{plural}."


async def run_auto_send(services: Services) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(send_due, services)
        except Exception:  # the next round tries again; the API keeps serving
            log.exception("sending results to a PACS failed")
        await anyio.sleep(services.settings.pacs_send_interval_s)
