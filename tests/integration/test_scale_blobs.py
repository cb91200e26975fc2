"""The S3 blob store against a real S3 server (SeaweedFS, which checks signatures): the local
store's tests again, multipart uploads, presigned downloads, and a store it cannot write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.scale import seaweedfs
from tests.unit import test_store_blobs as on_folder

from iris3d.settings import Settings
from iris3d.store.blobs import BlobError, BlobNotFoundError, open_blob_store
from iris3d.store.blobs.s3 import S3BlobStore


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with seaweedfs(tmp_path_factory.mktemp("s3")) as env:
        yield env


def _settings(tmp_path: Path, env: dict[str, str], prefix: str) -> Settings:
    values = {k.removeprefix("IRIS_").lower(): v for k, v in env.items()}
    values["storage_url"] = f"{env['IRIS_STORAGE_URL']}/{prefix}"
    return Settings(data_dir=tmp_path, **values)


@pytest.fixture
def store(tmp_path: Path, s3_env: dict[str, str]) -> S3BlobStore:
    blobs = open_blob_store(_settings(tmp_path, s3_env, tmp_path.name))
    assert isinstance(blobs, S3BlobStore)
    return blobs


# The folder store's tests, collected again here with the S3 ``store`` above.
test_put_read_and_ranges = on_folder.test_put_read_and_ranges
test_move_consumes_the_source_and_copy_keeps_it = (
    on_folder.test_move_consumes_the_source_and_copy_keeps_it
)
test_replacing_a_blob_changes_its_etag = on_folder.test_replacing_a_blob_changes_its_etag
test_listing_in_key_order_and_deleting_one = on_folder.test_listing_in_key_order_and_deleting_one
test_missing_blobs_raise_not_found = on_folder.test_missing_blobs_raise_not_found
test_unsafe_keys_are_refused = on_folder.test_unsafe_keys_are_refused


def test_delete_prefix_removes_everything_below(store: S3BlobStore, tmp_path: Path) -> None:
    for key in ("studies/s1/source/a", "studies/s1/jobs/j/a1/b", "studies/s10/a", "studies/s2/a"):
        store.put_file(key, on_folder._file(tmp_path, b"x"))
    store.delete_prefix("studies/s1")
    for gone in ("studies/s1/source/a", "studies/s1/jobs/j/a1/b"):
        with pytest.raises(BlobNotFoundError):
            store.stat(gone)
    assert store.stat("studies/s10/a").size == 1  # a sibling sharing the name's start stays
    assert store.stat("studies/s2/a").size == 1
    store.delete_prefix("studies/absent")


def test_large_files_go_up_in_parts(store: S3BlobStore, tmp_path: Path) -> None:
    small_parts = S3BlobStore(store._client, store.bucket, store.prefix, multipart_bytes=5 << 20)
    content = os.urandom(11 << 20)
    info = small_parts.put_file("big/study.zip", on_folder._file(tmp_path, content))
    assert info.size == len(content)
    assert info.etag.endswith("-3")  # S3's mark of an object assembled from 3 parts
    assert (
        b"".join(small_parts.read("big/study.zip", 6 << 20, (6 << 20) + 99))
        == (content[6 << 20 : (6 << 20) + 100])
    )
    small_parts.download("big/study.zip", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == content


def test_presigned_urls_serve_ranges_and_refuse_tampering(
    store: S3BlobStore, tmp_path: Path
) -> None:
    content = bytes(range(256)) * 100
    store.put_file("r/model.glb", on_folder._file(tmp_path, content))
    url = store.presigned_url("r/model.glb", 60, "model.glb")
    assert url is not None
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == content
    assert 'filename="model.glb"' in whole.headers["content-disposition"]
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == content[100:200]
    assert httpx.get(url.replace("model.glb?", "other.glb?")).status_code == 403
    assert httpx.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=99")).status_code == 403


def test_a_store_it_cannot_write_fails_the_check(tmp_path: Path, s3_env: dict[str, str]) -> None:
    wrong = {**s3_env, "IRIS_S3_SECRET_ACCESS_KEY": "not-the-secret"}
    blobs = open_blob_store(_settings(tmp_path, wrong, "x"))
    with pytest.raises(BlobError, match="not writable"):
        blobs.check()
    open_blob_store(_settings(tmp_path, s3_env, "x")).check()
