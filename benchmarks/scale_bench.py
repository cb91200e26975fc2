"""Scale-out throughput: jobs per minute with 1 and then 2 Celery workers, on the scaled-out stack
(API + PostgreSQL + Redis + SeaweedFS S3), tissue engine on phantoms. The 1-worker figure is the
baseline; the ratio shows whether adding a worker adds throughput (on a 2-core machine the API,
the servers and the workers share the cores, so expect less than 2x).

    .venv/bin/python benchmarks/scale_bench.py [--jobs 12]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live_server import LiveService, iris_command, wait_for
from tests.support.scale import postgres_database, redis_url, seaweedfs

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti


def _jobs_per_minute(
    live: LiveService, token: str, content: bytes, jobs: int, workers: int
) -> float:
    processes = []
    with live.log.open("ab") as log:
        for _ in range(workers):
            command = iris_command("worker")
            processes.append(subprocess.Popen(command, env=live.env, stdout=log, stderr=log))
    try:
        with live.client(token) as http:
            warm = _submit(http, content, 1)  # every worker is up and its engine made
            for job_id in warm:
                wait_for(http, job_id, {"done"}, timeout_s=300)
            time.sleep(2.0)
            started = time.monotonic()
            job_ids = _submit(http, content, jobs)
            for job_id in job_ids:
                job = wait_for(http, job_id, {"done", "failed"}, timeout_s=600)
                assert job["state"] == "done", job
            return jobs / (time.monotonic() - started) * 60
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)


def _submit(http, content: bytes, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for _ in range(n):
        files = [("files", ("ct.nii.gz", content, "application/octet-stream"))]
        study = http.post("/api/studies", files=files).json()
        body = {"study_id": study["id"], "quality": "fast", "engine": "tissue"}
        ids.append(http.post("/api/jobs", json=body).json()["id"])
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=12)
    args = parser.parse_args()
    phantom = make_phantom(shape=(64, 56, 32), spacing=(6.0, 6.0, 6.0))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        content = write_nifti(phantom.ct, Path(tmp) / "ct.nii.gz").read_bytes()
        env = dict(stack.enter_context(seaweedfs(Path(tmp) / "s3")))
        env["IRIS_DATABASE_URL"] = stack.enter_context(postgres_database())
        env["IRIS_QUEUE_URL"] = redis_url()
        live = LiveService(Path(tmp) / "data", workers=0, **env)
        live.start()
        stack.callback(live.stop)
        token = live.sign_up("bench@example.org")
        one = _jobs_per_minute(live, token, content, args.jobs, 1)
        two = _jobs_per_minute(live, token, content, args.jobs, 2)
    print(f"jobs of a {phantom.ct.array.shape} phantom, tissue engine, {args.jobs} per run")
    print(f"1 Celery worker : {one:6.1f} jobs/minute (baseline)")
    print(f"2 Celery workers: {two:6.1f} jobs/minute ({two / one:.2f}x)")


if __name__ == "__main__":
    main()
