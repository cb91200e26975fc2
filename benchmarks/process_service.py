"""Case d of ``process_bench.py``: one study through a real ``iris serve`` with a warm worker.

Timed from the first byte of the upload to the job's artifact list: upload the CT, attach the
label map, start an ``import`` job, poll its state every 50 ms until ``done``, list its files.
The worker is warmed first by a small job, as it is on a running server.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.live_server import LiveService

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from process_data import Case


def service_run(case: Case, folder: Path) -> tuple[float, str]:
    """Seconds from upload to the listed artifacts of ``case`` (CT + labels, engine import)."""
    assert case.labels is not None
    folder.mkdir(parents=True)
    service = LiveService(folder / "data", workers=1, IRIS_WORKER_POLL_S="0.05")
    service.start()
    try:
        token = service.sign_up("bench@example.org")
        with service.client(token) as http:
            small = write_nifti(make_phantom(shape=(48, 40, 24), spacing=(8.0, 8.0, 8.0)).ct,
                                folder / "warm.nii.gz")
            _run_job(http, small, None, "tissue")  # the worker has imported everything now
            started = time.perf_counter()
            job = _run_job(http, case.ct, case.labels, "import")
            seconds = time.perf_counter() - started
        detail = (f"{(case.ct.stat().st_size + case.labels.stat().st_size) / 1e6:.0f} MB "
                  f"uploaded, {len(job['artifacts'])} artifacts, worker stages "
                  + " ".join(f"{k} {v:.1f}" for k, v in job["timings_s"].items()))
        return seconds, detail
    finally:
        service.stop()


def _run_job(http: httpx.Client, ct: Path, labels: Path | None, engine: str) -> dict[str, Any]:
    with ct.open("rb") as f:
        response = http.post("/api/studies", files=[("files", (ct.name, f))], timeout=600)
    response.raise_for_status()
    study = response.json()["id"]
    if labels is not None:
        with labels.open("rb") as f:
            response = http.put(f"/api/studies/{study}/segmentation",
                                files=[("file", (labels.name, f))], timeout=600)
        response.raise_for_status()
    response = http.post("/api/jobs", json={"study_id": study, "engine": engine})
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        job: dict[str, Any] = http.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    if job["state"] != "done":
        raise SystemExit(f"the service's job ended {job['state']}: {job.get('error')}")
    listed = http.get(f"/api/jobs/{job_id}").json()
    return dict(listed)
