"""Hostile files against a real ``iris serve`` in production mode: a header cannot read the
server's files (and cannot tell whether they exist), a lying header costs the API nothing, and no
patient identifier survives upload -> job -> results -> ``iris backup``."""

from __future__ import annotations

import gzip
import io
import sqlite3
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import nibabel as nib
import numpy as np
import pytest
from tests.support.live_server import LiveService, iris_command, job_events

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series

SECRET_KEY = "hostile-input-test-key-" + "x" * 32
PHI = {
    "PatientName": "ZQDOE^JANEPHI",
    "PatientID": "ZQPID-77310",
    "PatientBirthDate": "19230405",
    "AccessionNumber": "ZQACC99821",
    "InstitutionName": "ZQ Saint Nowhere Hospital",
    "ReferringPhysicianName": "ZQREFERRER^BOB",
    "StudyDate": "19990203",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("hostile") / "data", workers=1,
                       IRIS_ENV="production", IRIS_SECRET_KEY=SECRET_KEY,
                       IRIS_INGEST_MEMORY_BYTES=str(1 << 30))
    live.start()
    yield live
    live.stop()


def _upload(http: httpx.Client, name: str, content: bytes) -> httpx.Response:
    return http.post("/api/studies", files=[("files", (name, content, "application/octet-stream"))])


def test_a_header_cannot_read_or_probe_server_files(service: LiveService, tmp_path: Path) -> None:
    secret = tmp_path / "server-secret.env"
    secret.write_bytes(b"IRIS_SECRET_KEY=" + b"s" * 2032)
    answers = []
    with service.explained(), service.client(service.sign_up("probe@example.org")) as http:
        for target in (secret, tmp_path / "missing.env", Path("/proc/self/environ")):
            for suffix, header in (
                (".mha", "ObjectType = Image\nNDims = 3\nDimSize = 8 8 16\n"
                         f"ElementType = MET_SHORT\nElementDataFile = {target}\n"),
                (".nrrd", "NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 16\nencoding: raw\n"
                          f"endian: little\ndata file: {target}\n\n"),
            ):
                response = _upload(http, f"scan{suffix}", header.encode())
                assert response.status_code == 422, response.text
                answers.append((suffix, response.json()["detail"]))
        assert http.get("/api/studies").json()["items"] == []
    for suffix in (".mha", ".nrrd"):
        assert len({detail for s, detail in answers if s == suffix}) == 1, answers  # no oracle
    assert all(str(tmp_path) not in detail for _, detail in answers)


def test_lying_headers_cost_the_api_nothing(service: LiveService, tmp_path: Path) -> None:
    header = nib.Nifti1Header()
    header.set_data_shape((1024, 1024, 256))
    header.set_data_dtype(np.float64)  # 2 GiB claimed by a file of about a hundred bytes
    bomb = gzip.compress(header.binaryblock + b"\0" * 1004)
    with service.explained(), service.client(service.sign_up("bomb@example.org")) as http:
        for _ in range(3):
            response = _upload(http, "bomb.nii.gz", bomb)
            assert response.status_code == 413, response.text
            assert "decompression bomb" in response.json()["detail"]
        assert http.get("/readyz").status_code == 200
    rss_kib = int(Path(f"/proc/{service.server.pid}/status").read_text()  # type: ignore[union-attr]
                  .split("VmHWM:")[1].split()[0])
    assert rss_kib < 1024 * 1024, f"iris serve peaked at {rss_kib // 1024} MiB"


def _phi_series(phantom: Phantom, folder: Path) -> bytes:
    paths = write_dicom_series(phantom.ct, folder)
    import pydicom

    for path in paths:
        ds = pydicom.dcmread(path)
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for path in paths:
            zf.write(path, f"{PHI['PatientName'].replace('^', '_')}/{path.name}")
        zf.writestr("DICOMDIR-notes.txt", PHI["PatientName"])
    return buffer.getvalue()


def _found_in(content: bytes) -> set[str]:
    return {k for k, v in PHI.items() if v.encode() in content}


