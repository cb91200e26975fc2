"""Comparisons through the API: what may be compared, where they appear, and deleting them.

Jobs are finished here with fake files (no pipeline runs); the comparison's own computation
is tested in tests/integration/test_compare_pipeline.py and end to end in test_service.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.service import (
    COMPARABLE_FILES,
    api_client,
    create_job,
    finish_next_job,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.phantom import Phantom
from iris3d.settings import Settings
from iris3d.store import comparisons, queue
from iris3d.store.blobs import open_blob_store
from iris3d.store.blobs.base import BlobNotFoundError
from iris3d.store.models import Study


@dataclass
class Account:
    """A signed-up user of a test service, with a CT to upload."""

    client: TestClient
    settings: Settings
    headers: dict[str, str]
    content: bytes

    def processed_study(self, files: dict[str, bytes] = COMPARABLE_FILES) -> dict[str, Any]:
        study = upload_study(self.client, self.headers, self.content)
        create_job(self.client, self.headers, study["id"])
        finish_next_job(self.settings, files)
        return study

    def compare(self, base: str, follow: str) -> Any:
        body = {"base_study_id": base, "follow_study_id": follow}
        return self.client.post("/api/comparisons", headers=self.headers, json=body)


@pytest.fixture
def account(tmp_path: Path, small_phantom: Phantom) -> Iterator[Account]:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        yield Account(client, settings, headers, phantom_nifti(small_phantom, tmp_path))


def test_a_comparison_is_a_queued_job_seen_from_both_studies(account: Account) -> None:
    client, headers = account.client, account.headers
    before = account.processed_study()
    after = account.processed_study()
    created = account.compare(before["id"], after["id"])
    assert created.status_code == 201, created.text
    comparison = created.json()
    job = comparison["job"]
    assert (job["kind"], job["state"], job["quality"], job["engine"]) == (
        "comparison", "queued", None, None
    )
    assert comparison["base"]["study_id"] == before["id"]
    assert comparison["follow"]["study_id"] == after["id"]
    assert comparison["base"]["glb_url"].endswith("/artifacts/glb")
    for study in (before, after):
        listed = client.get(
            "/api/comparisons", headers=headers, params={"study_id": study["id"]}
        ).json()
        assert [c["id"] for c in listed["items"]] == [comparison["id"]]
        # The study's own model is still its latest processing job, not the comparison.
        latest = client.get(f"/api/studies/{study['id']}", headers=headers).json()
        assert latest["latest_job"]["kind"] == "study"
        assert latest["thumbnail_url"] is not None
    status = client.get(f"/api/jobs/{comparison['id']}", headers=headers).json()
    assert status["kind"] == "comparison" and status["queue_position"] == 0
    with open_db(account.settings).session() as session:
        claim = queue.claim_next(session, "test-worker")
    assert claim is not None and claim.kind == "comparison"
    assert set(claim.inputs) == {"base_job_id", "follow_job_id", "affine"}


def test_what_cannot_be_compared_is_refused_with_the_reason(account: Account) -> None:
    client, headers = account.client, account.headers
    done = account.processed_study()
    old = account.processed_study({"glb": b"glTF"})
    unprocessed = upload_study(client, headers, account.content)
    cases = [
        (done["id"], done["id"], 422, "two different studies"),
        (done["id"], unprocessed["id"], 422, "no finished results"),
        (done["id"], old["id"], 422, "older Iris"),
        (done["id"], "0" * 32, 404, "later study"),
    ]
    for base, follow, code, words in cases:
        response = account.compare(base, follow)
        assert response.status_code == code, response.text
        assert words in response.json()["detail"]
    assert client.get("/api/comparisons", headers=headers).json()["items"] == []


def test_deleting_a_comparison_or_either_study_removes_it_and_its_files(
    account: Account, tmp_path: Path
) -> None:
    client, headers = account.client, account.headers
    blobs = open_blob_store(account.settings)
    a, b, c = (account.processed_study() for _ in range(3))
    first = account.compare(a["id"], b["id"]).json()
    second = account.compare(c["id"], b["id"]).json()
    result = tmp_path / "comparison.json"
    keys = {}
    for comparison in (first, second):
        result.write_text("{}")
        keys[comparison["id"]] = f"comparisons/{comparison['id']}/a1/comparison.json"
        blobs.put_file(keys[comparison["id"]], result)

    assert client.delete(f"/api/comparisons/{first['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/comparisons/{first['id']}", headers=headers).status_code == 404
    with pytest.raises(BlobNotFoundError):
        blobs.stat(keys[first["id"]])

    # b is the later study of the second comparison: deleting it takes the comparison along.
    assert client.delete(f"/api/studies/{b['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/comparisons/{second['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/jobs/{second['id']}", headers=headers).status_code == 404
    with pytest.raises(BlobNotFoundError):
        blobs.stat(keys[second["id"]])
    assert client.get(f"/api/studies/{c['id']}", headers=headers).status_code == 200


def test_a_queued_comparison_can_be_cancelled_and_retried(account: Account) -> None:
    client, headers = account.client, account.headers
    a, b = (account.processed_study() for _ in range(2))
    comparison = account.compare(a["id"], b["id"]).json()
    cancel = client.post(f"/api/jobs/{comparison['id']}/cancel", headers=headers).json()
    assert cancel["state"] == "cancelled"
    retry = client.post(f"/api/jobs/{comparison['id']}/retry", headers=headers).json()
    assert retry["state"] == "queued" and retry["kind"] == "comparison"


def _measured(*names: str) -> dict[str, bytes]:
    """Comparable files whose statistics name these structures."""
    rows = [{"name": name, "voxel_volume_ml": 10.0} for name in names]
    return {**COMPARABLE_FILES, "statistics_json": json.dumps({"structures": rows}).encode()}


def test_a_pair_with_no_structure_in_common_is_refused_before_it_runs(account: Account) -> None:
    tissue = account.processed_study(_measured("body", "lungs", "skeleton"))
    organs = account.processed_study(_measured("liver", "spleen"))
    overlapping = account.processed_study(_measured("liver", "kidney_left"))
    refused = account.compare(tissue["id"], organs["id"])
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert "no structure in common" in detail and tissue["name"] in detail, detail
    assert account.compare(organs["id"], overlapping["id"]).status_code == 201


def test_retrying_a_comparison_bound_to_fail_again_is_refused(account: Account) -> None:
    """A pair queued before the check existed (an older Iris) failed in the worker; Retry would
    only repeat that failure, so it says why instead."""
    client, headers = account.client, account.headers
    tissue = account.processed_study(_measured("body", "lungs"))
    organs = account.processed_study(_measured("liver"))
    with open_db(account.settings).session() as session:
        base, follow = (comparisons.latest_done_job(session, s["id"]) for s in (tissue, organs))
        assert base is not None and follow is not None
        studies_ = [session.get(Study, s["id"]) for s in (tissue, organs)]
        assert studies_[0] is not None and studies_[1] is not None
        old = comparisons.add_comparison(session, (studies_[0], base), (studies_[1], follow),
                                         affine=False, max_attempts=1)
        old_id = old.id
    assert client.post(f"/api/jobs/{old_id}/cancel", headers=headers).status_code == 200
    retry = client.post(f"/api/jobs/{old_id}/retry", headers=headers)
    assert retry.status_code == 409, retry.text
    assert "no structure in common" in retry.json()["detail"]
    assert client.get(f"/api/jobs/{old_id}", headers=headers).json()["state"] == "cancelled"
