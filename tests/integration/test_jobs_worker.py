"""A worker in this process running real jobs (tissue engine, small phantom): done, failed,
cancelled, given back on shutdown, and a claim lost when the study is deleted."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from tests.support.service import (
    api_client,
    create_job,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.jobs.engines import EngineCache
from iris3d.jobs.runner import WorkerContext, clean_scratch, run_claimed
from iris3d.jobs.worker import run_worker
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_nifti
from iris3d.settings import Settings
from iris3d.store import queue, studies
from iris3d.store.blobs import open_blob_store
from iris3d.store.models import utcnow
from iris3d.store.queue import Claim
from iris3d.volume import CTVolume


def _queue_job(client: TestClient, phantom: Phantom, tmp_path: Path) -> tuple[dict[str, str], str]:
    headers = sign_up(client, "a@example.org")
    study = upload_study(client, headers, phantom_nifti(phantom, tmp_path))
    return headers, create_job(client, headers, study["id"])["id"]


def _context(settings: Settings, stop: threading.Event | None = None) -> WorkerContext:
    return WorkerContext(
        settings=settings,
        db=open_db(settings),
        blobs=open_blob_store(settings),
        engines=EngineCache(settings),
        worker_id="test-worker",
        stopping=stop or threading.Event(),
        scratch=settings.data_dir / "scratch",
    )


def _claim(ctx: WorkerContext) -> Claim:
    with ctx.db.session() as session:
        claim = queue.claim_next(session, ctx.worker_id)
    assert claim is not None
    return claim


def _results(settings: Settings) -> list[Path]:
    root = settings.data_dir / "storage" / "studies"
    return [p for p in root.rglob("*") if p.is_file() and "jobs" in p.parts]


def test_a_worker_runs_a_job_to_the_end(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, job_id = _queue_job(client, small_phantom, tmp_path)
        assert run_worker(settings, threading.Event(), max_jobs=1) == 1
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "done", job["error"]
    assert job["percent"] == 100.0 and job["attempts"] == 1
    assert job["engine_used"] == "tissue"
    assert {"glb", "thumbnail", "statistics_csv", "labels_nifti"} <= {
        a["name"] for a in job["artifacts"]
    }
    assert all(f"/jobs/{job_id}/a1/" in p.as_posix() for p in _results(settings))
    assert list((settings.data_dir / "scratch").iterdir()) == []
    db = open_db(settings)
    with db.reader() as session:
        assert queue.live_workers(session, utcnow()) == 0  # it signed off


def test_a_cancelled_job_stops_and_keeps_nothing(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, job_id = _queue_job(client, small_phantom, tmp_path)
        ctx = _context(settings)
        claim = _claim(ctx)
        client.post(f"/api/jobs/{job_id}/cancel", headers=headers)
        assert run_claimed(claim, ctx) == "cancelled"
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "cancelled" and job["artifacts"] == []
    assert _results(settings) == []


def test_a_stopping_worker_gives_its_job_back(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, job_id = _queue_job(client, small_phantom, tmp_path)
        stop = threading.Event()
        ctx = _context(settings, stop)
        claim = _claim(ctx)
        stop.set()
        assert run_claimed(claim, ctx) == "released"
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert (job["state"], job["attempts"]) == ("queued", 0)


def test_an_unreadable_study_fails_with_the_reason(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, job_id = _queue_job(client, small_phantom, tmp_path)
        ctx = _context(settings)
        claim = _claim(ctx)
        damaged = tmp_path / "damaged"
        damaged.write_bytes(b"\x1f\x8b damaged on disk")
        ctx.blobs.put_file(claim.source_key, damaged)
        assert run_claimed(claim, ctx) == "failed"
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "failed"
    assert "study.nii.gz" in job["error"]
    assert str(settings.data_dir) not in job["error"]


def test_a_study_beyond_the_ingest_limits_fails_the_job_not_the_worker(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = service_settings(tmp_path / "data", ingest_memory_bytes=8 * 2**20)
    big = CTVolume(np.full((256, 256, 160), -1000, np.int16), np.eye(4))  # 20 MiB of voxels
    big_file = write_nifti(big, tmp_path / "big.nii.gz")
    with api_client(settings) as client:
        headers, job_id = _queue_job(client, small_phantom, tmp_path)
        ctx = _context(settings)
        claim = _claim(ctx)
        ctx.blobs.put_file(claim.source_key, big_file)
        assert run_claimed(claim, ctx) == "failed"
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "failed"
    assert "more memory or time than this server allows" in job["error"]


def test_deleting_the_study_mid_job_voids_the_claim(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        _queue_job(client, small_phantom, tmp_path)
        ctx = _context(settings)
        claim = _claim(ctx)
        with ctx.db.session() as session:
            studies.remove_study(session, claim.study_id)
        assert run_claimed(claim, ctx) == "lost"
    assert _results(settings) == []


def test_scratch_of_dead_workers_is_cleaned(tmp_path: Path) -> None:
    dead = tmp_path / "job-999999999-abc-x"
    alive = tmp_path / f"job-{os.getpid()}-abc-x"
    for folder in (dead, alive):
        folder.mkdir()
    clean_scratch(tmp_path)
    assert not dead.exists() and alive.exists()


def test_your_own_segmentation_is_imported(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    labels = write_nifti(small_phantom.labels, tmp_path / "labels.nii.gz").read_bytes()
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        url = f"/api/studies/{study['id']}/segmentation"
        wrong = client.put(url, headers=headers, files=[("file", ("x.txt", b"text", "text/plain"))])
        assert wrong.status_code == 422
        files = [("file", ("labels.nii.gz", labels, "application/gzip"))]
        attached = client.put(url, headers=headers, files=files)
        assert attached.status_code == 200 and attached.json()["has_segmentation"]
        job = create_job(client, headers, study["id"], engine="import")
        assert run_worker(settings, threading.Event(), max_jobs=1) == 1
        done = client.get(f"/api/jobs/{job['id']}", headers=headers).json()
    assert done["state"] == "done", done["error"]
    assert done["engine_used"] == "import"
