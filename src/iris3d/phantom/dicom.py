"""Write a :class:`CTVolume` as a DICOM series, the way a scanner would.

One file per slice along the volume's third (superior) axis, LPS geometry in the real tags
(ImagePositionPatient, ImageOrientationPatient, PixelSpacing, SliceThickness), stored values with
RescaleSlope/Intercept, valid file meta, random file names and (by default) shuffled instance
numbers, so a reader that trusts names or numbers instead of geometry fails. Images are written
the conventional way: columns run to the patient's left, rows to posterior.

The patient tags hold an obviously fake identity, so tests can prove none of it reaches metadata.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)
from pydicom.valuerep import format_number_as_ds

from iris3d.geometry import ras_to_lps, reorient_to_ras
from iris3d.volume import CTVolume

_SOP_CLASSES = {"CT": CTImageStorage, "MR": MRImageStorage}
SliceAxis = Literal["axial", "coronal", "sagittal"]
# The canonical RAS axes in (column, row, slice) order for each kind of slice.
_AXES: dict[str, tuple[int, int, int]] = {
    "axial": (0, 1, 2),
    "coronal": (0, 2, 1),
    "sagittal": (1, 2, 0),
}
_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


def write_dicom_series(
    volume: CTVolume,
    folder: Path,
    *,
    series_description: str = "Iris phantom",
    modality: str = "CT",
    series_uid: str | None = None,
    study_uid: str | None = None,
    rescale_intercept: float = -1024.0,
    rescale_slope: float = 1.0,
    slice_order_shuffled: bool = True,
    transfer_syntax: str = ExplicitVRLittleEndian,
    image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "AXIAL"),
    slice_offsets_mm: Sequence[float] | None = None,
    slice_axis: SliceAxis = "axial",
    patient_name: str = "Phantom^Iris",
    seed: int | None = None,
) -> list[Path]:
    """Write ``volume`` into ``folder``; return the files in slice order (inferior, posterior or
    right first, for axial, coronal or sagittal slices).

    ``slice_axis`` chooses the patient axis the slices are stacked along. ``slice_offsets_mm``
    places slice k at that distance from the first along the slice axis instead of the regular
    spacing (to make uneven series); a volume whose affine is sheared
    (third column not perpendicular to the first two) is written as a gantry-tilted series.
    ``transfer_syntax`` may be any syntax pydicom can encode (RLE, JPEG 2000, JPEG-LS).
    """
    rng = np.random.default_rng(seed)
    array, affine_lps = _lps_conventional(volume, slice_axis)
    ni, nj, nk = array.shape
    if slice_offsets_mm is not None and len(slice_offsets_mm) != nk:
        raise ValueError(f"slice_offsets_mm has {len(slice_offsets_mm)} values for {nk} slices")
    stored, signed = _stored_values(array, rescale_slope, rescale_intercept)
    row_dir = affine_lps[:3, 0] / np.linalg.norm(affine_lps[:3, 0])
    col_dir = affine_lps[:3, 1] / np.linalg.norm(affine_lps[:3, 1])
    normal = np.cross(row_dir, col_dir)
    step = affine_lps[:3, 2]
    shared = _series_dataset(
        modality=modality,
        series_description=series_description,
        series_uid=series_uid or generate_uid(),
        study_uid=study_uid or generate_uid(),
        patient_name=patient_name,
        image_type=image_type,
    )
    _set_geometry(shared, affine_lps, row_dir, col_dir)
    shared.RescaleIntercept = _ds(rescale_intercept)
    shared.RescaleSlope = _ds(rescale_slope)
    shared.Rows, shared.Columns = nj, ni
    bits = _bits_stored(stored, signed)
    shared.BitsAllocated, shared.BitsStored, shared.HighBit = 16, bits, bits - 1
    shared.PixelRepresentation = 1 if signed else 0

    folder.mkdir(parents=True, exist_ok=True)
    numbers = rng.permutation(nk) + 1 if slice_order_shuffled else np.arange(nk) + 1
    paths: list[Path] = []
    for k in range(nk):
        offset = (
            step * k
            if slice_offsets_mm is None
            else step / np.linalg.norm(step) * float(slice_offsets_mm[k])
        )
        position = affine_lps[:3, 3] + offset
        ds = _slice_dataset(shared, position, float(position @ normal), int(numbers[k]))
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()
        if transfer_syntax not in _UNCOMPRESSED:
            ds.compress(transfer_syntax)
        elif transfer_syntax == ImplicitVRLittleEndian:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        path = folder / rng.bytes(8).hex()
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _set_geometry(
    ds: Dataset,
    affine_lps: npt.NDArray[np.float64],
    row_dir: npt.NDArray[np.float64],
    col_dir: npt.NDArray[np.float64],
) -> None:
    step = affine_lps[:3, 2]
    normal = np.cross(row_dir, col_dir)
    ds.ImageOrientationPatient = [_ds(v) for v in (*row_dir, *col_dir)]
    # DICOM orders PixelSpacing as (between rows, between columns).
    ds.PixelSpacing = [
        _ds(float(np.linalg.norm(affine_lps[:3, 1]))),
        _ds(float(np.linalg.norm(affine_lps[:3, 0]))),
    ]
    ds.SliceThickness = _ds(abs(float(step @ normal)))
    ds.GantryDetectorTilt = _ds(_tilt_degrees(step, normal))


def _lps_conventional(
    volume: CTVolume, slice_axis: SliceAxis
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]]:
    """The array as ``[column, row, slice]`` with its LPS affine, oriented as scanners write:
    columns run to the patient's left (posterior for sagittal slices), rows to posterior (axial)
    or inferior (coronal, sagittal)."""
    array, affine = reorient_to_ras(volume.array, volume.affine)
    order = _AXES[slice_axis]
    array = array.transpose(order)
    affine = affine[:, [*order, 3]]
    ni, nj, _ = array.shape
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:2, 3] = (ni - 1, nj - 1)
    return array[::-1, ::-1, :], ras_to_lps(affine @ flip)


def _stored_values(
    array: npt.NDArray[np.generic], slope: float, intercept: float
) -> tuple[npt.NDArray[np.int16] | npt.NDArray[np.uint16], bool]:
    stored = np.rint((array.astype(np.float64) - intercept) / slope)
    lo, hi = (float(stored.min()), float(stored.max())) if stored.size else (0.0, 0.0)
    if lo >= 0 and hi <= 65535:
        return stored.astype(np.uint16), False
    if lo >= -32768 and hi <= 32767:
        return stored.astype(np.int16), True
    raise ValueError(f"HU {lo}..{hi} do not fit 16-bit stored values with this slope/intercept")


def _bits_stored(stored: npt.NDArray[np.generic], signed: bool) -> int:
    """12 bits when the values fit, as most CT scanners write; 16 otherwise."""
    lo, hi = (int(stored.min()), int(stored.max())) if stored.size else (0, 0)
    fits_12 = (lo >= -2048 and hi <= 2047) if signed else hi <= 4095
    return 12 if fits_12 else 16


def _tilt_degrees(step: npt.NDArray[np.float64], normal: npt.NDArray[np.float64]) -> float:
    along = abs(float(step @ normal))
    sideways = float(np.linalg.norm(step - (step @ normal) * normal))
    return math.degrees(math.atan2(sideways, along))


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters, as DICOM requires."""
    text = format_number_as_ds(float(value))
    return "0" if text in ("-0", "-0.0") else text


