"""A DICOM series folder to one :class:`CTVolume`.

Headers are scanned first (:mod:`iris3d.ingest.dicom_scan`), a series is chosen, its geometry is
checked and planned from headers alone (:mod:`iris3d.ingest.dicom_geometry`), the size limit is
enforced, and only then are pixels decoded (pydicom with the pylibjpeg/OpenJPEG/libjpeg plugins, so
JPEG 2000 and JPEG lossless read like uncompressed data). LPS becomes RAS only through
:func:`iris3d.geometry.lps_to_ras`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pydicom

from iris3d.geometry import lps_to_ras, reorient_to_ras
from iris3d.ingest.checks import check_expansion
from iris3d.ingest.dicom_geometry import (
    StackPlan,
    check_uniform,
    duplicate_runs,
    plan_stack,
    resample,
    sort_along_normal,
)
from iris3d.ingest.dicom_scan import (
    ScanResult,
    SeriesInfo,
    SliceHeader,
    scan_folder,
    scan_series,
)
from iris3d.ingest.dicom_source import dicom_source
from iris3d.ingest.errors import (
    CorruptFileError,
    IrregularGeometryError,
    NoImagesError,
    NotAVolumeError,
    NotCTError,
    SeriesNotFoundError,
    UnsupportedFormatError,
)
from iris3d.ingest.hounsfield import looks_like_ct, to_hounsfield
from iris3d.ingest.limits import ReadLimits, check_volume_shape
from iris3d.scrub import scrub
from iris3d.volume import CTVolume, StudyMetadata

__all__ = ["SeriesInfo", "choose_series", "load_dicom_series", "scan_series"]
log = logging.getLogger(__name__)


def load_dicom_series(
    folder: Path, *, series_uid: str | None, allow_non_ct: bool, limits: ReadLimits
) -> CTVolume:
    scan = scan_folder(folder)
    if not scan.series:
        why = f" ({'; '.join(scan.unplaced)})" if scan.unplaced else ""
        raise NoImagesError(
            f"no DICOM images found: {scan.files_seen} file(s) looked at, none of them a DICOM "
            f"image with a valid position in patient space{why}"
        )
    chosen, warnings = choose_series(scan.series, series_uid, allow_non_ct)
    warnings.extend(f"left out {reason}" for reason in scan.unplaced)
    uid = chosen.summary.uid
    check_uniform(chosen.slices, uid)
    first = chosen.slices[0]
    # An upper bound from the headers, before any pixel is decoded (duplicates included).
    check_volume_shape((first.columns, first.rows, len(chosen.slices)), limits.max_voxels)
    # Compressed transfer syntaxes (JPEG 2000, RLE...) can declare far more pixels than they hold.
    declared = sum(2 * h.rows * h.columns * h.frames for h in chosen.slices)
    check_expansion(declared, sum(h.path.stat().st_size for h in chosen.slices), "the DICOM series")
    slices, dropped = _drop_duplicates(sort_along_normal(chosen.slices), uid)
    warnings.extend(dropped)
    plan = plan_stack(slices, uid)
    check_volume_shape(plan.output_shape, limits.max_voxels)
    warnings.extend(plan.warnings)
    stacked = resample(plan, _read_stack(slices))
    native_affine = lps_to_ras(plan.output_affine)
    array, affine = reorient_to_ras(stacked, native_affine)
    hu = cast("npt.NDArray[np.int16] | npt.NDArray[np.float32]", np.ascontiguousarray(array))
    warnings.extend(_value_warnings(chosen, hu))
    source, no_source = dicom_source(chosen, slices, plan)
    warnings.extend([no_source] if no_source else [])
    return CTVolume(
        array=hu, affine=affine, metadata=_metadata(scan, chosen, slices, plan, warnings),
        native_affine=native_affine, dicom=source,
    )


def _value_warnings(chosen: SeriesInfo, array: npt.NDArray[np.generic]) -> list[str]:
    if chosen.summary.modality != "CT":
        return [
            f"modality {chosen.summary.modality or 'unknown'}, not CT: loaded because non-CT "
            "studies were allowed; values are not Hounsfield units"
        ]
    if not looks_like_ct(array):
        return ["the values do not look like Hounsfield units (no air near -1000 HU)"]
    return []


def _metadata(
    scan: ScanResult,
    chosen: SeriesInfo,
    slices: Sequence[SliceHeader],
    plan: StackPlan,
    warnings: Sequence[str],
) -> StudyMetadata:
    """Only what describes the images: nothing that names or identifies the patient."""
    return StudyMetadata(
        source_format="dicom",
        modality=chosen.summary.modality or None,
        manufacturer=chosen.manufacturer,
        kvp=chosen.kvp,
        slice_thickness_mm=chosen.slice_thickness_mm
        or float(np.linalg.norm(plan.output_affine[:3, 2])),
        series_description=chosen.summary.description or None,
        series_uid=chosen.summary.uid,
        number_of_slices=len(slices),  # images stacked, duplicates dropped
        series=tuple(s.summary for s in scan.series),
        warnings=(*chosen.notes, *warnings),
    )


def choose_series(
    series: Sequence[SeriesInfo], series_uid: str | None, allow_non_ct: bool
) -> tuple[SeriesInfo, list[str]]:
    """The series asked for, else the largest axial CT volume; plus what the user should know."""
    if series_uid is not None:
        chosen = next((s for s in series if s.summary.uid == series_uid), None)
        if chosen is None:
            raise SeriesNotFoundError(
                f"no series {series_uid} in this study; available: {_listing(series)}"
            )
        _check_loadable(chosen, allow_non_ct)
        return chosen, []
    volumes = [s for s in series if s.is_volume]
    pool = [s for s in volumes if s.summary.modality == "CT"] or (volumes if allow_non_ct else [])
    if not pool:
        if volumes:
            modalities = ", ".join(sorted({s.summary.modality or "unknown" for s in volumes}))
            raise NotCTError(
                f"no CT series in this study (found {modalities}); Iris segments CT only. "
                "Load it anyway with allow_non_ct (--allow-non-ct)"
            )
        if any(s.summary.orientation == "multi-frame" for s in series):
            raise UnsupportedFormatError(
                "the study holds only enhanced (multi-frame) DICOM images, which Iris does not "
                "read yet; export it as one file per slice"
            )
        raise NotAVolumeError(
            "no series here forms a 3D volume (each is a localizer, a single image, or images "
            f"that are not parallel): {_listing(series)}"
        )
    chosen = max(
        pool,
        key=lambda s: (
            s.summary.orientation == "axial",
            s.summary.slice_count,
            s.summary.rows * s.summary.columns,
        ),
    )
    _check_loadable(chosen, allow_non_ct)
    warnings: list[str] = []
    if len(series) > 1:
        s = chosen.summary
        warnings.append(
            f"{len(series)} series found; loaded the largest {s.orientation} {s.modality} series "
            f"{s.uid} ({s.description!r}, {s.slice_count} images); choose another with "
            f"series_uid (--series UID). Others: {_listing([x for x in series if x is not chosen])}"
        )
    return chosen, warnings


def _check_loadable(chosen: SeriesInfo, allow_non_ct: bool) -> None:
    s = chosen.summary
    if s.orientation == "multi-frame":
        raise UnsupportedFormatError(
            f"series {s.uid} is enhanced (multi-frame) DICOM, which Iris does not read yet"
        )
    if not chosen.is_volume:
        raise NotAVolumeError(
            f"series {s.uid} ({s.slice_count} image(s)) is a localizer or scout, or its images "
            "are not parallel: it is not a 3D volume"
        )
    if s.modality != "CT" and not allow_non_ct:
        raise NotCTError(
            f"series {s.uid} is {s.modality or 'of unknown modality'}, not CT; Iris segments CT "
            "only. Load it anyway with allow_non_ct (--allow-non-ct)"
        )


def _listing(series: Sequence[SeriesInfo]) -> str:
    return "; ".join(
        f"{s.summary.uid} ({s.summary.modality} {s.summary.orientation}, "
        f"{s.summary.slice_count} images, {s.summary.description!r})"
        for s in series
    )


def _drop_duplicates(slices: list[SliceHeader], uid: str) -> tuple[list[SliceHeader], list[str]]:
    """Identical images at one position are dropped; different ones at one position refused."""
    runs = duplicate_runs(slices)
    if not runs:
        return slices, []
    drop: set[int] = set()
    normal = slices[0].normal
    for run in runs:
        reference = _hounsfield(slices[run[0]])
        for k in run[1:]:
            if not np.array_equal(_hounsfield(slices[k]), reference):
                where = float(np.dot(slices[k].position, normal))
                numbers = [slices[i].instance_number for i in (run[0], k)]
                raise IrregularGeometryError(
                    f"series {uid}: two different images at the same position ({where:.2f} mm "
                    f"along the slice normal; instance numbers {numbers[0]} and {numbers[1]})"
                )
            drop.add(k)
    kept = [h for k, h in enumerate(slices) if k not in drop]
    return kept, [f"{len(drop)} duplicate image(s) at an already filled position were dropped"]


def _read_stack(slices: Sequence[SliceHeader]) -> npt.NDArray[np.int16] | npt.NDArray[np.float32]:
    """HU as ``[column, row, slice]``; int16 unless some slice's rescale needs float32."""
    first = slices[0]
    # Filled slice by slice (contiguous writes), then viewed in Iris's [i, j, k] order.
    out: npt.NDArray[np.int16] | npt.NDArray[np.float32] = np.empty(
        (len(slices), first.rows, first.columns), dtype=np.int16
    )
    for k, header in enumerate(slices):
        hu = _hounsfield(header)
        if out.dtype == np.int16 and hu.dtype != np.int16:
            out = out.astype(np.float32)
        out[k] = hu
    return out.transpose(2, 1, 0)


