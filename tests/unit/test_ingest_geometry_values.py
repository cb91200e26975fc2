"""Meaningless geometry and values end in a typed error with a plain message (or, for NaN voxels,
in air and a warning), never in a library's exception."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from iris3d.imageio import LabelFileError, read_nifti_labels
from iris3d.ingest import load_study
from iris3d.ingest.errors import (
    CorruptFileError,
    InvalidGeometryError,
    NoImagesError,
    NotAVolumeError,
    UnsupportedFormatError,
)
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series

LIMITS = ReadLimits.defaults()

_DATA = np.full((8, 8, 8), -1000, np.int16)


def _nifti(path: Path, sform: np.ndarray | None, qform: np.ndarray | None,
           data: np.ndarray = _DATA, pixdim: float | None = None) -> Path:
    image = nib.Nifti1Image(data, None)
    header = image.header
    if sform is not None:
        header.set_sform(sform, code=1)
    else:
        header["sform_code"] = 0
    if qform is not None:
        header.set_qform(qform, code=1)
    else:
        header["qform_code"] = 0
    if pixdim is not None:
        header["pixdim"][1:4] = pixdim
    nib.save(image, path)
    return path


def test_nonfinite_sform_without_qform_is_refused(tmp_path: Path) -> None:
    sform = np.eye(4)
    sform[0, 0] = np.nan
    with pytest.raises(InvalidGeometryError, match="not a finite number"):
        load_study(_nifti(tmp_path / "nan.nii", sform, None), limits=LIMITS)


def test_singular_sform_falls_back_to_a_valid_qform(tmp_path: Path) -> None:
    sform = np.eye(4)
    sform[:3, 0] = sform[:3, 1]  # two parallel axes
    volume = load_study(_nifti(tmp_path / "flat.nii", sform, np.diag([2.0, 2.0, 2.0, 1.0])),
                        limits=LIMITS)
    assert volume.spacing == pytest.approx((2.0, 2.0, 2.0))
    assert any("qform was used" in w for w in volume.metadata.warnings)


def test_singular_sform_and_no_qform_is_refused(tmp_path: Path) -> None:
    sform = np.eye(4)
    sform[:3, 0] = sform[:3, 1]
    with pytest.raises(InvalidGeometryError, match="parallel"):
        load_study(_nifti(tmp_path / "flat.nii", sform, None), limits=LIMITS)


@pytest.mark.parametrize("pixdim", [0.0, -0.0, 1e9])
def test_absurd_voxel_size_is_refused(tmp_path: Path, pixdim: float) -> None:
    with pytest.raises(InvalidGeometryError, match="spacing"):
        load_study(_nifti(tmp_path / "zero.nii", None, None, pixdim=pixdim), limits=LIMITS)


@pytest.mark.parametrize("dtype", [np.complex64, np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])])
def test_complex_and_rgb_voxels_are_refused(tmp_path: Path, dtype: np.dtype) -> None:
    data = np.zeros((8, 8, 8), dtype=dtype)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "odd.nii")
    with pytest.raises(UnsupportedFormatError, match=r"complex|colour"):
        load_study(tmp_path / "odd.nii", limits=LIMITS)


def test_nan_voxels_become_air_with_a_warning(tmp_path: Path) -> None:
    data = np.full((8, 8, 8), 40.0, np.float32)
    data[0, 0, :] = np.nan
    data[1, 1, 1] = np.inf
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "nan.nii.gz")
    volume = load_study(tmp_path / "nan.nii.gz", limits=LIMITS)
    assert np.isfinite(volume.array).all()
    assert volume.array[0, 0, 0] == -1024
    assert any("9 voxel(s) held no number" in w for w in volume.metadata.warnings)


def test_itk_zero_spacing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zero.mha"
    path.write_bytes(b"ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementSpacing = 0 0 0\n"
                     b"ElementType = MET_SHORT\nElementDataFile = LOCAL\n" + b"\0" * 1024)
    with pytest.raises((InvalidGeometryError, CorruptFileError)) as caught:
        load_study(path, limits=LIMITS)
    assert "itk" not in str(caught.value).lower()


def test_itk_complex_voxels_are_refused(tmp_path: Path) -> None:
    image = sitk.GetImageFromArray(np.zeros((8, 8, 8), np.complex64))
    sitk.WriteImage(image, str(tmp_path / "c.mha"))
    with pytest.raises((UnsupportedFormatError, NotAVolumeError), match=r"complex|2 components"):
        load_study(tmp_path / "c.mha", limits=LIMITS)


def _edit_series(folder: Path, phantom: Phantom, **values: object) -> Path:
    write_dicom_series(phantom.ct, folder)
    for file in folder.iterdir():
        ds = pydicom.dcmread(file)
        for key, value in values.items():
            if value is None:
                delattr(ds, key)
            else:
                setattr(ds, key, value)
        ds.save_as(file)
    return folder


def test_dicom_orientation_all_zeros_is_named(small_phantom: Phantom, tmp_path: Path) -> None:
    folder = _edit_series(tmp_path / "s", small_phantom, ImageOrientationPatient=[0] * 6)
    with pytest.raises(NoImagesError, match="ImageOrientationPatient"):
        load_study(folder, limits=LIMITS)


def test_dicom_zero_pixel_spacing_is_named(small_phantom: Phantom, tmp_path: Path) -> None:
    folder = _edit_series(tmp_path / "s", small_phantom, PixelSpacing=[0, 0])
    with pytest.raises(NoImagesError, match="PixelSpacing"):
        load_study(folder, limits=LIMITS)


def test_dicom_without_positions_is_named(small_phantom: Phantom, tmp_path: Path) -> None:
    folder = _edit_series(tmp_path / "s", small_phantom, ImagePositionPatient=None)
    with pytest.raises(NoImagesError, match="no position"):
        load_study(folder, limits=LIMITS)


def test_dicom_rows_disagreeing_with_pixels(small_phantom: Phantom, tmp_path: Path) -> None:
    folder = _edit_series(tmp_path / "s", small_phantom, Rows=small_phantom.ct.shape[1] + 3)
    with pytest.raises(CorruptFileError, match="Rows, Columns") as caught:
        load_study(folder, limits=LIMITS)
    assert "expected length" not in str(caught.value)  # pydicom's own words stay in the log


def test_dicom_one_bit_pixels_are_named(small_phantom: Phantom, tmp_path: Path) -> None:
    folder = _edit_series(tmp_path / "s", small_phantom, BitsAllocated=1)
    with pytest.raises(NoImagesError, match="1-bit"):
        load_study(folder, limits=LIMITS)


@pytest.mark.parametrize("value", [1e30, np.nan, -3.0, 70000.0])
def test_label_maps_with_impossible_ids_are_refused(tmp_path: Path, value: float) -> None:
    data = np.zeros((8, 8, 8), np.float32)
    data[2, 2, 2] = value
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "seg.nii.gz")
    with pytest.raises(LabelFileError):
        read_nifti_labels(tmp_path / "seg.nii.gz", LIMITS.max_voxels)


def test_label_map_with_singular_geometry_is_refused(tmp_path: Path) -> None:
    sform = np.eye(4)
    sform[:3, 0] = sform[:3, 1]
    _nifti(tmp_path / "seg.nii.gz", sform, None, data=np.ones((8, 8, 8), np.uint8))
    with pytest.raises(LabelFileError, match="geometry"):
        read_nifti_labels(tmp_path / "seg.nii.gz", LIMITS.max_voxels)
