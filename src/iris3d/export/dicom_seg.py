"""A label map as a DICOM Segmentation (highdicom) filed beside the CT series it was made from.

One segment per structure present, numbered 1..N in label-id order, each with its SNOMED CT codes
(:mod:`iris3d.anatomy_codes`), laterality and Iris's colour. The frames lie in the source
series' own slice order and reference its images one for one; a volume that ingest resampled
(uneven spacing, gantry tilt) is written on its own regular grid, referencing the series.

BINARY segments, empty frames left out: a frame costs rows x columns / 8 bytes, only where its
structure is, so the file grows with what is segmented and not with structures x slices
(docs/interop.md has the figures).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iris3d import __version__
from iris3d.anatomy import Structure
from iris3d.anatomy_codes import structure_codes
from iris3d.errors import IrisError
from iris3d.export.dicom_common import coded, source_datasets
from iris3d.geometry import ras_to_lps, reorient_to
from iris3d.volume import CTVolume, DicomSource, LabelMap

log = logging.getLogger(__name__)
SEG_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4"
SEG_SERIES_NUMBER = 9001
MANUFACTURER = "Iris"


@dataclass(frozen=True)
class Algorithm:
    """The engine that made the label map (None for a segmentation imported from elsewhere)."""

    name: str
    version: str


@dataclass(frozen=True)
class WrittenSeg:
    """What a report needs to point at the SEG's segments."""

    path: Path
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    segment_numbers: dict[int, int]  # label id -> segment number


class DicomExportError(IrisError):
    """The study cannot be written as DICOM."""


def write_dicom_seg(
    volume: CTVolume, labels: LabelMap, path: Path, algorithm: Algorithm | None
) -> WrittenSeg | None:
    """Write ``labels`` (on ``volume``'s grid) as ``path``; None when no structure is present."""
    source, native_affine = _source_of(volume)
    present = labels.present_ids()
    if not present:
        return None
    numbers = {label: n for n, label in enumerate(present, start=1)}
    descriptions = [_description(labels.table[label], n, algorithm)
                    for label, n in numbers.items()]
    frames = _frames(labels, native_affine, numbers)
    try:
        seg = _segmentation(source, frames, native_affine, descriptions)
        del frames
        seg.save_as(path)
    except Exception as e:  # highdicom and pydicom raise many types; the log keeps their words
        log.warning("the DICOM-SEG could not be written: %s: %s", type(e).__name__, e)
        raise DicomExportError(
            "the DICOM-SEG could not be written from this series' geometry and UIDs"
        ) from e
    return WrittenSeg(path, source.study_uid, str(seg.SeriesInstanceUID),
                      str(seg.SOPInstanceUID), numbers)


def _segmentation(
    source: DicomSource,
    frames: npt.NDArray[np.unsignedinteger],
    native_affine: npt.NDArray[np.float64],
    descriptions: list[Any],
) -> Any:
    import highdicom as hd

    pixels: Any = frames
    if source.resampled:  # frames on Iris's grid: highdicom places them by the grid's affine
        pixels = hd.Volume(frames, _frame_affine_lps(native_affine), coordinate_system="PATIENT",
                           frame_of_reference_uid=source.frame_of_reference_uid)
    return hd.seg.Segmentation(
        source_images=source_datasets(source),
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="Iris",
        software_versions=__version__,
        device_serial_number="",
        content_label="IRIS",
        content_description="Anatomy segmented by Iris",
        series_description="Iris segmentation",
    )


def _source_of(volume: CTVolume) -> tuple[DicomSource, npt.NDArray[np.float64]]:
    if volume.dicom is None or volume.native_affine is None:
        raise DicomExportError("the study did not come from DICOM: there is no series to refer to")
    return volume.dicom, volume.native_affine


def _frames(
    labels: LabelMap, native_affine: npt.NDArray[np.float64], numbers: dict[int, int]
) -> npt.NDArray[np.unsignedinteger]:
    """Segment numbers as ``[slice, row, column]`` in the source series' order: one lookup
    over a view of the label map, the only whole-volume copy."""
    native = reorient_to(labels.array, labels.affine, native_affine, copy=False)
    lookup = np.zeros(max(numbers) + 1, dtype=np.uint8 if len(numbers) < 256 else np.uint16)
    for label, number in numbers.items():
        lookup[label] = number
    in_frame_order = native.transpose(2, 1, 0)
    # Filled through ``out`` so that each frame is contiguous (plain indexing would keep the
    # view's strides, and every per-frame step downstream would crawl).
    frames: npt.NDArray[np.unsignedinteger] = np.empty(in_frame_order.shape, dtype=lookup.dtype)
    np.take(lookup, in_frame_order, out=frames)
    return frames


def _frame_affine_lps(native_affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The LPS affine of ``[slice, row, column]`` indices on the native grid."""
    return ras_to_lps(native_affine)[:, [2, 1, 0, 3]]


def _description(structure: Structure, number: int, algorithm: Algorithm | None) -> Any:
    import highdicom as hd

    codes = structure_codes(structure.name)
    kind = coded(codes.type)
    if codes.type_modifier is not None:
        kind.SegmentedPropertyTypeModifierCodeSequence = [coded(codes.type_modifier)]
    automatic = algorithm is not None
    description = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=structure.name[:64],
        segmented_property_category=coded(codes.category),
        segmented_property_type=kind,
        algorithm_type=(hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC if automatic
                        else hd.seg.SegmentAlgorithmTypeValues.MANUAL),
        algorithm_identification=_algorithm(algorithm) if algorithm is not None else None,
        display_color=hd.color.CIELabColor.from_rgb(*structure.colour),
    )
    if codes.region is not None:
        region = coded(codes.region)
        if codes.region_modifier is not None:
            region.AnatomicRegionModifierSequence = [coded(codes.region_modifier)]
        description.AnatomicRegionSequence = [region]
    return description


def _algorithm(algorithm: Algorithm) -> Any:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    return hd.AlgorithmIdentificationSequence(
        name=algorithm.name[:64], version=algorithm.version[:64] or "unknown",
        family=codes.cid7162.ArtificialIntelligence,
    )
