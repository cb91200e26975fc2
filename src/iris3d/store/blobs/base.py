"""The blob-store seam: files by key. Keys are made by Iris (ids, never upload names)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from iris3d.errors import IrisError

_KEY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


class BlobError(IrisError):
    """The file store failed."""


class BlobNotFoundError(BlobError):
    """No such file in the store."""


def check_key(key: str) -> str:
    """``key`` if it is a safe relative name (``a/b.c``), else :class:`BlobError`."""
    if not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise BlobError(f"not a valid storage key: {key!r}")
    return key


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    etag: str  # changes whenever the content does; blobs are never modified in place


class BlobStore(Protocol):
    """Where uploads and results live. A blob appears whole or not at all."""

    def put_file(self, key: str, source: Path, *, move: bool = False) -> BlobInfo:
        """Store ``source`` under ``key`` (replacing any blob there); ``move`` may consume it."""
        ...

    def download(self, key: str, destination: Path) -> None:
        """Write the blob to the local file ``destination``."""
        ...

    def stat(self, key: str) -> BlobInfo: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive (``None``: to the end), in chunks."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob ``key``; nothing to do when there is none."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every blob whose key starts with ``prefix/``."""
        ...

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Every blob (whose key starts with ``prefix/``, when given), in key order."""
        ...

    def presigned_url(self, key: str, ttl_s: float, filename: str) -> str | None:
        """A URL the store itself serves, or None when downloads go through the API."""
        ...

    def check(self) -> None:
        """Raise :class:`BlobError` unless the store can be written now."""
        ...