def _hounsfield(header: SliceHeader) -> npt.NDArray[np.int16] | npt.NDArray[np.float32]:
    return to_hounsfield(_pixels(header), header.slope, header.intercept)


def _pixels(header: SliceHeader) -> npt.NDArray[np.generic]:
    name = header.path.name
    try:
        ds = pydicom.dcmread(header.path, force=header.forced)
        syntax = ds.file_meta.get("TransferSyntaxUID")
        pixels: npt.NDArray[np.generic] = ds.pixel_array
    except NotImplementedError as e:
        log.info("cannot decode a slice's pixel data: %s", scrub(e, hide=[name]))
        raise UnsupportedFormatError(
            f"{name}: its compressed pixel data uses an encoding Iris cannot decode"
        ) from e
    except Exception as e:  # pydicom and its plugins raise many types for damaged data
        log.info("cannot read a slice's pixel data: %s", scrub(e, hide=[name]))
        raise CorruptFileError(
            f"{name}: the pixel data could not be read: it is damaged, or does not match the "
            "image size and pixel type its header gives (Rows, Columns, Bits Allocated)"
        ) from e
    if pixels.shape != (header.rows, header.columns):
        kind = getattr(syntax, "name", "unknown transfer syntax")
        raise CorruptFileError(
            f"{name}: decoded to shape {pixels.shape} ({kind}), expected "
            f"{header.rows}x{header.columns}"
        )
    return pixels
