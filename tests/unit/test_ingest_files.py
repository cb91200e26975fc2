"""NIfTI, NRRD and MHA: the same phantom loads to the same voxels and geometry from each, and every
kind of bad file gets its own clear error."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from iris3d.ingest import load_study
from iris3d.ingest.errors import (
    CorruptFileError,
    IngestError,
    NotAVolumeError,
    TooLargeError,
    UnsupportedFormatError,
)
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_itk, write_nifti

LIMITS = ReadLimits.defaults()


@pytest.mark.parametrize("orientation", ["RAS", "LPS", "LAS", "PIR", "ASL"])
def test_nifti_in_any_orientation_loads_identically(
    small_phantom: Phantom, tmp_path: Path, orientation: str
) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / f"ct_{orientation}.nii.gz", orientation)
    volume = load_study(path, limits=LIMITS)
    assert volume.orientation == "RAS"
    assert volume.array.dtype == np.int16
    np.testing.assert_array_equal(volume.array, small_phantom.ct.array)
    np.testing.assert_allclose(volume.affine, small_phantom.ct.affine, atol=1e-4)


@pytest.mark.parametrize("suffix", [".nii", ".nrrd", ".mha"])
def test_other_formats_load_identically(
    small_phantom: Phantom, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"ct{suffix}"
    if suffix == ".nii":
        write_nifti(small_phantom.ct, path, "LPS")
    else:
        write_itk(small_phantom.ct, path)
    volume = load_study(path, limits=LIMITS)
    np.testing.assert_array_equal(volume.array, small_phantom.ct.array)
    np.testing.assert_allclose(volume.affine, small_phantom.ct.affine, atol=1e-4)
    assert any("assumed to be CT" in w for w in volume.metadata.warnings)


def test_scaled_nifti_is_converted_to_hounsfield(tmp_path: Path) -> None:
    stored = np.full((8, 8, 8), 24, dtype=np.uint16)  # 24 * 1 - 1024 = -1000 HU
    stored[2:6, 2:6, 2:6] = 1064  # 40 HU
    image = nib.Nifti1Image(stored, np.eye(4))
    image.header.set_slope_inter(1.0, -1024.0)
    nib.save(image, tmp_path / "scaled.nii.gz")
    volume = load_study(tmp_path / "scaled.nii.gz", limits=LIMITS)
    assert volume.array.dtype == np.int16
    assert volume.array.min() == -1000 and volume.array.max() == 40


def test_fractional_scaling_gives_float32(tmp_path: Path) -> None:
    image = nib.Nifti1Image(np.arange(512, dtype=np.int16).reshape(8, 8, 8), np.eye(4))
    image.header.set_slope_inter(0.5, -1000.0)
    nib.save(image, tmp_path / "half.nii")
    volume = load_study(tmp_path / "half.nii", limits=LIMITS)
    assert volume.array.dtype == np.float32
    assert volume.array[0, 0, 1] == pytest.approx(-999.5)


def test_values_that_are_not_hounsfield_units_are_flagged(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.full((8, 8, 8), 300, np.int16), np.eye(4)), tmp_path / "mr.nii")
    assert any("Hounsfield" in w for w in load_study(tmp_path / "mr.nii",
                                                     limits=LIMITS).metadata.warnings)


def test_not_a_file_we_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(UnsupportedFormatError, match="not a file Iris reads"):
        load_study(path, limits=LIMITS)
    with pytest.raises(IngestError, match="no such file"):
        load_study(tmp_path / "missing.nii.gz", limits=LIMITS)


def test_truncated_gzip(small_phantom: Phantom, tmp_path: Path) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt"):
        load_study(path, limits=LIMITS)


def test_corrupt_gzip(small_phantom: Phantom, tmp_path: Path) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError):
        load_study(path, limits=LIMITS)


def test_uncompressed_file_shorter_than_its_header_claims(
    small_phantom: Phantom, tmp_path: Path
) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CorruptFileError, match="truncated"):
        load_study(path, limits=LIMITS)


def test_two_dimensional_image(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.zeros((64, 64), np.int16), np.eye(4)), tmp_path / "slice.nii")
    with pytest.raises(NotAVolumeError, match="2D"):
        load_study(tmp_path / "slice.nii", limits=LIMITS)
    nib.save(nib.Nifti1Image(np.zeros((64, 64, 1), np.int16), np.eye(4)), tmp_path / "one.nii")
    with pytest.raises(NotAVolumeError, match="2D"):
        load_study(tmp_path / "one.nii", limits=LIMITS)


def test_four_dimensional_image_only_with_one_volume(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8, 3), np.int16), np.eye(4)), tmp_path / "4d.nii.gz")
    with pytest.raises(NotAVolumeError, match="3 volumes"):
        load_study(tmp_path / "4d.nii.gz", limits=LIMITS)
    single = np.full((8, 8, 8, 1), -1000, np.int16)
    nib.save(nib.Nifti1Image(single, np.eye(4)), tmp_path / "4d1.nii.gz")
    assert load_study(tmp_path / "4d1.nii.gz", limits=LIMITS).shape == (8, 8, 8)


def test_header_claiming_more_voxels_than_the_limit(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.zeros((20, 20, 20), np.int16), np.eye(4)), tmp_path / "big.nii")
    with pytest.raises(TooLargeError, match="8,000 voxels"):
        load_study(tmp_path / "big.nii", limits=replace(LIMITS, max_voxels=7999))


def test_header_claiming_billions_of_voxels_fails_before_reading(tmp_path: Path) -> None:
    """A forged header must not make Iris allocate or read: the default 2^31 limit stops it."""
    header = nib.Nifti1Header()
    header.set_data_shape((4096, 4096, 4096))
    header.set_data_dtype(np.int16)
    raw = header.binaryblock + b"\x00" * 4 + b"\x00" * 1024
    (tmp_path / "forged.nii.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(TooLargeError, match="IRIS_MAX_VOXELS"):
        load_study(tmp_path / "forged.nii.gz", limits=LIMITS)


def test_nifti_without_a_nifti_header(tmp_path: Path) -> None:
    (tmp_path / "fake.nii").write_bytes(b"\x00" * 400)
    with pytest.raises(IngestError):
        load_study(tmp_path / "fake.nii", limits=LIMITS)


def test_real_sample_nifti(shared_data: Path) -> None:
    volume = load_study(shared_data / "example_ct_sm.nii.gz", limits=LIMITS)
    assert volume.shape == (122, 101, 30)
    assert volume.spacing == pytest.approx((3.0, 3.0, 3.0))
    assert volume.array.min() <= -1000
