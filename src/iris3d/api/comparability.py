"""Whether two processed studies can be compared at all, decided before a comparison is queued
(or queued again): a pair that shares no structure would only fail in the worker, and a Retry
would fail the same way."""

from __future__ import annotations

import json
from typing import Any

from iris3d.api.services import Services
from iris3d.contracts import ArtifactName
from iris3d.store import jobs as job_rows
from iris3d.store.models import Job, Study

# statistics.json of a whole-body study is tens of kB; anything far larger is not ours to parse.
_MAX_STATISTICS_BYTES = 16 * 1024 * 1024


def measured_structures(services: Services, job: Job) -> set[str] | None:
    """The structures ``job`` measured (its ``statistics.json``); None when it has none."""
    record: Any = (job.artifacts or {}).get(ArtifactName.STATISTICS_JSON.value)
    if not isinstance(record, dict) or "key" not in record:
        return None
    data = bytearray()
    for chunk in services.blobs.read(str(record["key"])):
        data += chunk
        if len(data) > _MAX_STATISTICS_BYTES:
            return None
    try:
        rows = json.loads(bytes(data)).get("structures", [])
    except (ValueError, AttributeError):
        return None
    return {str(row["name"]) for row in rows if isinstance(row, dict) and "name" in row}


def no_shared_structure(services: Services, names: tuple[str, str], jobs: tuple[Job, Job]) -> str:
    """Why the two studies cannot be compared structure by structure ("" when they can)."""
    base, follow = (measured_structures(services, job) for job in jobs)
    if base is None or follow is None or base & follow:
        return ""  # unknown: the worker decides, and says why if it cannot
    return (f"'{names[0]}' and '{names[1]}' have no structure in common (their segmentations "
            "name different structures, for example one from the built-in tissue engine and "
            "one from TotalSegmentator or your own labels): compare two studies segmented the "
            "same way.")


def retry_refusal(services: Services, comparison: Job) -> str:
    """Why retrying this comparison would fail the same way ("" when it might not)."""
    ids = comparison.inputs or {}
    with services.db.reader() as session:
        base = job_rows.job_by_id(session, str(ids.get("base_job_id", "")))
        follow = job_rows.job_by_id(session, str(ids.get("follow_job_id", "")))
        if base is None or follow is None:
            return "One of the two studies' results is gone: start a new comparison."
        names = (getattr(session.get(Study, base.study_id), "name", ""),
                 getattr(session.get(Study, follow.study_id), "name", ""))
    return no_shared_structure(services, names, (base, follow))
