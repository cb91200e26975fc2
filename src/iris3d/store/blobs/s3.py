"""Blobs as objects in an S3-compatible store (AWS S3, MinIO, SeaweedFS, ...) through boto3.

An object appears whole or not at all (a PUT, or a multipart upload completed at the end), so the
store needs no staging area. Downloads are presigned URLs the store serves itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iris3d.store.blobs.base import BlobError, BlobInfo, BlobNotFoundError, check_key

_CHUNK = 1024 * 1024
# Files larger than this go up in parts of this size, several at once, each retried on its own.
MULTIPART_BYTES = 16 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
# Where check() writes its probe objects: not blobs, so never listed.
_CHECKS = ".check/"


class S3BlobStore:
    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        public_client: Any = None,
        multipart_bytes: int = MULTIPART_BYTES,
        presign: bool = True,
    ) -> None:
        self._client = client
        # Off when browsers cannot reach the store: the API then streams files itself.
        self._presign = presign
        # Presigned URLs name the host browsers reach, which may differ from the one we use.
        self._public = public_client or client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._multipart_bytes = multipart_bytes

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, source: Path, *, move: bool = False) -> BlobInfo:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(
            multipart_threshold=self._multipart_bytes, multipart_chunksize=self._multipart_bytes
        )
        try:
            self._client.upload_file(str(source), self.bucket, self._key(key), Config=config)
        except Exception as e:
            raise BlobError(f"could not store {key}: {_reason(e)}") from e
        if move:
            Path(source).unlink(missing_ok=True)
        return self.stat(key)

    def download(self, key: str, destination: Path) -> None:
        try:
            self._client.download_file(self.bucket, self._key(key), str(destination))
        except Exception as e:
            Path(destination).unlink(missing_ok=True)
            raise _translate(e, key) from e

    def stat(self, key: str) -> BlobInfo:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as e:
            raise _translate(e, key) from e
        return BlobInfo(key=key, size=int(head["ContentLength"]), etag=_etag(head["ETag"]))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        ranged = {} if start == 0 and end is None else {"Range": f"bytes={start}-{end or ''}"}
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._key(key), **ranged)
        except Exception as e:
            raise _translate(e, key) from e
        return _chunks(body["Body"])

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as e:
            raise BlobError(f"could not delete {key}: {_reason(e)}") from e

    def delete_prefix(self, prefix: str) -> None:
        folder = self._key(prefix) + "/"
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            )
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:  # at most 1000 per page, the most one delete_objects takes
                    self._client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                    )
        except Exception as e:
            raise BlobError(f"could not delete {prefix}: {_reason(e)}") from e

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        root = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=(self._key(prefix) + "/") if prefix else root
            )
            for page in pages:  # S3 lists keys in order
                for item in page.get("Contents", []):
                    key = str(item["Key"]).removeprefix(root)
                    if key.startswith(_CHECKS) or not _is_key(key):
                        continue
                    yield BlobInfo(key=key, size=int(item["Size"]), etag=_etag(item["ETag"]))
        except Exception as e:
            raise BlobError(f"could not list the bucket {self.bucket}: {_reason(e)}") from e

    def presigned_url(self, key: str, ttl_s: float, filename: str) -> str | None:
        if not self._presign:
            return None
        params = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        }
        url: str = self._public.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=max(1, int(ttl_s))
        )
        return url

    def check(self) -> None:
        key = self._key(f"{_CHECKS}{uuid.uuid4().hex}")
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=b"")
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as e:
            raise BlobError(f"the bucket {self.bucket} is not writable: {_reason(e)}") from e


def open_s3(
    bucket: str,
    prefix: str,
    *,
    endpoint_url: str | None,
    public_endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    presign: bool = True,
) -> S3BlobStore:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region or "us-east-1",
    )
    # Path-style addressing works with every S3-compatible server, virtual hosts do not.
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
    )
    client = session.client("s3", endpoint_url=endpoint_url, config=config)
    public = None
    if public_endpoint_url and public_endpoint_url != endpoint_url:
        public = session.client("s3", endpoint_url=public_endpoint_url, config=config)
    return S3BlobStore(client, bucket, prefix, public_client=public, presign=presign)


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(_CHUNK)
    finally:
        body.close()


def _is_key(key: str) -> bool:
    try:
        check_key(key)
    except BlobError:  # an object someone else put there, which no Iris key can name
        return False
    return True


def _etag(value: str) -> str:
    return value.strip('"')


def _code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _reason(error: Exception) -> str:
    return _code(error) or type(error).__name__


def _translate(error: Exception, key: str) -> BlobError:
    if _code(error) in _MISSING:
        return BlobNotFoundError(f"no stored file {key}")
    return BlobError(f"could not read {key}: {_reason(error)}")
