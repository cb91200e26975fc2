"""DICOM series folders: round trips of the phantom, choosing a series, compression, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels.utils import pixel_array
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless, RLELossless

from iris3d.ingest import list_series, load_study
from iris3d.ingest.errors import (
    CorruptFileError,
    NoImagesError,
    NotAVolumeError,
    NotCTError,
    SeriesNotFoundError,
    TooLargeError,
)
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.volume import CTVolume

LIMITS = ReadLimits.defaults()


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    # Unequal spacings and an off-centre origin so that a swapped axis or lost offset shows.
    return make_phantom(shape=(48, 40, 24), spacing=(7.0, 7.5, 10.0), noise_hu=8.0, seed=3)


def _same_volume(loaded: CTVolume, expected: CTVolume) -> None:
    assert loaded.shape == expected.shape
    np.testing.assert_array_equal(loaded.array, expected.array)
    np.testing.assert_allclose(loaded.affine, expected.affine, atol=1e-4)


@pytest.mark.parametrize("slice_axis", ["axial", "coronal", "sagittal"])
def test_phantom_written_as_dicom_loads_back_identically(
    phantom: Phantom, tmp_path: Path, slice_axis: str
) -> None:
    write_dicom_series(phantom.ct, tmp_path, slice_axis=slice_axis)  # type: ignore[arg-type]
    loaded = load_study(tmp_path, limits=LIMITS)
    _same_volume(loaded, phantom.ct)
    assert loaded.orientation == "RAS"
    assert loaded.metadata.modality == "CT"
    assert loaded.metadata.series[0].orientation == slice_axis
    assert loaded.metadata.warnings == ()


def test_files_are_stacked_by_geometry_not_by_name_or_instance_number(
    phantom: Phantom, tmp_path: Path
) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path, seed=1)
    numbers = [int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) for p in paths]
    assert numbers != sorted(numbers)
    assert sorted(p.name for p in paths) != [p.name for p in paths]
    _same_volume(load_study(tmp_path, limits=LIMITS), phantom.ct)


def test_oblique_and_flipped_affines_survive_the_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(-1000, 1500, size=(40, 36, 8)).astype(np.int16)
    angle = np.radians(12.0)
    affine = np.eye(4)
    # Rotated about z, with x flipped: written as tilted-in-plane LPS slices.
    affine[:3, :3] = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    ) @ np.diag([-0.8, 0.9, 3.0])
    affine[:3, 3] = (40.0, -20.0, 100.0)
    volume = CTVolume(array, affine)
    write_dicom_series(volume, tmp_path)
    loaded = load_study(tmp_path, limits=LIMITS)
    from iris3d.geometry import reorient_to_ras

    expected_array, expected_affine = reorient_to_ras(array, affine)
    np.testing.assert_array_equal(loaded.array, expected_array)
    np.testing.assert_allclose(loaded.affine, expected_affine, atol=1e-4)


def test_non_integer_rescale_slope_gives_float_hounsfield(tmp_path: Path) -> None:
    array = (np.arange(40 * 36 * 4).reshape(40, 36, 4) % 400 - 1000).astype(np.float32) / 2
    volume = CTVolume(array.astype(np.float32), np.diag([1.0, 1.0, 2.0, 1.0]))
    write_dicom_series(volume, tmp_path, rescale_slope=0.5, rescale_intercept=-1024.0)
    loaded = load_study(tmp_path, limits=LIMITS)
    assert loaded.array.dtype == np.float32
    np.testing.assert_array_equal(loaded.array, array)


def test_largest_axial_ct_series_is_chosen_and_the_others_can_be_asked_for(
    phantom: Phantom, tmp_path: Path
) -> None:
    crop_affine = phantom.ct.affine.copy()
    crop_affine[:3, 3] += 4 * phantom.ct.affine[:3, 2]
    small = CTVolume(phantom.ct.array[:, :, 4:16].copy(), crop_affine)
    write_dicom_series(phantom.ct, tmp_path / "a", series_uid="1.2.3.1", series_description="big")
    write_dicom_series(small, tmp_path / "b", series_uid="1.2.3.2", series_description="small")
    # More images than the axial series, but coronal: the axial one is still the default.
    write_dicom_series(phantom.ct, tmp_path / "c", series_uid="1.2.3.3", slice_axis="coronal")
    scout = CTVolume(phantom.ct.array[:, 20:21, :].copy(), phantom.ct.affine)
    write_dicom_series(
        scout,
        tmp_path / "d",
        series_uid="1.2.3.4",
        slice_axis="coronal",
        image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
    )

    loaded = load_study(tmp_path, limits=LIMITS)
    _same_volume(loaded, phantom.ct)
    assert loaded.metadata.series_uid == "1.2.3.1"
    assert len(loaded.metadata.series) == 4
    assert any("4 series found" in w and "1.2.3.1" in w for w in loaded.metadata.warnings)

    other = load_study(tmp_path, series_uid="1.2.3.2", limits=LIMITS)
    np.testing.assert_array_equal(other.array, phantom.ct.array[:, :, 4:16])
    np.testing.assert_allclose(other.affine, crop_affine, atol=1e-4)
    _same_volume(load_study(tmp_path, series_uid="1.2.3.3", limits=LIMITS), phantom.ct)

    listed = {s.uid: s for s in list_series(tmp_path, limits=LIMITS)}
    assert listed["1.2.3.4"].orientation == "localizer"
    assert listed["1.2.3.3"].orientation == "coronal"
    with pytest.raises(NotAVolumeError, match=r"1\.2\.3\.4.*localizer"):
        load_study(tmp_path, series_uid="1.2.3.4", limits=LIMITS)
    with pytest.raises(SeriesNotFoundError, match=r"1\.2\.3\.1.*1\.2\.3\.2"):
        load_study(tmp_path, series_uid="9.9.9", limits=LIMITS)


def test_localizer_images_inside_the_ct_series_are_left_out(
    phantom: Phantom, tmp_path: Path
) -> None:
    write_dicom_series(phantom.ct, tmp_path / "ct", series_uid="1.2.5")
    scout = CTVolume(phantom.ct.array[:, 20:21, :].copy(), phantom.ct.affine)
    write_dicom_series(
        scout,
        tmp_path / "scout",
        series_uid="1.2.5",
        slice_axis="coronal",
        image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
    )
    loaded = load_study(tmp_path, limits=LIMITS)
    _same_volume(loaded, phantom.ct)
    assert any("localizer" in w for w in loaded.metadata.warnings)


def test_a_series_with_one_image_is_not_a_volume(phantom: Phantom, tmp_path: Path) -> None:
    single = CTVolume(phantom.ct.array[:, :, 3:4].copy(), phantom.ct.affine)
    write_dicom_series(single, tmp_path)
    assert list_series(tmp_path, limits=LIMITS)[0].orientation == "localizer"
    with pytest.raises(NotAVolumeError):
        load_study(tmp_path, limits=LIMITS)


def _transcode_to_jpeg_lossless(paths: list[Path]) -> None:
    gdcm = pytest.importorskip("gdcm", reason="python-gdcm encodes the JPEG lossless test data")
    for path in paths:
        reader = gdcm.ImageReader()
        reader.SetFileName(str(path))
        assert reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        assert change.Change()
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(path))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write()


@pytest.mark.parametrize(
    "syntax", [JPEG2000Lossless, JPEGLosslessSV1, RLELossless, JPEGLSLossless], ids=str
)
def test_compressed_series_decode_to_the_same_hounsfield_units(
    phantom: Phantom, tmp_path: Path, syntax: str
) -> None:
    if syntax == JPEGLSLossless:
        pytest.importorskip("jpeg_ls", reason="pyjpegls encodes the JPEG-LS test data")
    if syntax == JPEGLosslessSV1:
        paths = write_dicom_series(phantom.ct, tmp_path)
        _transcode_to_jpeg_lossless(paths)
    else:
        paths = write_dicom_series(phantom.ct, tmp_path, transfer_syntax=syntax)
    assert pydicom.dcmread(paths[0]).file_meta.TransferSyntaxUID == syntax
    _same_volume(load_study(tmp_path, limits=LIMITS), phantom.ct)
    if syntax != RLELossless:
        # The declared dependencies decode it by themselves, without GDCM or Pillow.
        reference = pydicom.dcmread(paths[0])
        decoded = pixel_array(paths[0], decoding_plugin="pylibjpeg")
        assert decoded.shape == (reference.Rows, reference.Columns)
        np.testing.assert_array_equal(decoded, reference.pixel_array)


def test_no_patient_identity_reaches_the_metadata(phantom: Phantom, tmp_path: Path) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path, patient_name="Doe^Jane")
    header = pydicom.dcmread(paths[0], stop_before_pixels=True)
    assert str(header.PatientName) == "Doe^Jane"
    text = json.dumps(load_study(tmp_path, limits=LIMITS).metadata.to_dict())
    for secret in ("Doe", "Jane", header.PatientID, header.PatientBirthDate):
        assert secret not in text
    for secret in (header.AccessionNumber, header.InstitutionName, header.StudyInstanceUID):
        assert secret not in text


def test_folder_without_dicom_images_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (tmp_path / "sub" / "empty").write_bytes(b"")
    with pytest.raises(NoImagesError, match="3 file"):
        load_study(tmp_path, limits=LIMITS)
    assert list_series(tmp_path, limits=LIMITS) == []


def test_mr_series_is_refused_unless_allowed(phantom: Phantom, tmp_path: Path) -> None:
    write_dicom_series(phantom.ct, tmp_path, modality="MR", rescale_intercept=-1024.0)
    with pytest.raises(NotCTError, match="MR"):
        load_study(tmp_path, limits=LIMITS)
    loaded = load_study(tmp_path, allow_non_ct=True, limits=LIMITS)
    assert loaded.metadata.modality == "MR"
    _same_volume(loaded, phantom.ct)


def test_mr_series_chosen_by_uid_is_refused_too(phantom: Phantom, tmp_path: Path) -> None:
    write_dicom_series(phantom.ct, tmp_path / "ct", series_uid="1.7.1")
    write_dicom_series(phantom.ct, tmp_path / "mr", series_uid="1.7.2", modality="MR")
    assert load_study(tmp_path, limits=LIMITS).metadata.series_uid == "1.7.1"
    with pytest.raises(NotCTError, match=r"1\.7\.2"):
        load_study(tmp_path, series_uid="1.7.2", limits=LIMITS)


def test_too_many_voxels_is_refused_before_pixels_are_read(
    phantom: Phantom, tmp_path: Path
) -> None:
    paths = write_dicom_series(phantom.ct, tmp_path)
    # Damage one image's pixels: a size refusal proves they were never decoded.
    data = paths[3].read_bytes()
    paths[3].write_bytes(data[: len(data) - 500])
    with pytest.raises(TooLargeError, match="IRIS_MAX_VOXELS"):
        load_study(tmp_path, limits=replace(LIMITS, max_voxels=48 * 40 * 24 - 1))
    with pytest.raises(CorruptFileError, match=paths[3].name):
        load_study(tmp_path, limits=replace(LIMITS, max_voxels=48 * 40 * 24))
