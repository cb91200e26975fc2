"""Zipped DICOM studies: unpacked safely, or refused without writing outside a temp folder."""

from __future__ import annotations

import stat
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from iris3d.ingest import StudyFormat, list_series, load_study
from iris3d.ingest.archive import extract_zip, unpacked_study
from iris3d.ingest.errors import CorruptFileError, IngestError, UnsafeArchiveError
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.settings import Settings

LIMITS = ReadLimits.defaults()


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return make_phantom(shape=(48, 40, 16), spacing=(7.0, 7.5, 10.0), noise_hu=5.0)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp folder, moved somewhere this test can see whole."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zipped_series_in_nested_folders_loads_and_leaves_nothing_behind(
    phantom: Phantom, tmp_path: Path, private_tmp: Path
) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path / "series")
    entries = {f"export/study 1/part{k % 3}/{p.name}": p.read_bytes() for k, p in enumerate(paths)}
    entries["export/README.txt"] = b"Exported by a PACS"
    entries["export/.DS_Store"] = b"\x00\x00\x00\x01Bud1" + bytes(64)
    entries["__MACOSX/export/._README.txt"] = b"\x00\x05\x16\x07" + bytes(60)
    archive = _zip(tmp_path / "study.zip", entries)

    loaded = load_study(archive, limits=LIMITS)
    np.testing.assert_array_equal(loaded.array, phantom.ct.array)
    np.testing.assert_allclose(loaded.affine, phantom.ct.affine, atol=1e-4)
    assert [s.slice_count for s in list_series(archive, limits=LIMITS)] == [16]
    assert list(private_tmp.iterdir()) == []


def test_a_folder_is_used_in_place(tmp_path: Path) -> None:
    with unpacked_study(tmp_path, StudyFormat.DICOM_FOLDER, LIMITS) as folder:
        assert folder == tmp_path
    assert tmp_path.exists()


def test_the_temp_folder_is_removed_when_loading_fails(tmp_path: Path, private_tmp: Path) -> None:
    archive = _zip(tmp_path / "notes.zip", {"a/notes.txt": b"no images here"})
    with pytest.raises(IngestError, match="no DICOM images"):
        load_study(archive, limits=LIMITS)
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt", "C:/evil.txt"]
)
def test_entries_that_leave_the_archive_are_refused(
    tmp_path: Path, private_tmp: Path, name: str
) -> None:
    archive = _zip(tmp_path / "bad.zip", {"ok/first.txt": b"fine", name: b"gotcha"})
    target = tmp_path / "deep" / "target"
    target.mkdir(parents=True)
    with pytest.raises(UnsafeArchiveError, match=r"absolute|climbs"):
        extract_zip(archive, target, LIMITS)
    with pytest.raises(UnsafeArchiveError):
        load_study(archive, limits=LIMITS)
    written = {p.name for p in tmp_path.rglob("*")}
    assert "evil.txt" not in written
    assert not Path("/tmp/evil.txt").exists() or Path("/tmp/evil.txt").read_bytes() != b"gotcha"
    assert list(private_tmp.iterdir()) == []


def test_symlink_entries_are_never_created(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("data/passwd")
        link.create_system = 3  # unix, so the mode bits count
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("data/real.txt", b"real")
    target = tmp_path / "out"
    target.mkdir()
    assert extract_zip(archive, target, LIMITS) == 1
    assert not (target / "data" / "passwd").exists()
    assert not (target / "data" / "passwd").is_symlink()
    assert (target / "data" / "real.txt").read_bytes() == b"real"


def test_an_entry_that_clashes_with_a_folder_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "clash.zip", {"a": b"file", "a/b": b"file inside a file"})
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(UnsafeArchiveError, match="clashes"):
        extract_zip(archive, target, LIMITS)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path, private_tmp: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {f"part{k}.bin": bytes(400_000) for k in range(5)})
    assert archive.stat().st_size < 20_000
    settings = Settings(max_unpacked_bytes=1_000_000)
    with pytest.raises(UnsafeArchiveError, match=r"2,000,000 bytes.*IRIS_MAX_UNPACKED_BYTES"):
        load_study(archive, limits=ReadLimits.from_settings(settings))
    assert list(private_tmp.iterdir()) == []


def _understate_sizes(archive: Path, real_size: int, claimed: int) -> None:
    """Rewrite every local and central header's uncompressed size, as a hostile zip would."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            field = start + offset
            if int.from_bytes(data[field : field + 4], "little") == real_size:
                data[field : field + 4] = claimed.to_bytes(4, "little")
            start += 4
    archive.write_bytes(bytes(data))


def test_a_header_that_understates_the_size_cannot_beat_the_limit(tmp_path: Path) -> None:
    real_size = 3_000_000
    archive = _zip(tmp_path / "liar.zip", {"big.bin": bytes(real_size)})
    _understate_sizes(archive, real_size, 1_000)
    with zipfile.ZipFile(archive) as zf:
        assert zf.infolist()[0].file_size == 1_000
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises((UnsafeArchiveError, CorruptFileError)):
        extract_zip(archive, target, replace(LIMITS, max_unpacked_bytes=100_000))
    written = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    assert written <= 100_000


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"f{k}.txt": b"x" for k in range(12)})
    with pytest.raises(UnsafeArchiveError, match=r"12 entries.*IRIS_MAX_ARCHIVE_MEMBERS"):
        load_study(archive, limits=replace(LIMITS, max_archive_members=10))


def test_a_file_that_is_not_a_zip_is_corrupt(tmp_path: Path) -> None:
    fake = tmp_path / "study.zip"
    fake.write_bytes(b"PK\x03\x04" + np.random.default_rng(0).bytes(2000))
    with pytest.raises(CorruptFileError, match="not a valid zip"):
        load_study(fake, limits=LIMITS)


def test_a_truncated_zip_is_corrupt(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path / "series")
    archive = _zip(tmp_path / "study.zip", {p.name: p.read_bytes() for p in paths})
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CorruptFileError):
        load_study(archive, limits=LIMITS)


def test_damaged_compressed_data_is_corrupt(tmp_path: Path, private_tmp: Path) -> None:
    payload = np.random.default_rng(1).integers(0, 4, 200_000, dtype=np.uint8).tobytes()
    archive = _zip(tmp_path / "damaged.zip", {"a.bin": payload})
    data = bytearray(archive.read_bytes())
    for k in range(200, 260):
        data[k] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"a\.bin"):
        load_study(archive, limits=LIMITS)
    assert list(private_tmp.iterdir()) == []
