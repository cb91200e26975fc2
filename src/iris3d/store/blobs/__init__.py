"""Files by key, behind :class:`BlobStore`; the technology is chosen from ``IRIS_STORAGE_URL``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from iris3d.settings import Settings
from iris3d.store.blobs.base import BlobError, BlobInfo, BlobNotFoundError, BlobStore, check_key

__all__ = [
    "BlobError",
    "BlobInfo",
    "BlobNotFoundError",
    "BlobStore",
    "check_key",
    "open_blob_store",
]


def open_blob_store(settings: Settings) -> BlobStore:
    """The store ``settings.storage_url`` names: a folder (path or ``file://``) by default."""
    url = settings.storage_url
    if not url:
        return _local(settings.data_dir / "storage")
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return _local(Path(parsed.path if parsed.scheme else url))
    raise BlobError(f"IRIS_STORAGE_URL: no storage adapter for {parsed.scheme}:// URLs")


def _local(root: Path) -> BlobStore:
    from iris3d.store.blobs.local import LocalBlobStore

    return LocalBlobStore(root)
