"""Comparisons of two of a user's studies: create, list, read, delete.

A comparison is a job: its progress streams from ``/api/jobs/{id}/events``, it is cancelled and
retried there, and its files (``comparison_json``, ``comparison_csv``, ``comparison_glb``) are
downloaded from ``/api/jobs/{id}/artifacts/{name}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from iris3d.api.comparability import no_shared_structure
from iris3d.api.deps import NOT_FOUND, CurrentUser, ServicesDep, not_found
from iris3d.api.present import comparison_public
from iris3d.api.quotas import check_new_job
from iris3d.api.schemas import ComparisonCreate, ComparisonPublic, ComparisonsPublic, Message
from iris3d.api.services import Services
from iris3d.contracts import keys
from iris3d.store import comparisons, studies
from iris3d.store.models import Job, Study

router = APIRouter(prefix="/comparisons", tags=["comparisons"])


def _present(services: Services, rows: list[Job]) -> list[ComparisonPublic]:
    with services.db.reader() as session:
        ids = {job.study_id for job in rows} | {str(job.follow_study_id) for job in rows}
        names = {i: s.name for i, s in comparisons.studies_by_id(session, sorted(ids)).items()}
        eta = services.eta.calculator(session)
        return [comparison_public(session, job, names, eta) for job in rows]


def _owned(services: Services, user_id: str, comparison_id: str) -> Job:
    with services.db.reader() as session:
        job = comparisons.owned_comparison(session, user_id, comparison_id)
    if job is None:
        raise not_found("comparison")
    return job


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def _results(session_study: Study | None, which: str, job: Job | None) -> tuple[Study, Job]:
    if session_study is None:
        raise not_found(f"{which} study")
    if job is None:
        raise _unprocessable(
            f"Study '{session_study.name}' has no finished results yet: process it first."
        )
    problem = comparisons.not_comparable(job.artifacts or {})
    if problem:
        raise _unprocessable(f"Study '{session_study.name}' {problem}")
    return session_study, job


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **NOT_FOUND,
        403: {"model": Message, "description": "A quota is reached."},
        422: {"model": Message},
    },
)
def create_comparison(
    body: ComparisonCreate, user: CurrentUser, services: ServicesDep
) -> ComparisonPublic:
    """Queue a comparison of two of your processed studies: the later one is aligned to the
    earlier one and every structure is compared."""
    if body.base_study_id == body.follow_study_id:
        raise _unprocessable("Choose two different studies to compare.")
    with services.db.session() as session:
        check_new_job(session, user, services.settings)
        sides = []
        for which, study_id in (("earlier", body.base_study_id), ("later", body.follow_study_id)):
            study = studies.owned_study(session, user.id, study_id)
            latest = None if study is None else comparisons.latest_done_job(session, study.id)
            sides.append(_results(study, which, latest))
        problem = no_shared_structure(services, (sides[0][0].name, sides[1][0].name),
                                      (sides[0][1], sides[1][1]))
        if problem:
            raise _unprocessable(problem)
        job = comparisons.add_comparison(
            session,
            sides[0],
            sides[1],
            affine=body.affine,
            max_attempts=services.settings.job_max_attempts,
        )
    services.executor.submit(job.id)
    return _present(services, [job])[0]


@router.get("")
def list_comparisons(
    user: CurrentUser,
    services: ServicesDep,
    study_id: Annotated[str | None, Query(description="Only those this study is in.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ComparisonsPublic:
    """Your comparisons, newest first."""
    with services.db.reader() as session:
        rows = comparisons.list_comparisons(session, user.id, study_id=study_id, limit=limit)
    return ComparisonsPublic(items=_present(services, rows))


@router.get("/{comparison_id}", responses=NOT_FOUND)
def get_comparison(
    comparison_id: str, user: CurrentUser, services: ServicesDep
) -> ComparisonPublic:
    return _present(services, [_owned(services, user.id, comparison_id)])[0]


@router.delete("/{comparison_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_comparison(comparison_id: str, user: CurrentUser, services: ServicesDep) -> None:
    """Delete the comparison and its files (a running one is stopped)."""
    job = _owned(services, user.id, comparison_id)
    with services.db.session() as session:
        comparisons.remove_comparison(session, job.id)
    services.blobs.delete_prefix(keys.comparison_prefix(job.id))
