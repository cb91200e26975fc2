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
    """The store ``settings.storage_url`` names: a folder (path or ``file://``) by default, or
    ``s3://bucket/prefix`` (endpoint and credentials from the ``IRIS_S3_*`` settings)."""
    url = settings.storage_url
    if not url:
        return _local(settings.data_dir / "storage")
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return _local(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "s3":
        return _s3(settings, parsed.netloc, parsed.path)
    raise BlobError(f"IRIS_STORAGE_URL: no storage adapter for {parsed.scheme}:// URLs")


def _local(root: Path) -> BlobStore:
    from iris3d.store.blobs.local import LocalBlobStore

    return LocalBlobStore(root)


def _s3(settings: Settings, bucket: str, prefix: str) -> BlobStore:
    from iris3d.store.blobs.s3 import open_s3

    if not bucket:
        raise BlobError("IRIS_STORAGE_URL: an s3:// URL needs a bucket (s3://bucket/prefix)")
    return open_s3(
        bucket,
        prefix,
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        presign=settings.s3_presign,
    )
