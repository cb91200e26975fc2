"""The pipeline's limits are those of the settings it is given, never of its environment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from iris3d.errors import IrisError
from iris3d.imageio import LabelFileError, read_label_map, write_label_map
from iris3d.ingest import ReadLimits, load_study
from iris3d.ingest.errors import TooLargeError
from iris3d.ingest.isolated import (
    FileCheck,
    check_in_fresh_process,
    check_in_fresh_processes,
    read_kept,
)
from iris3d.ingest.sandbox import Limits
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_nifti
from iris3d.pipeline import ProcessOptions, process_study
from iris3d.segment import get_engine
from iris3d.segment.base import Quality, SegmentationError
from iris3d.settings import Settings

VOXELS = 48 * 40 * 24  # the small phantom's


@pytest.fixture
def tiny_limit_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An environment whose limits would refuse every study, were they read."""
    from iris3d.settings import get_settings

    monkeypatch.setenv("IRIS_MAX_VOXELS", "8")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_limits_are_made_from_the_settings_object() -> None:
    settings = Settings(max_voxels=123, max_unpacked_bytes=456, max_archive_members=7)
    assert ReadLimits.from_settings(settings) == ReadLimits(123, 456, 7)


def test_defaults_are_the_settings_defaults_not_the_environment(
    tiny_limit_in_the_environment: None,
) -> None:
    assert Settings().max_voxels == 8  # the environment is read by Settings()...
    assert ReadLimits.defaults().max_voxels == Settings.model_fields["max_voxels"].default


def test_a_study_is_read_under_the_limits_passed_in(
    small_phantom: Phantom, tmp_path: Path, tiny_limit_in_the_environment: None
) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    generous = ReadLimits.from_settings(Settings(max_voxels=VOXELS))
    assert load_study(path, limits=generous).shape == small_phantom.ct.shape
    with pytest.raises(TooLargeError, match=f"{VOXELS - 1:,}"):
        load_study(path, limits=replace(generous, max_voxels=VOXELS - 1))


def test_a_processed_study_obeys_the_limits_passed_in(
    small_phantom: Phantom, tmp_path: Path, tiny_limit_in_the_environment: None
) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    labels, _ = write_label_map(small_phantom.labels, tmp_path / "labels.nii.gz")
    options = ProcessOptions(quality=Quality.FASTEST, engine="import", segmentation=labels)
    strict = ReadLimits.from_settings(Settings(max_voxels=VOXELS - 1))
    with pytest.raises(TooLargeError):
        process_study(ct, tmp_path / "refused", limits=strict, options=options)
    assert not (tmp_path / "refused").exists()

    # The environment's limit of 8 voxels would refuse both files; the settings given allow them.
    result = process_study(ct, tmp_path / "out", options=options,
                           limits=ReadLimits.from_settings(Settings(max_voxels=VOXELS)))
    assert result.manifest["segmentation"]["engine"] == "import"  # type: ignore[index]


def test_an_imported_segmentation_obeys_the_limits_passed_in(
    small_phantom: Phantom, tmp_path: Path, tiny_limit_in_the_environment: None
) -> None:
    labels, _ = write_label_map(small_phantom.labels, tmp_path / "labels.nii.gz")
    limits = ReadLimits.from_settings(Settings(max_voxels=VOXELS))
    assert read_label_map(labels, max_voxels=limits.max_voxels).shape == small_phantom.ct.shape
    with pytest.raises(LabelFileError, match="IRIS_MAX_VOXELS"):
        read_label_map(labels, max_voxels=VOXELS - 1)
    engine = get_engine("import", limits=replace(limits, max_voxels=VOXELS - 1),
                        segmentation=labels)
    with pytest.raises(SegmentationError, match="IRIS_MAX_VOXELS"):
        engine.segment(small_phantom.ct, Quality.FAST)


def test_a_workers_first_read_uses_its_settings_in_the_child(
    small_phantom: Phantom, tmp_path: Path, tiny_limit_in_the_environment: None
) -> None:
    """The child process inherits the environment; its limits still come from the worker."""
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    settings = Settings(max_voxels=VOXELS)
    child = Limits.from_settings(settings)
    check_in_fresh_process(path, None, ReadLimits.from_settings(settings), child)
    with pytest.raises(TooLargeError):
        check_in_fresh_process(path, None, ReadLimits.from_settings(
            Settings(max_voxels=VOXELS - 1)), child)


def test_a_study_and_its_label_map_are_checked_side_by_side(
    small_phantom: Phantom, tmp_path: Path
) -> None:
    """Both files are read, each in its own child: the label map's error is not lost behind a
    study that passes, and the study's error comes first when both fail."""
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    labels, _ = write_label_map(small_phantom.labels, tmp_path / "labels.nii.gz")
    not_a_volume = tmp_path / "broken.nii.gz"
    not_a_volume.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 4)
    settings = Settings(max_voxels=VOXELS)
    read, child = ReadLimits.from_settings(settings), Limits.from_settings(settings)
    kept = tmp_path / "study.read"
    check_in_fresh_processes([FileCheck(ct, keep=kept), FileCheck(labels, label_map=True)],
                             read, child)
    # What the child read is the caller's ingest: the same voxels, grid and metadata.
    volume, expected = read_kept(kept), load_study(ct, limits=read)
    assert np.array_equal(volume.array, expected.array)
    assert volume.array.dtype == expected.array.dtype
    assert np.array_equal(volume.affine, expected.affine)
    assert volume.metadata == expected.metadata
    with pytest.raises(IrisError) as label_error:
        check_in_fresh_processes([FileCheck(ct), FileCheck(not_a_volume, label_map=True)],
                                 read, child)
    small = ReadLimits.from_settings(Settings(max_voxels=VOXELS - 1))
    with pytest.raises(TooLargeError):
        check_in_fresh_processes([FileCheck(ct), FileCheck(not_a_volume, label_map=True)],
                                 small, child)
    assert not isinstance(label_error.value, TooLargeError)


def test_nothing_below_the_service_reads_the_settings() -> None:
    """The pipeline's packages take what they need as arguments; only jobs, api and cli (and
    the sandbox's child limits, made from a Settings object given to it) read settings."""
    src = Path(__file__).resolve().parents[2] / "src" / "iris3d"
    below = ("ingest", "imageio", "segment", "mesh", "export", "stats", "compare", "pipeline")
    readers = [
        f"{path.relative_to(src)}:{number}"
        for package in below
        for path in (src / package).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "get_settings" in line or "Settings()" in line
    ]
    assert readers == []
