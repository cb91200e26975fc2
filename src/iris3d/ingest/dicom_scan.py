"""Find the image series in a folder of DICOM files, reading headers only.

Each file is opened with ``stop_before_pixels`` so a scan of a thousand-slice study costs headers,
not pixels. Files that are not DICOM images with a place in patient space (README files, DICOMDIR,
dose reports without geometry, colour screenshots) are skipped. Localizers (scouts) are kept apart
from the images that may stack into a volume: by their Image Type, or because a series holds a
single image or images that are not parallel.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from iris3d.ingest.checks import MAX_ORIGIN_MM, MAX_SPACING_MM, MIN_SPACING_MM
from iris3d.volume import SeriesSummary

NO_UID_PREFIX = "no-uid-"
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_LOCALIZER_TYPES = frozenset({"LOCALIZER", "SCOUT"})
# A series whose normal is within this angle of a patient axis is named after it; gantry tilts
# reach about 30 degrees and still make an axial series.
_OBLIQUE_COS = math.cos(math.radians(40.0))
_PARALLEL_COS = math.cos(math.radians(0.5))


@dataclass(frozen=True)
class SliceHeader:
    """What one image file says about itself, in DICOM's own terms (LPS millimetres)."""

    path: Path
    forced: bool  # read without the DICM preamble
    sop_uid: str
    instance_number: int | None
    rows: int
    columns: int
    frames: int
    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float, float, float]
    pixel_spacing: tuple[float, float]  # (between rows, between columns), as DICOM orders them
    slope: float
    intercept: float
    localizer: bool

    @property
    def normal(self) -> npt.NDArray[np.float64]:
        row = np.array(self.orientation[:3])
        col = np.array(self.orientation[3:])
        n = np.cross(row, col)
        return n / np.linalg.norm(n)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SeriesInfo:
    """One series: its summary for listing, and the images that may stack into its volume."""

    summary: SeriesSummary
    slices: tuple[SliceHeader, ...]
    manufacturer: str | None
    kvp: float | None
    slice_thickness_mm: float | None
    notes: tuple[str, ...] = ()
    # What a DICOM result (SEG, SR) references; empty when the images do not say.
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""

    @property
    def is_volume(self) -> bool:
        return self.summary.orientation in ("axial", "coronal", "sagittal", "oblique")


@dataclass(frozen=True)
class ScanResult:
    series: list[SeriesInfo]
    files_seen: int
    files_skipped: int
    # Images left out although they are DICOM images, by reason: "3 image(s): ...".
    unplaced: tuple[str, ...] = ()


_KEYWORDS_USED_LATER = ("SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "Modality",
                        "FrameOfReferenceUID", "Manufacturer", "KVP", "SliceThickness",
                        "StudyInstanceUID", "SOPClassUID")


class _UnplaceableError(Exception):
    """A DICOM image whose header cannot put it in patient space; the message says why."""


def scan_series(folder: Path) -> list[SeriesInfo]:
    """Every image series under ``folder``, the largest first."""
    return scan_folder(folder).series


def scan_folder(folder: Path) -> ScanResult:
    headers: dict[str, list[tuple[Dataset, SliceHeader]]] = defaultdict(list)
    reasons: Counter[str] = Counter()
    seen = skipped = 0
    for path in _files_under(folder):
        seen += 1
        read = _read_header(path)
        if read is None or isinstance(read, str):
            skipped += 1
            if isinstance(read, str):
                reasons[read] += 1
            continue
        ds, header = read
        headers[_series_key(ds)].append((ds, header))
    series = [_series_info(uid, items) for uid, items in headers.items()]
    series.sort(key=lambda s: (-s.summary.slice_count, s.summary.uid))
    unplaced = tuple(f"{n} image(s): {reason}" for reason, n in reasons.most_common())
    return ScanResult(series=series, files_seen=seen, files_skipped=skipped, unplaced=unplaced)


def _files_under(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):  # never follows symlinked folders
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files) if not name.startswith("."))
    return found


def _read_header(path: Path) -> tuple[Dataset, SliceHeader] | str | None:
    """The file's header as a :class:`SliceHeader`; None when it is no image, or why an image
    cannot be placed in patient space."""
    forced = False
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        if not _looks_like_raw_dataset(path):
            return None
        forced = True
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception:  # a damaged file is skipped like any non-DICOM file
            return None
    except Exception:
        return None
    try:
        header = _slice_header(path, ds, forced)
        for keyword in _KEYWORDS_USED_LATER:  # pydicom decodes lazily: decode them here
            ds.get(keyword)
    except _UnplaceableError as e:
        return str(e)
    except Exception:  # pydicom raises many types for values it cannot decode
        return "a header field holds a value that cannot be decoded"
    return None if header is None else (ds, header)


