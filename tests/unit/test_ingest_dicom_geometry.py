"""Series that do not stack into a regular grid: each is resampled correctly or refused by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.uid import generate_uid

from iris3d.geometry import transform_points
from iris3d.ingest import load_study
from iris3d.ingest.errors import IrregularGeometryError, NotAVolumeError
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.volume import CTVolume

LIMITS = ReadLimits.defaults()

# HU as a linear function of RAS millimetres: linear interpolation reproduces it exactly, so a
# resampled volume can be checked voxel by voxel against where each voxel really is.
_SLOPE_HU_PER_MM = np.array([2.0, -1.5, 3.0])


def _hu_at(points_ras: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return points_ras @ _SLOPE_HU_PER_MM  # type: ignore[no-any-return]


def _linear_volume(
    shape: tuple[int, int, int], affine: npt.NDArray[np.float64], offsets: list[float] | None = None
) -> CTVolume:
    ijk = np.indices(shape).reshape(3, -1).T.astype(np.float64)
    world = transform_points(affine, ijk)
    if offsets is not None:
        world[:, 2] = affine[2, 3] + np.asarray(offsets)[ijk[:, 2].astype(int)]
    return CTVolume(np.rint(_hu_at(world)).astype(np.int16).reshape(shape), affine)


def _world(volume: CTVolume) -> npt.NDArray[np.float64]:
    ijk = np.indices(volume.shape).reshape(3, -1).T.astype(np.float64)
    return transform_points(volume.affine, ijk)


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return make_phantom(shape=(48, 40, 24), spacing=(7.0, 7.5, 10.0), seed=5)


def _edit(path: Path, **tags: object) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.save_as(path)


def _position(path: Path) -> list[float]:
    return [float(v) for v in pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient]


def test_small_position_jitter_is_tolerated(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    rng = np.random.default_rng(0)
    for path in paths[1:-1]:
        x, y, z = _position(path)
        _edit(path, ImagePositionPatient=[x, y, round(z + rng.uniform(-0.05, 0.05), 3)])
    loaded = load_study(tmp_path, limits=LIMITS)
    np.testing.assert_array_equal(loaded.array, phantom.ct.array)
    np.testing.assert_allclose(loaded.affine, phantom.ct.affine, atol=1e-4)
    assert loaded.metadata.warnings == ()


def test_uneven_spacing_is_resampled_to_a_regular_grid(tmp_path: Path) -> None:
    offsets = [0.0, 4.0, 8.0, 12.5, 16.5, 21.0, 25.0, 29.0, 33.0, 37.5, 41.0, 45.0]
    affine = np.diag([1.5, 1.25, 4.0, 1.0])
    affine[:3, 3] = (-30.0, 10.0, -20.0)
    volume = _linear_volume((40, 36, len(offsets)), affine, offsets)
    write_dicom_series(volume, tmp_path, slice_offsets_mm=offsets)

    loaded = load_study(tmp_path, limits=LIMITS)
    assert loaded.shape == (40, 36, 12)
    np.testing.assert_allclose(loaded.spacing, (1.5, 1.25, 45.0 / 11), atol=1e-6)
    np.testing.assert_allclose(loaded.affine[:3, 3], affine[:3, 3], atol=1e-4)
    expected = _hu_at(_world(loaded)).reshape(loaded.shape)
    assert np.abs(loaded.array - expected).max() <= 1.0
    assert any("uneven slice spacing" in w for w in loaded.metadata.warnings)


def test_a_missing_slice_is_refused_naming_the_gap(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    z9 = _position(paths[9])[2]
    paths[10].unlink()
    with pytest.raises(IrregularGeometryError) as caught:
        load_study(tmp_path, limits=LIMITS)
    message = str(caught.value)
    assert "gap of 20.00 mm" in message
    assert f"slice index 9 at {z9:.2f} mm" in message
    assert "about 1 slice(s) missing" in message


def test_gantry_tilt_is_resampled_onto_an_orthogonal_grid(tmp_path: Path) -> None:
    tilt = np.radians(15.0)
    affine = np.eye(4)
    affine[:3, 0] = (1.5, 0.0, 0.0)
    affine[:3, 1] = 1.25 * np.array([0.0, np.cos(tilt), np.sin(tilt)])  # image rows tilt up
    affine[:3, 2] = (0.0, 0.0, 3.0)  # the table moves straight along z
    affine[:3, 3] = (-30.0, -20.0, 50.0)
    source = _linear_volume((40, 36, 10), affine)
    paths = write_dicom_series(source, tmp_path)
    assert float(pydicom.dcmread(paths[0]).GantryDetectorTilt) == pytest.approx(15.0)

    loaded = load_study(tmp_path, limits=LIMITS)
    assert any("gantry tilt of 15.0 degrees" in w for w in loaded.metadata.warnings)
    columns = loaded.affine[:3, :3] / np.linalg.norm(loaded.affine[:3, :3], axis=0)
    np.testing.assert_allclose(columns.T @ columns, np.eye(3), atol=1e-9)
    world = _world(loaded)
    inside = transform_points(np.linalg.inv(affine).astype(np.float64), world)
    margin = 1e-3
    fully_inside = np.all((inside >= -margin) & (inside <= np.array(source.shape) - 1 + margin), 1)
    assert fully_inside.mean() > 0.5
    values = loaded.array.reshape(-1)[fully_inside]
    assert np.abs(values - _hu_at(world[fully_inside])).max() <= 1.0


def test_gantry_tilt_with_uneven_spacing_is_refused(tmp_path: Path) -> None:
    affine = np.eye(4)
    affine[:3, 1] = (0.0, np.cos(0.2), np.sin(0.2))
    affine[:3, 2] = (0.0, 0.0, 3.0)
    offsets = [0.0, 3.0, 6.0, 9.5, 12.5, 16.0]
    write_dicom_series(_linear_volume((40, 36, 6), affine), tmp_path, slice_offsets_mm=offsets)
    with pytest.raises(IrregularGeometryError, match="gantry tilt together with uneven"):
        load_study(tmp_path, limits=LIMITS)


def test_identical_duplicates_are_dropped_with_a_warning(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    shutil.copy(paths[5], tmp_path / "copy-of-five")
    _edit(paths[7], SOPInstanceUID=generate_uid())
    shutil.copy(paths[7], tmp_path / "copy-of-seven")
    loaded = load_study(tmp_path, limits=LIMITS)
    np.testing.assert_array_equal(loaded.array, phantom.ct.array)
    assert any("2 duplicate image(s)" in w for w in loaded.metadata.warnings)
    assert loaded.metadata.number_of_slices == 24


def test_different_images_at_one_position_are_refused(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    ds = pydicom.dcmread(paths[5])
    pixels = ds.pixel_array.copy()
    pixels[10, 10] += 100
    ds.PixelData = pixels.tobytes()
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "other-image-same-place")
    with pytest.raises(IrregularGeometryError, match="two different images at the same position"):
        load_study(tmp_path, limits=LIMITS)


def test_mixed_image_sizes_are_refused_naming_the_sizes(phantom: Phantom, tmp_path: Path) -> None:
    write_dicom_series(phantom.ct, tmp_path / "a", series_uid="1.9.1")
    smaller = CTVolume(phantom.ct.array[4:44, 2:34, :].copy(), phantom.ct.affine)
    write_dicom_series(smaller, tmp_path / "b", series_uid="1.9.1")
    with pytest.raises(IrregularGeometryError, match=r"48x40 \(24 images\), 40x32 \(24 images\)"):
        load_study(tmp_path, limits=LIMITS)


def test_slices_shifted_sideways_are_refused(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    x, y, z = _position(paths[12])
    _edit(paths[12], ImagePositionPatient=[x + 3.0, y, z])
    with pytest.raises(IrregularGeometryError, match="sideways"):
        load_study(tmp_path, limits=LIMITS)


def test_two_images_side_by_side_at_one_position_are_refused(
    phantom: Phantom, tmp_path: Path
) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    x, y, z = _position(paths[6])
    ds = pydicom.dcmread(paths[6])
    ds.ImagePositionPatient = [x + 50.0, y, z]
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "beside-six")
    with pytest.raises(IrregularGeometryError, match=r"same position.*shifted sideways"):
        load_study(tmp_path, limits=LIMITS)


def test_slices_rotated_in_plane_are_refused(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    a = np.radians(5.0)
    _edit(paths[3], ImageOrientationPatient=[np.cos(a), np.sin(a), 0, -np.sin(a), np.cos(a), 0])
    with pytest.raises(IrregularGeometryError, match="not all oriented the same way"):
        load_study(tmp_path, limits=LIMITS)


def test_a_series_of_non_parallel_images_is_not_a_volume(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    _edit(paths[3], ImageOrientationPatient=[1, 0, 0, 0, 0, -1])
    with pytest.raises(NotAVolumeError, match="not parallel"):
        load_study(tmp_path, limits=LIMITS)
