"""``iris pacs search`` and ``iris pacs pull --process`` against a real Orthanc."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.live_server import free_port, iris_command
from tests.support.orthanc import orthanc_server, store_instances

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series


def _iris(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    return subprocess.run(iris_command(*args), check=False, capture_output=True, text=True,
                          timeout=600, env={**clean, "COLUMNS": "200", **env})


def test_search_then_pull_and_process(tmp_path: Path, small_phantom: Phantom) -> None:
    series_uid = "1.2.826.0.1.3680043.10.1.77"
    paths = write_dicom_series(small_phantom.ct, tmp_path / "series", series_uid=series_uid,
                               series_description="Chest plain")
    guarded = {"username": "iris", "password": "cli-pass-9"}
    with orthanc_server(tmp_path / "pacs", **guarded) as orthanc:
        store_instances(orthanc, paths)
        servers = (f'[{{"name": "main", "url": "{orthanc.dicomweb_url}", "auth": "basic", '
                   '"username": "iris", "secret": "cli-pass-9"}]')
        found = _iris("pacs", "search", "--modality", "CT", "--description", "chest",
                      IRIS_PACS_SERVERS=servers)
        assert found.returncode == 0, found.stderr
        assert series_uid in found.stdout and "1 series" in found.stdout
        refused = _iris("pacs", "search", "--url", orthanc.dicomweb_url, "--user", "iris",
                        "--secret", "wrong")
        assert refused.returncode == 2 and "refused Iris's credentials" in refused.stderr

        out = tmp_path / "pulled"
        pulled = _iris("pacs", "pull", series_uid, "-o", str(out), "--process",
                       "--engine", "tissue", IRIS_PACS_SERVERS=servers,
                       IRIS_DATA_DIR=str(tmp_path / "data"))
        assert pulled.returncode == 0, pulled.stderr
        assert len(list((out / "dicom").glob("*.dcm"))) == len(paths)
        assert (out / "results" / "labels.nii.gz").is_file()
        again = _iris("pacs", "pull", series_uid, "-o", str(out), IRIS_PACS_SERVERS=servers)
        assert again.returncode == 2 and "not empty" in again.stderr


def test_a_pacs_that_is_down(tmp_path: Path) -> None:
    down = _iris("pacs", "pull", "1.2.3", "--study", "1.2.3.4", "-o", str(tmp_path / "x"),
                 "--url", f"http://127.0.0.1:{free_port()}/dicom-web")
    assert down.returncode == 2 and "may be down" in down.stderr
    assert not list((tmp_path / "x").rglob("*.dcm"))