def _series_dataset(
    *,
    modality: str,
    series_description: str,
    series_uid: str,
    study_uid: str,
    patient_name: str,
    image_type: Sequence[str],
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = _SOP_CLASSES.get(modality.upper(), SecondaryCaptureImageStorage)
    ds.ImageType = list(image_type)
    ds.PatientName = patient_name
    ds.PatientID = "IRIS-PHANTOM-0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.AccessionNumber = "IRISACC0001"
    ds.InstitutionName = "Iris Phantom Institute"
    ds.ReferringPhysicianName = "Doctor^Phantom"
    ds.StudyDate = ds.SeriesDate = "20240101"
    ds.StudyTime = ds.SeriesTime = "120000"
    ds.StudyID = "1"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.SeriesNumber = 1
    ds.Modality = modality.upper()
    ds.SeriesDescription = series_description
    ds.Manufacturer = "Iris"
    ds.ManufacturerModelName = "Phantom"
    ds.KVP = "120"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    return ds


def _slice_dataset(
    shared: Dataset, position: npt.NDArray[np.float64], location: float, number: int
) -> Dataset:
    ds = copy.deepcopy(shared)  # compress() edits elements in place; keep slices apart
    sop_uid = generate_uid()
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.SliceLocation = _ds(location)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = shared.SOPClassUID
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds
