"""Blobs as files under one folder. Writes go to a temporary file renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from iris3d.store.blobs.base import BlobError, BlobInfo, BlobNotFoundError, check_key

_CHUNK = 1024 * 1024


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path, *, move: bool = False) -> BlobInfo:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, staging_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        os.close(fd)
        staging = Path(staging_name)
        try:
            if move:
                Path(source).replace(staging)  # same file system as the data folder: a rename
            else:
                shutil.copyfile(source, staging)
            staging.replace(target)
        except OSError as e:
            staging.unlink(missing_ok=True)
            raise BlobError(f"could not store {key}: {e.strerror}") from e
        return self.stat(key)

    def download(self, key: str, destination: Path) -> None:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFoundError(f"no stored file {key}")
        try:
            os.link(path, destination)  # blobs are never changed in place, so sharing is safe
        except OSError:
            shutil.copyfile(path, destination)

    def stat(self, key: str) -> BlobInfo:
        try:
            st = self._path(key).stat()
        except FileNotFoundError as e:
            raise BlobNotFoundError(f"no stored file {key}") from e
        return BlobInfo(key=key, size=st.st_size, etag=f"{st.st_size:x}-{st.st_mtime_ns:x}")

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as e:
            raise BlobNotFoundError(f"no stored file {key}") from e
        return _chunks(handle, start, end)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as e:
            raise BlobError(f"could not delete {key}: {e.strerror}") from e

    def delete_prefix(self, prefix: str) -> None:
        folder = self._path(prefix)
        if folder.is_dir():
            # Renamed first so a half-deleted folder is never visible under its key.
            doomed = Path(tempfile.mkdtemp(dir=self._tmp, prefix="delete-"))
            folder.replace(doomed / "x")
            shutil.rmtree(doomed, ignore_errors=True)

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        keys: list[str] = []
        for folder, subfolders, files in os.walk(self._path(prefix) if prefix else self.root):
            if Path(folder) == self.root:
                subfolders[:] = [name for name in subfolders if name != self._tmp.name]
            keys.extend(Path(folder, name).relative_to(self.root).as_posix() for name in files)
        for key in sorted(keys):
            try:
                yield self.stat(check_key(key))
            except BlobError:  # removed meanwhile, or a stray file no key can name
                continue

    def presigned_url(self, key: str, ttl_s: float, filename: str) -> str | None:
        return None

    def check(self) -> None:
        try:
            with tempfile.NamedTemporaryFile(dir=self._tmp, prefix="check-"):
                pass
        except OSError as e:
            raise BlobError(f"the storage folder {self.root} is not writable: {e.strerror}") from e


def _chunks(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            data = handle.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
            if not data:
                return
            if remaining is not None:
                remaining -= len(data)
            yield data
