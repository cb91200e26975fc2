"""A real Orthanc PACS with its DICOMweb plugin (Debian's ``orthanc`` and ``orthanc-dicomweb``)
on free loopback ports, with its own storage folder and configuration, for the PACS tests.

Missing Orthanc skips the test on a laptop and fails it in CI (:func:`require`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.live_server import free_port
from tests.support.requirements import require

DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
DICOMWEB_ROOT = "/dicom-web"


@dataclass(frozen=True)
class Orthanc:
    """A running Orthanc: its REST address, DICOMweb address, DICOM port and credentials."""

    url: str
    dicom_port: int
    aet: str
    folder: Path
    username: str | None = None
    password: str | None = None

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}{DICOMWEB_ROOT}"

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password)

    def client(self) -> httpx.Client:
        """An HTTP client for Orthanc's own REST API (with its credentials, if any)."""
        return httpx.Client(base_url=self.url, auth=self.auth, timeout=60)

    def log_tail(self, chars: int = 4000) -> str:
        log = self.folder / "orthanc.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def orthanc_available() -> bool:
    return shutil.which("Orthanc") is not None and DICOMWEB_PLUGIN.exists()


def _config(folder: Path, http_port: int, dicom_port: int, users: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": "IrisTestOrthanc",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "DicomServerEnabled": True,
        "DicomAet": "ORTHANCTEST",
        "DicomPort": dicom_port,
        # Loopback only; the test process is the only client.
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": bool(users),
        "RegisteredUsers": users,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": f"{DICOMWEB_ROOT}/", "EnableWado": False},
        "StableAge": 1,
        # Every read goes to the storage folder (a test breaks it to make Orthanc fail).
        "MaximumStorageCacheSize": 0,
        "ConcurrentJobs": 1,
        "HttpTimeout": 30,
        "LuaScripts": [],
    }


@contextmanager
def orthanc_server(
    folder: Path,
    *,
    username: str | None = None,
    password: str | None = None,
    extra_config: dict[str, Any] | None = None,
    timeout_s: float = 60.0,
) -> Iterator[Orthanc]:
    """Start Orthanc in ``folder`` (config, storage, log); yield it, stop it afterwards.

    With ``username`` and ``password`` Orthanc requires HTTP basic authentication.
    ``extra_config`` is merged into the configuration, sections one level deep (for example
    ``DicomModalities``, or ``{"DicomWeb": {"Servers": ...}}`` for Orthanc to send studies
    elsewhere)."""
    require(orthanc_available(), "Orthanc with its DICOMweb plugin is not installed "
            "(apt-get install orthanc orthanc-dicomweb)")
    folder.mkdir(parents=True, exist_ok=True)
    users = {username: password} if username and password else {}
    http_port, dicom_port = free_port(), free_port()
    config = folder / "orthanc.json"
    values = _config(folder, http_port, dicom_port, users)
    for key, value in (extra_config or {}).items():
        merged = isinstance(value, dict) and isinstance(values.get(key), dict)
        values[key] = {**values[key], **value} if merged else value
    config.write_text(json.dumps(values, indent=2))
    orthanc = Orthanc(
        url=f"http://127.0.0.1:{http_port}",
        dicom_port=dicom_port,
        aet="ORTHANCTEST",
        folder=folder,
        username=username if users else None,
        password=password if users else None,
    )
    log = folder / "orthanc.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["Orthanc", "--no-jobs", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(orthanc, process, timeout_s)
        yield orthanc
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(orthanc: Orthanc, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited ({process.returncode}): {orthanc.log_tail()}")
        try:
            with orthanc.client() as http:
                # The plugin answers only once loaded: wait for it, not just the core.
                if http.get(f"{DICOMWEB_ROOT}/studies", timeout=1).status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Orthanc not ready after {timeout_s} s: {orthanc.log_tail()}")


def store_instances(orthanc: Orthanc, paths: Iterable[Path]) -> list[str]:
    """Put DICOM files into Orthanc through its REST API (``POST /instances``); return the
    Orthanc ids of the instances."""
    ids: list[str] = []
    with orthanc.client() as http:
        for path in paths:
            response = http.post(
                "/instances",
                content=path.read_bytes(),
                headers={"Content-Type": "application/dicom"},
            )
            response.raise_for_status()
            ids.append(str(response.json()["ID"]))
    return ids


def series_instance_uids(orthanc: Orthanc) -> list[str]:
    """The SeriesInstanceUIDs Orthanc holds (from its REST API, not DICOMweb)."""
    with orthanc.client() as http:
        found = http.get("/series", params={"expand": "true"}).raise_for_status().json()
    return [str(series["MainDicomTags"]["SeriesInstanceUID"]) for series in found]
