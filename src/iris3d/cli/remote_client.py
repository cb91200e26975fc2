"""A small client for an Iris server's API, used by ``iris remote``."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from iris3d.errors import IrisError
from iris3d.scrub import scrub


class RemoteError(IrisError):
    """The server refused the request."""


@dataclass(frozen=True)
class Login:
    url: str
    token: str


def _check(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if not isinstance(detail, str):
        detail = response.text or response.reason_phrase
    # Whatever the server says is printed on the user's terminal: no escapes, no flood.
    raise RemoteError(f"{response.status_code}: {scrub(detail, limit=500)}")


class RemoteClient:
    def __init__(self, url: str, token: str | None = None, timeout_s: float = 300.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def sign_in(self, email: str, password: str) -> str:
        body = {"email": email, "password": password}
        token: str = _check(self.http.post("/api/auth/signin", json=body)).json()["access_token"]
        return token

    def get(self, path: str, **params: Any) -> Any:
        return _check(self.http.get(path, params=params)).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return _check(self.http.post(path, json=body or {})).json()

    def delete(self, path: str) -> None:
        _check(self.http.delete(path))

    def put_segmentation(self, study_id: str, path: Path) -> Any:
        """Attach a label map to a study (the server checks it; engine ``import`` uses it)."""
        with path.open("rb") as f:
            files = {"file": (path.name, f, "application/octet-stream")}
            response = self.http.put(f"/api/studies/{study_id}/segmentation", files=files)
        return _check(response).json()

    def upload_file(self, path: Path, on_bytes: Callable[[int], None]) -> str:
        """Send one file through the resumable upload API; returns the upload id."""
        size = path.stat().st_size
        upload = self.post("/api/uploads", {"size": size, "filename": path.name})
        chunk = int(upload["chunk_size"])
        with path.open("rb") as f:
            offset = int(upload["received"])
            while offset < size:
                f.seek(offset)
                data = f.read(chunk)
                response = self.http.put(
                    f"/api/uploads/{upload['id']}",
                    params={"offset": offset},
                    content=data,
                    headers={"Content-Type": "application/octet-stream"},
                )
                offset = int(_check(response).json()["received"])
                on_bytes(offset)
        return str(upload["id"])

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's status each time it changes, until it finishes."""
        with self.http.stream("GET", f"/api/jobs/{job_id}/events", timeout=None) as response:
            _check(response)
            event = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "job":
                    yield json.loads(line.removeprefix("data:").strip())

    def download(self, url: str, target: Path, on_bytes: Callable[[int], None]) -> Path:
        """Stream ``url`` to ``target`` through a partial file, resuming one left by a break."""
        partial = target.with_name(target.name + ".partial")
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        # An S3-backed server answers with a redirect to a presigned URL (another host, so httpx
        # does not send our token there).
        with self.http.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if response.status_code == 416:
                partial.replace(target)
                return target
            _check(response)
            mode = "ab" if response.status_code == 206 else "wb"
            with partial.open(mode) as f:
                for data in response.iter_bytes():
                    f.write(data)
                    on_bytes(len(data))
        partial.replace(target)
        return target


@contextmanager
def as_single_file(path: Path) -> Iterator[Path]:
    """A file as it is; a DICOM folder zipped (stored, not compressed) into a temporary file."""
    if not path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="iris-remote-") as tmp:
        archive = Path(tmp) / f"{path.name or 'study'}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for member in sorted(p for p in path.rglob("*") if p.is_file()):
                zf.write(member, member.relative_to(path).as_posix())
        yield archive
