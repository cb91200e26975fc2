"""Run one claimed job: fetch the study, process it, store the results, then mark it done.

Results are stored under a prefix unique to the attempt before the row says ``done``, and the row
names them; so a reader sees all of a job's files or none, and an attempt that lost its claim
never mixes files with the attempt that replaced it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from iris3d.contracts import (
    ARTIFACT_FILES,
    COMPARISON_ENGINE,
    ArtifactName,
    EngineName,
    JobKind,
    JobState,
    Quality,
    keys,
)
from iris3d.errors import IrisError
from iris3d.ingest.isolated import FileCheck, check_in_fresh_processes, read_kept
from iris3d.ingest.limits import ReadLimits
from iris3d.ingest.sandbox import Limits
from iris3d.jobs.comparison import run_comparison
from iris3d.jobs.engines import EngineCache
from iris3d.jobs.errors import JobCancelledError, LeaseLostError, WorkerStoppingError
from iris3d.jobs.reporter import JobReporter, heartbeat
from iris3d.pipeline import COMPARISON_STAGES, STUDY_STAGES, ProcessOptions, process_study
from iris3d.scrub import scrub
from iris3d.settings import Settings
from iris3d.store import counters, queue
from iris3d.store.blobs import BlobStore
from iris3d.store.database import Database
from iris3d.store.queue import Claim

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600)
RELEASED = "released"  # given back untouched: the worker is stopping
LOST = "lost"  # the claim went to another worker (or the job was deleted)


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    engines: EngineCache
    worker_id: str
    stopping: threading.Event
    scratch: Path


def clean_scratch(scratch: Path) -> None:
    """Remove work folders left by workers of this machine that were killed mid-job."""
    for folder in scratch.glob("job-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Outcome:
    """What a job produced: its files and what the row should say about them."""

    files: dict[ArtifactName, Path]
    engine_used: str
    engine_reason: str
    timings: dict[str, Any]


def job_prefix(claim: Claim) -> str:
    """Where all of a job's files live, every attempt's."""
    if claim.kind == JobKind.COMPARISON:
        return keys.comparison_prefix(claim.job_id)
    return keys.study_job_prefix(claim.study_id, claim.job_id)


def results_prefix(claim: Claim) -> str:
    return keys.attempt_prefix(job_prefix(claim), claim.attempt)


def run_claimed(claim: Claim, ctx: WorkerContext) -> str:
    """Run the job to an end and say which: the state it ended in (``done``, ``failed``,
    ``cancelled``), :data:`RELEASED` or :data:`LOST`."""
    ctx.scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"job-{os.getpid()}-{claim.job_id}-", dir=ctx.scratch))
    comparing = claim.kind == JobKind.COMPARISON
    reporter = JobReporter(
        ctx.db,
        claim,
        ctx.settings.progress_interval_s,
        ctx.stopping,
        stages=COMPARISON_STAGES if comparing else STUDY_STAGES,
    )
    started = time.monotonic()
    try:
        with heartbeat(reporter, ctx.settings.worker_heartbeat_s):
            result = (_compare if comparing else _process)(claim, ctx, reporter, workdir)
            reporter.raise_if_stopped()
            return _store_results(claim, ctx, result, time.monotonic() - started)
    except JobCancelledError:
        return _end(ctx, claim, JobState.CANCELLED, lambda s: queue.finish_cancelled(s, claim))
    except WorkerStoppingError:
        return _end(ctx, claim, RELEASED, lambda s: queue.release(s, claim))
    except LeaseLostError:
        return LOST
    except IrisError as e:
        message = scrub(e, folders=[workdir])  # users need the problem, not our paths
        return _end(ctx, claim, JobState.FAILED, lambda s: queue.finish_failed(s, claim, message))
    except Exception as e:
        log.exception("job %s failed unexpectedly", claim.job_id)
        reason = f"Processing failed unexpectedly ({type(e).__name__}); the server log has details."
        return _end(ctx, claim, JobState.FAILED, lambda s: queue.finish_failed(s, claim, reason))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _compare(claim: Claim, ctx: WorkerContext, reporter: JobReporter, workdir: Path) -> Outcome:
    result = run_comparison(claim, ctx.db, ctx.blobs, reporter, workdir,
                            ReadLimits.from_settings(ctx.settings))
    timings = result.summary.get("timings_s")
    return Outcome(
        files=result.files,
        engine_used=COMPARISON_ENGINE,
        engine_reason="",
        timings=timings if isinstance(timings, dict) else {},
    )


def _process(claim: Claim, ctx: WorkerContext, reporter: JobReporter, workdir: Path) -> Outcome:
    source = workdir / claim.source_key.rsplit("/", 1)[-1]
    ctx.blobs.download(claim.source_key, source)
    kept = workdir / "study.read"
    checks = [FileCheck(source, claim.series_uid, keep=kept)]
    engine = EngineName(claim.engine)
    segmentation = None
    if engine is EngineName.IMPORT:
        if claim.segmentation_key is None:
            raise IrisError("engine 'import' needs a segmentation uploaded with the study")
        segmentation = workdir / claim.segmentation_key.rsplit("/", 1)[-1]
        ctx.blobs.download(claim.segmentation_key, segmentation)
        checks.append(FileCheck(segmentation, label_map=True))
    # Read first in limited children: a file that would exhaust memory or CPU fails this job
    # with a reason instead of taking the worker down.
    read, child = ReadLimits.from_settings(ctx.settings), Limits.from_settings(ctx.settings)
    check_in_fresh_processes(checks, read, child)
    options = ProcessOptions(
        quality=Quality(claim.quality),
        engine=engine,
        segmentation=segmentation,
        series_uid=claim.series_uid,
    )
    result = process_study(
        source,
        workdir / "out",
        limits=read,
        options=options,
        progress=reporter,
        engine=ctx.engines.get(engine),
        read=read_kept(kept),
    )
    engine_said = result.manifest.get("segmentation")
    described = engine_said if isinstance(engine_said, dict) else {}
    timings = result.manifest.get("timings_s")
    return Outcome(
        files=result.files,
        engine_used=str(described.get("engine") or claim.engine),
        engine_reason=str(described.get("reason") or ""),
        timings=timings if isinstance(timings, dict) else {},
    )


def _store_results(claim: Claim, ctx: WorkerContext, result: Outcome, seconds: float) -> str:
    prefix = results_prefix(claim)
    artifacts: dict[str, Any] = {}
    for name, path in sorted(result.files.items()):
        info = ctx.blobs.put_file(keys.result_key(prefix, path.name), path, move=True)
        artifacts[name.value] = {
            "key": info.key,
            "filename": path.name,
            "size": info.size,
            "etag": info.etag,
            "media_type": ARTIFACT_FILES[name].media_type,
        }
    stage_timings = result.timings
    with ctx.db.session() as session:
        done = queue.finish_done(
            session,
            claim,
            artifacts=artifacts,
            engine_used=result.engine_used,
            engine_reason=result.engine_reason,
            timings=stage_timings,
            duration_s=seconds,
        )
        if done:
            for stage, value in stage_timings.items():
                counters.observe(
                    session, "iris_stage_duration_seconds", str(stage), float(value), STAGE_BUCKETS
                )
    if not done:
        ctx.blobs.delete_prefix(prefix)
        return LOST
    for attempt in range(1, claim.attempt):  # files of attempts that died before finishing
        ctx.blobs.delete_prefix(keys.attempt_prefix(job_prefix(claim), attempt))
    return JobState.DONE


def _end(ctx: WorkerContext, claim: Claim, outcome: str, write: Callable[[Session], bool]) -> str:
    with ctx.db.session() as session:
        held = bool(write(session))
    return outcome if held else LOST
