"""A comparison job's body: fetch both studies' results, then compare them."""

from __future__ import annotations

from pathlib import Path

from iris3d.contracts import COMPARISON_INPUTS, ResultsFolder
from iris3d.errors import IrisError
from iris3d.pipeline import ComparisonResult, ProgressSink, compare_studies
from iris3d.store import comparisons, queue
from iris3d.store.blobs import BlobStore
from iris3d.store.database import Database
from iris3d.store.queue import Claim


class ComparisonInputError(IrisError):
    """A study's results are gone or incomplete (it was reprocessed or deleted meanwhile)."""


def run_comparison(
    claim: Claim, db: Database, blobs: BlobStore, progress: ProgressSink, workdir: Path
) -> ComparisonResult:
    base = _fetch(claim.inputs["base_job_id"], "earlier", db, blobs, workdir / "base")
    follow = _fetch(claim.inputs["follow_job_id"], "later", db, blobs, workdir / "follow")
    return compare_studies(
        base, follow, workdir / "out", affine=bool(claim.inputs.get("affine")), progress=progress
    )


def _fetch(job_id: str, which: str, db: Database, blobs: BlobStore, folder: Path) -> Path:
    with db.reader() as session:
        artifacts = queue.finished_artifacts(session, job_id)
    if artifacts is None:
        raise ComparisonInputError(
            f"The {which} study's results are no longer available (it was reprocessed or "
            "deleted); start a new comparison."
        )
    problem = comparisons.not_comparable(artifacts)
    if problem:
        raise ComparisonInputError(f"The {which} study {problem}")
    folder.mkdir(parents=True, exist_ok=True)
    study = ResultsFolder(folder)
    for name in COMPARISON_INPUTS:
        blobs.download(str(artifacts[name]["key"]), study.file(name))
    return folder
