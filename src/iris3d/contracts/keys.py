"""Where things live in the blob store (a local folder or an S3 bucket): the one key layout.

studies/<study>/source/<file>             the upload (or PACS retrieval), de-identified
studies/<study>/segmentation/<file>       a segmentation the user brought
studies/<study>/jobs/<job>/a<attempt>/…   one attempt's results
comparisons/<job>/a<attempt>/…            a comparison's results
"""

from __future__ import annotations


def study_prefix(study_id: str) -> str:
    """Everything of one study (deleted with it)."""
    return f"studies/{study_id}"


def source_key(study_id: str, filename: str) -> str:
    return f"{study_prefix(study_id)}/source/{filename}"


def segmentation_prefix(study_id: str) -> str:
    return f"{study_prefix(study_id)}/segmentation"


def segmentation_key(study_id: str, suffix: str) -> str:
    """The user's own segmentation; ``suffix`` is its file type (``.nii.gz``, ``.dcm``...)."""
    return f"{segmentation_prefix(study_id)}/segmentation{suffix}"


def study_job_prefix(study_id: str, job_id: str) -> str:
    """Every attempt's files of one processing job."""
    return f"{study_prefix(study_id)}/jobs/{job_id}"


def comparison_prefix(job_id: str) -> str:
    """Every attempt's files of one comparison job."""
    return f"comparisons/{job_id}"


def attempt_prefix(job_prefix: str, attempt: int) -> str:
    """One attempt's results under a job's prefix."""
    return f"{job_prefix}/a{attempt}"


def result_key(attempt_prefix: str, filename: str) -> str:
    """One result file of an attempt (``filename`` as ``ARTIFACT_FILES`` names it)."""
    return f"{attempt_prefix}/{filename}"
