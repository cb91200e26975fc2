"""The real CT sample (20 JPEG 2000 slices from a Siemens scanner) loads in the right geometry."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels.utils import pixel_array

from iris3d.geometry import transform_points
from iris3d.ingest import list_series, load_study
from iris3d.ingest.limits import ReadLimits
from iris3d.volume import CTVolume

LIMITS = ReadLimits.defaults()


@pytest.fixture(scope="module")
def dicom_dir(shared_data: Path) -> Path:
    folder = shared_data / "example_ct_dicom"
    if not folder.is_dir():
        pytest.skip(f"the real DICOM sample is not present at {folder}")
    return folder


@pytest.fixture(scope="module")
def volume(dicom_dir: Path) -> CTVolume:
    return load_study(dicom_dir, limits=LIMITS)


def test_sample_loads_to_the_documented_grid(volume: CTVolume) -> None:
    assert volume.shape == (512, 512, 20)
    np.testing.assert_allclose(volume.spacing, (0.977, 0.977, 2.0), atol=1e-3)
    assert volume.orientation == "RAS"
    assert volume.array.dtype == np.int16
    meta = volume.metadata
    assert meta.modality == "CT"
    assert meta.manufacturer == "SIEMENS"
    assert meta.kvp == 120.0
    assert meta.number_of_slices == 20
    assert meta.series_description == "CT Body 3.0"


def test_sample_hounsfield_units_are_plausible(volume: CTVolume) -> None:
    corner = volume.array[:40, 480:, :]  # anterior right corner: air in front of the patient
    assert -1030 <= float(np.median(corner)) <= -950
    centre = volume.array[200:312, 200:312, :]
    assert -200 <= float(np.median(centre)) <= 200  # soft tissue in the abdomen
    assert volume.array.min() >= -1024 - 1
    assert volume.array.max() >= 700  # bone


def test_every_pixel_lands_where_its_own_header_says(volume: CTVolume, dicom_dir: Path) -> None:
    """Independent of the loader: place a file's pixels by its LPS tags and compare in RAS."""
    path = sorted(dicom_dir.iterdir())[7]
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    row_dir = np.array([float(v) for v in ds.ImageOrientationPatient[:3]])
    col_dir = np.array([float(v) for v in ds.ImageOrientationPatient[3:]])
    dr, dc = (float(v) for v in ds.PixelSpacing)
    origin = np.array([float(v) for v in ds.ImagePositionPatient])
    rows, cols = np.meshgrid([0, 17, 300, 511], [0, 5, 260, 511], indexing="ij")
    lps = origin + cols.reshape(-1, 1) * dc * row_dir + rows.reshape(-1, 1) * dr * col_dir
    ras = lps * np.array([-1.0, -1.0, 1.0])
    ijk = transform_points(np.linalg.inv(volume.affine).astype(np.float64), ras)
    np.testing.assert_allclose(ijk, np.rint(ijk), atol=1e-3)
    i, j, k = np.rint(ijk).astype(int).T
    np.testing.assert_array_equal(volume.array[i, j, k], hu[rows.reshape(-1), cols.reshape(-1)])


def test_sample_pixels_decode_with_the_declared_jpeg2000_plugin(dicom_dir: Path) -> None:
    path = sorted(dicom_dir.iterdir())[0]
    assert pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID.is_compressed
    decoded = pixel_array(path, decoding_plugin="pylibjpeg")
    assert decoded.shape == (512, 512)


def test_zipped_sample_loads_identically(volume: CTVolume, dicom_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "sample.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in dicom_dir.iterdir():
            zf.write(path, f"export/ct/{path.name}")
    zipped = load_study(archive, limits=LIMITS)
    np.testing.assert_array_equal(zipped.array, volume.array)
    np.testing.assert_allclose(zipped.affine, volume.affine, atol=1e-6)
    assert [s.slice_count for s in list_series(archive, limits=LIMITS)] == [20]
