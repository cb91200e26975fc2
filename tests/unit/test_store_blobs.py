"""The local blob store: whole files by key, byte ranges, prefixes, and unsafe keys refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from iris3d.settings import Settings
from iris3d.store.blobs import BlobError, BlobNotFoundError, check_key, open_blob_store
from iris3d.store.blobs.local import LocalBlobStore


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "storage")


def _file(tmp_path: Path, content: bytes, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_put_read_and_ranges(store: LocalBlobStore, tmp_path: Path) -> None:
    content = bytes(range(256)) * 10_000
    info = store.put_file("a/b/c.bin", _file(tmp_path, content))
    assert info.size == len(content)
    assert store.stat("a/b/c.bin") == info
    assert b"".join(store.read("a/b/c.bin")) == content
    assert b"".join(store.read("a/b/c.bin", 10, 19)) == content[10:20]
    assert b"".join(store.read("a/b/c.bin", len(content) - 5)) == content[-5:]


def test_move_consumes_the_source_and_copy_keeps_it(store: LocalBlobStore, tmp_path: Path) -> None:
    kept = _file(tmp_path, b"kept", "kept")
    moved = _file(tmp_path, b"moved", "moved")
    store.put_file("k/kept", kept)
    store.put_file("k/moved", moved, move=True)
    assert kept.exists() and not moved.exists()
    target = tmp_path / "copy"
    store.download("k/moved", target)
    assert target.read_bytes() == b"moved"


def test_replacing_a_blob_changes_its_etag(store: LocalBlobStore, tmp_path: Path) -> None:
    first = store.put_file("x", _file(tmp_path, b"one"))
    second = store.put_file("x", _file(tmp_path, b"three"))
    assert first.etag != second.etag


def test_delete_prefix_removes_everything_below(store: LocalBlobStore, tmp_path: Path) -> None:
    for key in ("studies/s1/source/a", "studies/s1/jobs/j/a1/b", "studies/s2/source/a"):
        store.put_file(key, _file(tmp_path, b"x"))
    store.delete_prefix("studies/s1")
    with pytest.raises(BlobNotFoundError):
        store.stat("studies/s1/source/a")
    assert store.stat("studies/s2/source/a").size == 1
    assert not (store.root / "studies" / "s1").exists()
    store.delete_prefix("studies/absent")  # nothing to do is fine


def test_listing_in_key_order_and_deleting_one(store: LocalBlobStore, tmp_path: Path) -> None:
    keys = ["studies/s2/source/a", "studies/s1/jobs/j/a1/b.glb", "studies/s1/source/ct.nii.gz"]
    for i, key in enumerate(keys):
        store.put_file(key, _file(tmp_path, b"x" * i))
    store.check()  # its probe is never a blob
    listed = list(store.list_blobs())
    assert [b.key for b in listed] == sorted(keys)
    assert [b.size for b in listed] == [1, 2, 0]
    assert listed[0] == store.stat(listed[0].key)
    assert [b.key for b in store.list_blobs("studies/s1")] == sorted(keys[1:])
    assert list(store.list_blobs("studies/absent")) == []
    store.delete("studies/s1/source/ct.nii.gz")
    store.delete("studies/s1/source/ct.nii.gz")  # already gone is fine
    with pytest.raises(BlobNotFoundError):
        store.stat("studies/s1/source/ct.nii.gz")
    assert [b.key for b in store.list_blobs()] == ["studies/s1/jobs/j/a1/b.glb", keys[0]]


def test_missing_blobs_raise_not_found(store: LocalBlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobNotFoundError):
        store.stat("nope")
    with pytest.raises(BlobNotFoundError):
        store.read("nope")
    with pytest.raises(BlobNotFoundError):
        store.download("nope", tmp_path / "n")


@pytest.mark.parametrize(
    "key", ["../escape", "/abs", "a/../../b", "a//b", "", "a/./b", "a\\b", "name with space"]
)
def test_unsafe_keys_are_refused(store: LocalBlobStore, tmp_path: Path, key: str) -> None:
    with pytest.raises(BlobError):
        check_key(key)
    with pytest.raises(BlobError):
        store.put_file(key, _file(tmp_path, b"x"))
    assert not (tmp_path / "escape").exists()


def test_storage_is_chosen_from_the_url(tmp_path: Path) -> None:
    default = open_blob_store(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalBlobStore) and default.root == tmp_path / "storage"
    other = open_blob_store(Settings(data_dir=tmp_path, storage_url=f"file://{tmp_path}/files"))
    assert isinstance(other, LocalBlobStore) and other.root == tmp_path / "files"
    with pytest.raises(BlobError, match="gs"):
        open_blob_store(Settings(data_dir=tmp_path, storage_url="gs://bucket/prefix"))
    with pytest.raises(BlobError, match="bucket"):
        open_blob_store(Settings(data_dir=tmp_path, storage_url="s3:///prefix"))


def test_check_reports_an_unwritable_folder(store: LocalBlobStore) -> None:
    store.check()
    store.root.joinpath(".tmp").rmdir()
    store.root.chmod(0o500)
    try:
        if store.root.joinpath("probe").parent.stat().st_mode & 0o200:
            pytest.skip("cannot make a read-only folder here")
        with pytest.raises(BlobError):
            store.check()
    finally:
        store.root.chmod(0o700)
