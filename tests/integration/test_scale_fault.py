"""Spot-safety on the scaled-out stack: the API, two Celery worker processes, PostgreSQL, Redis and
SeaweedFS. One worker vanishes (its whole process group SIGKILLed, as when a spot machine is
reclaimed) in the middle of a job and the API is killed and restarted; every job still completes
exactly once with all its files, and a second restart of the API loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live_server import LiveService, iris_command, wait_for
from tests.support.scale import postgres_database, redis_url, seaweedfs, stored_keys
from tests.support.service import ARTIFACTS
from tests.support.waiting import wait_for as wait_for_condition

from iris3d.jobs.celery_executor import CeleryExecutor
from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.settings import Settings

pytestmark = pytest.mark.slow

JOBS = 10


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LiveService]:
    with ExitStack() as stack:
        env = dict(stack.enter_context(seaweedfs(tmp_path / "s3")))
        env["IRIS_DATABASE_URL"] = stack.enter_context(postgres_database())
        env["IRIS_QUEUE_URL"] = redis_url()
        env["IRIS_WORKER_QUEUES"] = "cpu"
        live = LiveService(tmp_path / "data", workers=0, **env)
        live.start()
        stack.callback(live.stop)
        yield live


def _worker(live: LiveService) -> subprocess.Popen[bytes]:
    """An ``iris worker`` in its own process group: a machine of its own, as far as signals go."""
    with live.log.open("ab") as log:
        process = subprocess.Popen(
            iris_command("worker"), env=live.env, stdout=log, stderr=log, start_new_session=True
        )
    live.extra_workers.append(process)
    return process


def _deliver_again(live: LiveService, job_id: str) -> None:
    settings = Settings(
        data_dir=live.data_dir,
        database_url=live.env["IRIS_DATABASE_URL"],
        queue_url=live.env["IRIS_QUEUE_URL"],
    )
    executor = CeleryExecutor(settings)
    before = _nothing_to_do(live, job_id)
    executor.submit(job_id)
    executor.submit(job_id)
    wait_for_condition(
        lambda: sum(executor.queue_depths().values()) == 0, what="the broker's queues empty"
    )
    # Taking a message off the queue is not the end of its run: each run ends with this line.
    wait_for_condition(
        lambda: _nothing_to_do(live, job_id) >= before + 2, what="both deliveries handled"
    )


def _nothing_to_do(live: LiveService, job_id: str) -> int:
    """How many deliveries of ``job_id`` found it done, from the workers' log."""
    return live.log_tail(2**30).count(f"job {job_id} is done: nothing to do")


def _restart_api(live: LiveService) -> None:
    assert live.server is not None
    live.server.send_signal(signal.SIGKILL)
    live.server.wait()
    live.start()  # the same database, store, broker and port


def _running_on(http: httpx.Client, job_ids: list[str]) -> list[dict[str, Any]]:
    jobs = [http.get(f"/api/jobs/{j}").json() for j in job_ids]
    return [j for j in jobs if j["state"] == "running"]


def test_a_vanished_worker_costs_a_retry_never_a_lost_or_doubled_job(
    stack: LiveService, tmp_path: Path
) -> None:
    # ~1-2 s per job here: long enough to catch a worker in the middle of one.
    phantom = make_phantom(shape=(64, 56, 32), spacing=(6.0, 6.0, 6.0))
    content = write_nifti(phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
    with stack.explained():
        token = stack.sign_up("spot@example.org")
        with stack.client(token) as http:
            job_ids: list[str] = []
            for _ in range(JOBS):
                files = [("files", ("ct.nii.gz", content, "application/octet-stream"))]
                study = http.post("/api/studies", files=files).json()
                body = {"study_id": study["id"], "quality": "fast", "engine": "tissue"}
                job_ids.append(http.post("/api/jobs", json=body).json()["id"])
            doomed, survivor = _worker(stack), _worker(stack)
            # Each worker holds one job at a time: two running means the doomed one holds one.
            wait_for_condition(
                lambda: len(_running_on(http, job_ids)) >= 2,
                what="both workers running a job",
                timeout=120,
                interval=0.05,
            )
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
            killed_at = time.monotonic()
            _restart_api(stack)  # while jobs wait and run: nothing is lost
            finished = [wait_for(http, j, {"done", "failed"}, timeout_s=240) for j in job_ids]
            assert survivor.poll() is None
            assert all(j["state"] == "done" for j in finished), finished
            retried = [j for j in finished if j["attempts"] > 1]
            assert retried, "no job was caught mid-run (the kill came too late)"
            assert all(j["attempts"] == 2 for j in retried), retried
            print(f"\n{len(retried)} job(s) retried; all done {time.monotonic() - killed_at:.1f} s")
            for job in finished:
                # Exactly once: the files of one attempt, all of them, and nothing else.
                prefix = f"studies/{job['study_id']}/jobs/{job['id']}"
                keys = stored_keys(stack.env, stack.data_dir, prefix)
                wanted = {f"{prefix}/a{job['attempts']}/{a['filename']}" for a in job["artifacts"]}
                assert set(keys) == wanted, (job["id"], keys)
                assert {a["name"] for a in job["artifacts"]} == ARTIFACTS
            # A message delivered again (a redelivery, a resend) finds the job done: no new run.
            _deliver_again(stack, job_ids[0])
            after = http.get(f"/api/jobs/{job_ids[0]}").json()
            unchanged = ("state", "attempts", "artifacts", "finished_at")
            assert {k: after.get(k) for k in unchanged} == {
                k: finished[0].get(k) for k in unchanged
            }
        _restart_api(stack)
        with stack.client(token) as http:
            again = [http.get(f"/api/jobs/{j}").json() for j in job_ids]
            assert [(j["state"], j["attempts"]) for j in again] == [
                (j["state"], j["attempts"]) for j in finished
            ]
            glb = next(a for a in again[0]["artifacts"] if a["name"] == "glb")
            assert http.get(glb["url"]).content[:4] == b"glTF"
            assert len(http.get("/api/studies").json()["items"]) == JOBS