def _expanded(name: str, content: bytes) -> Iterator[tuple[str, bytes]]:
    yield name, content
    if content[:2] == b"\x1f\x8b":
        yield from _expanded(f"{name}>gunzip", gzip.decompress(content))
    elif content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            for member in zf.namelist():
                yield from _expanded(f"{name}>{member}", zf.read(member))


def test_no_patient_identifier_survives(
    service: LiveService, small_phantom: Phantom, tmp_path: Path
) -> None:
    archive = _phi_series(small_phantom, tmp_path / "dicom")
    assert _found_in(archive) == set(PHI)  # the test data does carry every identifier
    leaks: dict[str, set[str]] = {}
    with service.explained(), service.client(service.sign_up("phi@example.org")) as http:
        response = _upload(http, f"{PHI['PatientName']}.zip", archive)
        assert response.status_code == 201, response.text
        study = response.json()
        assert study["name"].startswith("CT · 48×40×24 · uploaded ")
        job = http.post("/api/jobs", json={"study_id": study["id"], "engine": "tissue",
                                           "quality": "fast"}).json()
        final = list(job_events(http, job["id"]))[-1]
        assert final["state"] == "done", final
        for artifact in final["artifacts"]:
            for name, content in _expanded(artifact["name"], http.get(artifact["url"]).content):
                leaks.setdefault(f"artifact {name}", set()).update(_found_in(content))
        thumbnail = http.get(http.get(f"/api/studies/{study['id']}").json()["thumbnail_url"])
        leaks["thumbnail"] = _found_in(thumbnail.content)
        for path in ("/api/studies", f"/api/studies/{study['id']}", f"/api/jobs/{job['id']}"):
            leaks[f"api {path}"] = _found_in(http.get(path).content)
    leaks.update(_stored_leaks(service.data_dir))
    leaks["server and worker log"] = _found_in(service.log.read_bytes())
    backup = tmp_path / "backup.tar.gz"
    made = subprocess.run(iris_command("backup", str(backup)), env=service.env,
                          capture_output=True, check=False, timeout=300)
    assert made.returncode == 0, made.stderr
    leaks["backup command output"] = _found_in(made.stdout + made.stderr)
    with tarfile.open(backup) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            if extracted is not None:
                for name, content in _expanded(member.name, extracted.read()):
                    leaks[f"backup {name}"] = _found_in(content)
    assert {where: found for where, found in leaks.items() if found} == {}


def _stored_leaks(data_dir: Path) -> dict[str, set[str]]:
    leaks: dict[str, set[str]] = {}
    for path in data_dir.rglob("*"):
        if path.is_file():
            for name, content in _expanded(str(path.relative_to(data_dir)), path.read_bytes()):
                leaks[f"stored {name}"] = _found_in(content)
    database = data_dir / "iris.db"
    with sqlite3.connect(database) as connection:
        rows = "\n".join(connection.iterdump()).encode()
    leaks["database rows"] = _found_in(rows)
    return leaks


def _iris_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(iris_command(*args), capture_output=True, text=True, check=False,
                          timeout=120)


def test_the_cli_refuses_in_one_line(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "data.raw").write_bytes(b"\0" * 2048)
    folder = tmp_path / "study"
    folder.mkdir()
    header = folder / "scan.mhd"
    header.write_text("ObjectType = Image\nNDims = 3\nDimSize = 8 8 16\nElementType = MET_SHORT\n"
                      "ElementDataFile = ../elsewhere/data.raw\n")
    nan_sform = folder / "nan.nii"
    image = nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), None)
    image.header.set_sform(np.full((4, 4), np.nan), code=1)
    image.header["qform_code"] = 0
    nib.save(image, nan_sform)
    for path, words in ((header, "not named relative"), (nan_sform, "geometry is invalid")):
        result = _iris_cli("info", str(path))
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    allowed = _iris_cli("info", "--data-file-anywhere", str(header))
    assert allowed.returncode == 0, allowed.stderr
    assert "8x8x16" in allowed.stdout
