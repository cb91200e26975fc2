"""Rows to API schemas."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from iris3d.api.schemas import (
    ArtifactPublic,
    ComparisonPublic,
    ComparisonSide,
    JobPublic,
    SeriesPublic,
    StudyPublic,
)
from iris3d.contracts import ArtifactName, EngineName, JobKind, JobStage, JobState, Quality, Stage
from iris3d.jobs.eta import EtaCalculator
from iris3d.store import jobs as job_rows
from iris3d.store.models import Job, Study

_STAGES = frozenset(Stage)  # timings of any other name (none are written) are not shown


def artifact_url(job_id: str, name: ArtifactName) -> str:
    return f"/api/jobs/{job_id}/artifacts/{name}"


def job_stage(job: Job) -> JobStage:
    if job.state == JobState.RUNNING:
        return JobStage(job.stage or Stage.INGEST)
    return JobStage(job.state)


def job_public(session: Session, job: Job, eta: EtaCalculator) -> JobPublic:
    done = job.state == JobState.DONE
    artifacts: dict[str, Any] = job.artifacts if done else {}
    study_kind = job.kind == JobKind.STUDY
    return JobPublic(
        id=job.id,
        kind=job.kind,
        study_id=job.study_id,
        state=job.state,
        stage=job_stage(job),
        percent=round(100.0 * job.progress, 1),
        message=job.message,
        queue_position=job_rows.queue_position(session, job),
        eta_seconds=_rounded(eta.eta_seconds(job)),
        quality=Quality(job.quality) if study_kind else None,
        engine=EngineName(job.engine) if study_kind else None,
        engine_used=job.engine_used,
        engine_reason=job.engine_reason,
        error=job.error,
        cancel_requested=job.cancel_requested,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        series_uid=job.series_uid,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        duration_s=job.duration_s,
        timings_s={Stage(k): float(v) for k, v in (job.timings or {}).items() if k in _STAGES},
        artifacts=[_artifact(job.id, ArtifactName(name), record)
                   for name, record in sorted(artifacts.items())],
    )


def _artifact(job_id: str, name: ArtifactName, record: dict[str, Any]) -> ArtifactPublic:
    return ArtifactPublic(
        name=name,
        filename=str(record["filename"]),
        size=int(record["size"]),
        media_type=str(record["media_type"]),
        url=artifact_url(job_id, name),
    )


def study_public(
    session: Session, study: Study, latest: Job | None, eta: EtaCalculator
) -> StudyPublic:
    has_thumbnail = (
        latest is not None
        and latest.state == JobState.DONE
        and ArtifactName.THUMBNAIL in latest.artifacts
    )
    return StudyPublic(
        id=study.id,
        name=study.name,
        labels=list(study.labels),
        source_format=study.source_format,
        source_bytes=study.source_bytes,
        shape=list(study.shape),
        spacing_mm=list(study.spacing_mm),
        study_metadata=dict(study.study_metadata),
        series=[SeriesPublic(**s) for s in study.series],
        has_segmentation=study.segmentation_key is not None,
        created_at=study.created_at,
        updated_at=study.updated_at,
        latest_job=None if latest is None else job_public(session, latest, eta),
        thumbnail_url=f"/api/studies/{study.id}/thumbnail" if has_thumbnail else None,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def comparison_public(
    session: Session, job: Job, study_names: dict[str, str], eta: EtaCalculator
) -> ComparisonPublic:
    """``study_names``: id -> name of (at least) the comparison's two studies."""
    inputs = job.inputs or {}

    def side(study_id: str, job_id: str) -> ComparisonSide:
        return ComparisonSide(
            study_id=study_id,
            study_name=study_names.get(study_id, ""),
            job_id=job_id,
            glb_url=artifact_url(job_id, ArtifactName.GLB),
        )

    return ComparisonPublic(
        id=job.id,
        base=side(job.study_id, str(inputs.get("base_job_id", ""))),
        follow=side(str(job.follow_study_id), str(inputs.get("follow_job_id", ""))),
        affine=bool(inputs.get("affine", False)),
        job=job_public(session, job, eta),
        created_at=job.created_at,
    )
