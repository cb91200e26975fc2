"""The engines a server offers: TotalSegmentator only where its models are installed, and a job
asking for it anyway refused in plain words (no server path, no command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.service import api_client, phantom_nifti, service_settings, sign_up, upload_study
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.contracts import Quality
from iris3d.phantom import Phantom


def _engines(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return {e["name"]: e for e in client.get("/api/engines", headers=headers).json()["items"]}


@pytest.fixture
def weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "totalseg-home"
    (home / "nnunet" / "results").mkdir(parents=True)
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(home))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(home / "nnunet" / "results"))
    return home / "nnunet" / "results"


@pytest.mark.slow
def test_totalsegmentator_is_offered_only_where_installed(
    tmp_path: Path, small_phantom: Phantom, weights: Path
) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        assert client.get("/api/engines").status_code == 401
        headers = sign_up(client, "a@example.org")
        engines = _engines(client, headers)
        assert not engines["totalsegmentator"]["available"]
        assert engines["totalsegmentator"]["qualities"] == []
        assert engines["tissue"]["available"] and "lungs" in engines["tissue"]["finds"]

        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        body = {"study_id": study["id"], "engine": "totalsegmentator", "quality": "fast"}
        refused = client.post("/api/jobs", headers=headers, json=body)
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert "not installed" in detail and "tissue engine" in detail
        assert str(weights) not in detail and "/" not in detail and "`" not in detail

        build_tiny_weights(weights, qualities=(Quality.FAST,))
        engines = _engines(client, headers)
        assert engines["totalsegmentator"]["available"]
        assert engines["totalsegmentator"]["qualities"] == ["fast"]
        assert client.post("/api/jobs", headers=headers, json=body).status_code == 201
        body["quality"] = "high"
        assert client.post("/api/jobs", headers=headers, json=body).status_code == 422


def test_workers_on_other_machines_declare_their_models(
    tmp_path: Path, small_phantom: Phantom, weights: Path
) -> None:
    """The API of a scaled-out deployment holds no models: its settings say what workers have."""
    settings = service_settings(tmp_path / "data", workers=0, worker_totalseg_qualities=["fast"])
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        engines = _engines(client, headers)
        assert engines["totalsegmentator"]["available"]
        assert engines["totalsegmentator"]["qualities"] == ["fast"]
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        body = {"study_id": study["id"], "engine": "totalsegmentator", "quality": "fast"}
        assert client.post("/api/jobs", headers=headers, json=body).status_code == 201
        body["quality"] = "normal"
        assert client.post("/api/jobs", headers=headers, json=body).status_code == 422
