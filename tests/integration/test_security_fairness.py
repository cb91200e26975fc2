"""Fair queueing on a real ``iris serve`` with one worker, on the database queue and on Celery
(Redis): one user's backlog does not make another user's single study wait behind all of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live_server import LiveService, wait_for
from tests.support.scale import postgres_database, redis_url

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti

pytestmark = pytest.mark.slow
BACKLOG = 3


@pytest.fixture(params=["database", "celery"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveService]:
    with ExitStack() as stack:
        env: dict[str, str] = {}
        if request.param == "celery":
            env["IRIS_DATABASE_URL"] = stack.enter_context(postgres_database())
            env["IRIS_QUEUE_URL"] = redis_url()
        live = LiveService(tmp_path / "data", workers=0, **env)
        live.start()
        stack.callback(live.stop)
        yield live


def _queue(http: httpx.Client, study_file: Path, count: int) -> list[str]:
    files = [("files", ("ct.nii.gz", study_file.read_bytes(), "application/gzip"))]
    study = http.post("/api/studies", files=files)
    assert study.status_code == 201, study.text
    body = {"study_id": study.json()["id"], "quality": "fastest", "engine": "tissue"}
    jobs = [http.post("/api/jobs", json=body) for _ in range(count)]
    assert all(j.status_code == 201 for j in jobs), [j.text for j in jobs]
    return [j.json()["id"] for j in jobs]


def _started(http: httpx.Client, job_id: str) -> Any:
    return wait_for(http, job_id, {"done"}, timeout_s=180)["started_at"]


def test_a_single_study_waits_behind_one_job_of_anothers_backlog(
    service: LiveService, tmp_path: Path
) -> None:
    phantom = make_phantom(shape=(32, 28, 24), spacing=(8.0, 8.0, 8.0))
    study_file = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    with (
        service.client(service.sign_up("ann@example.org")) as ann,
        service.client(service.sign_up("bob@example.org")) as bob,
        service.explained(),
    ):
        backlog = _queue(ann, study_file, BACKLOG)
        (single,) = _queue(bob, study_file, 1)
        service.start_worker()  # everything is queued, Ann's backlog first
        starts = {job_id: _started(ann, job_id) for job_id in backlog}
        bob_start = _started(bob, single)
        ahead = [job_id for job_id, start in starts.items() if start < bob_start]
        # One worker: Bob's job is taken second at the latest.
        assert len(ahead) <= 1, (ahead, starts, bob_start)