def _looks_like_raw_dataset(path: Path) -> bool:
    """A DICOM dataset written without its 128-byte preamble starts with a group 0008 tag."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head[:2] in (b"\x08\x00", b"\x02\x00")


def _slice_header(path: Path, ds: Dataset, forced: bool) -> SliceHeader | None:
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class == _DICOMDIR_SOP_CLASS:
        return None
    if not all(k in ds for k in ("Rows", "Columns")):
        return None
    if not all(k in ds for k in ("ImagePositionPatient", "ImageOrientationPatient",
                                 "PixelSpacing")):
        if "ImageType" in ds and "Rows" in ds and str(ds.get("Modality", "")) == "CT":
            raise _UnplaceableError("no position, orientation or pixel spacing in patient space")
        return None
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        return None
    position = tuple(float(v) for v in ds.ImagePositionPatient)
    orientation = tuple(float(v) for v in ds.ImageOrientationPatient)
    spacing = tuple(float(v) for v in ds.PixelSpacing)
    _check_placement(position, orientation, spacing)
    _check_pixel_description(ds)
    image_type = {str(v).strip().upper() for v in (ds.get("ImageType") or [])}
    number = ds.get("InstanceNumber")
    return SliceHeader(
        path=path,
        forced=forced,
        sop_uid=str(ds.get("SOPInstanceUID", "")),
        instance_number=int(number) if number not in (None, "") else None,
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        frames=int(ds.get("NumberOfFrames") or 1),
        position=(position[0], position[1], position[2]),
        orientation=(orientation[0], orientation[1], orientation[2], orientation[3],
                     orientation[4], orientation[5]),
        pixel_spacing=(spacing[0], spacing[1]),
        slope=float(ds.get("RescaleSlope") or 1.0),
        intercept=float(ds.get("RescaleIntercept") or 0.0),
        localizer=bool(image_type & _LOCALIZER_TYPES),
    )


def _check_placement(
    position: tuple[float, ...], orientation: tuple[float, ...], spacing: tuple[float, ...]
) -> None:
    if len(position) != 3 or len(orientation) != 6 or len(spacing) != 2:
        raise _UnplaceableError("ImagePositionPatient, ImageOrientationPatient or PixelSpacing has "
                           "the wrong number of values")
    if not all(math.isfinite(v) for v in (*position, *orientation, *spacing)):
        raise _UnplaceableError("its position, orientation or pixel spacing is not a finite number")
    row, col = np.array(orientation[:3]), np.array(orientation[3:])
    lengths = (float(np.linalg.norm(row)), float(np.linalg.norm(col)))
    if min(lengths) < 0.9 or max(lengths) > 1.1 or abs(float(row @ col)) > 0.05:
        raise _UnplaceableError("ImageOrientationPatient is not two perpendicular unit directions")
    if not all(MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in spacing):
        raise _UnplaceableError(f"PixelSpacing {spacing[0]:g}\\{spacing[1]:g} mm is zero, negative "
                           "or implausible")
    if max(abs(v) for v in position) > MAX_ORIGIN_MM:
        raise _UnplaceableError("ImagePositionPatient lies implausibly far away")


def _check_pixel_description(ds: Dataset) -> None:
    bits = int(ds.get("BitsAllocated") or 16)
    if bits not in (8, 16, 32):
        raise _UnplaceableError(f"{bits}-bit pixels; CT images have 8, 16 or 32")
    if int(ds.Rows) < 1 or int(ds.Columns) < 1:
        raise _UnplaceableError("Rows or Columns is zero")
    slope, intercept = float(ds.get("RescaleSlope") or 1.0), float(ds.get("RescaleIntercept") or 0)
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope == 0:
        raise _UnplaceableError("RescaleSlope or RescaleIntercept is zero or not a finite number")


def _series_key(ds: Dataset) -> str:
    """The Series Instance UID; anonymisers sometimes blank it, so then a stable stand-in."""
    uid = str(ds.get("SeriesInstanceUID") or "").strip()
    if uid:
        return uid
    parts = (
        ds.get("SeriesNumber"),
        ds.get("SeriesDescription"),
        ds.get("Modality"),
        ds.get("Rows"),
        ds.get("Columns"),
        ds.get("FrameOfReferenceUID"),
    )
    digest = hashlib.sha1(repr(tuple(str(p) for p in parts)).encode(), usedforsecurity=False)
    return f"{NO_UID_PREFIX}{digest.hexdigest()[:12]}"


def _series_info(uid: str, items: list[tuple[Dataset, SliceHeader]]) -> SeriesInfo:
    first = items[0][0]
    all_slices = [h for _, h in items]
    stackable = [h for h in all_slices if not h.localizer]
    notes: list[str] = []
    if uid.startswith(NO_UID_PREFIX):
        notes.append(
            "the images carry no Series Instance UID; grouped by series number, description "
            f"and image size under the name {uid}"
        )
    if stackable and len(stackable) < len(all_slices):
        notes.append(
            f"{len(all_slices) - len(stackable)} localizer image(s) in the series were left out"
        )
    slices = stackable or all_slices
    rows, columns = Counter((h.rows, h.columns) for h in slices).most_common(1)[0][0]
    summary = SeriesSummary(
        uid=uid,
        description=str(first.get("SeriesDescription", "") or ""),
        modality=str(first.get("Modality", "") or "").upper(),
        slice_count=len(slices),
        orientation=_orientation(slices),
        rows=rows,
        columns=columns,
    )
    return SeriesInfo(
        summary=summary,
        slices=tuple(slices),
        manufacturer=_text(first, "Manufacturer"),
        kvp=_number(first, "KVP"),
        slice_thickness_mm=_number(first, "SliceThickness"),
        notes=tuple(notes),
        study_uid=_text(first, "StudyInstanceUID") or "",
        frame_of_reference_uid=_text(first, "FrameOfReferenceUID") or "",
        sop_class_uid=_text(first, "SOPClassUID") or "",
    )


def _orientation(slices: list[SliceHeader]) -> str:
    if any(h.frames > 1 for h in slices):
        return "multi-frame"
    if all(h.localizer for h in slices) or len(slices) < 2:
        return "localizer"
    normal = slices[0].normal
    if any(abs(float(h.normal @ normal)) < _PARALLEL_COS for h in slices[1:]):
        return "localizer"
    axis = int(np.argmax(np.abs(normal)))
    if abs(float(normal[axis])) < _OBLIQUE_COS:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value in (None, ""):
        return None
    return str(value).strip() or None


def _number(ds: Dataset, keyword: str) -> float | None:
    value = ds.get(keyword)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
