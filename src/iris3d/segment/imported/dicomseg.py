"""DICOM Segmentation objects (from 3D Slicer, a PACS, TotalSegmentator's DICOM output), via
highdicom. Geometry comes from the SEG's own frame positions, in LPS, turned to RAS here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable
from iris3d.contracts.progress import Progress
from iris3d.geometry import lps_to_ras
from iris3d.ingest.checks import affine_problem
from iris3d.scrub import scrub
from iris3d.segment.base import SegmentationError
from iris3d.segment.imported.grid import paint_masks
from iris3d.segment.imported.nifti import clean_name, ids_for_names
from iris3d.volume import CTVolume, LabelMap

log = logging.getLogger(__name__)
_UNCOMPRESSED = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"})
SEG_SOP_CLASS_UIDS = frozenset({
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation Storage
    "1.2.840.10008.5.1.4.1.1.66.7",  # Label Map Segmentation Storage
})


def is_dicom_seg(path: Path) -> bool:
    """True for a DICOM file whose modality is SEG (reads the header only)."""
    import pydicom

    try:  # values decode lazily, so reading them may raise too
        header = pydicom.dcmread(str(path), stop_before_pixels=True)
        sop_class = str(getattr(header, "SOPClassUID", ""))
        return header.get("Modality") == "SEG" or sop_class in SEG_SOP_CLASS_UIDS
    except Exception:  # pydicom raises many types for damaged files: not a SEG we can read
        return False


def find_dicom_seg(folder: Path) -> Path | None:
    """The one DICOM-SEG file in ``folder`` (none: ``None``; several: an error)."""
    found = [p for p in sorted(folder.rglob("*")) if p.is_file() and is_dicom_seg(p)]
    if len(found) > 1:
        shown = ", ".join(p.name for p in found[:5])
        raise SegmentationError(
            f"{folder}: {len(found)} DICOM-SEG files ({shown}); give the one to import"
        )
    return found[0] if found else None


def check_seg_claims(path: Path, max_voxels: int) -> None:
    """Frames x rows x columns x segments within the limit, and the pixel data really there,
    read from the header before highdicom allocates anything."""
    import pydicom

    try:
        header = pydicom.dcmread(str(path), stop_before_pixels=True)
        rows, columns = int(header.Rows), int(header.Columns)
        frames = int(header.get("NumberOfFrames") or 1)
        segments = max(1, len(header.get("SegmentSequence") or []))
        bits = int(header.get("BitsAllocated") or 1)
        syntax = str(header.file_meta.get("TransferSyntaxUID", ""))
    except Exception as e:
        log.info("could not read a DICOM-SEG header: %s", scrub(e, hide=[path.name]))
        raise SegmentationError(f"{path.name}: the DICOM-SEG header cannot be read") from e
    voxels = rows * columns * frames
    if min(rows, columns, frames) < 1 or bits not in (1, 8, 16):
        raise SegmentationError(f"{path.name}: the DICOM-SEG header describes no valid image")
    if voxels * segments > max_voxels:
        raise SegmentationError(
            f"{path.name}: {frames:,} frames of {columns}x{rows} for {segments} segment(s) is "
            f"more than the limit of {max_voxels:,} voxels (IRIS_MAX_VOXELS)"
        )
    if syntax in _UNCOMPRESSED and path.stat().st_size < voxels * bits // 8:
        raise SegmentationError(
            f"{path.name}: the header describes {voxels:,} pixels but the file is too short to "
            "hold them: it is truncated"
        )


def check_affine_of(affine_lps: object, name: str) -> None:
    problem = affine_problem(np.asarray(affine_lps, dtype=np.float64))
    if problem is not None:
        raise SegmentationError(f"{name}: the DICOM-SEG's geometry is invalid: {problem}")


def import_dicom_seg(
    path: Path, volume: CTVolume, progress: Progress, max_voxels: int
) -> tuple[LabelMap, dict[str, object]]:
    import highdicom as hd

    progress(0.1, f"reading {path.name}")
    check_seg_claims(path, max_voxels)
    try:
        seg = hd.seg.segread(str(path))
    except Exception as e:  # highdicom/pydicom raise many types for files they cannot use
        log.info("highdicom could not read a DICOM-SEG: %s", scrub(e, hide=[path.name]))
        raise SegmentationError(f"{path.name}: not a readable DICOM-SEG") from e
    numbers = [int(n) for n in seg.segment_numbers]
    if not numbers:
        raise SegmentationError(f"{path.name}: the DICOM-SEG has no segments")
    names = _unique([clean_name(seg.get_segment_description(n).segment_label) for n in numbers])
    ids = ids_for_names(names)
    try:
        # One binary channel per segment, so overlapping segments are kept and resolved here.
        stacked = seg.get_volume(combine_segments=False, rescale_fractional=True)
    except Exception as e:
        log.info("highdicom could not stack a DICOM-SEG: %s", scrub(e, hide=[path.name]))
        raise SegmentationError(
            f"{path.name}: the DICOM-SEG's frames do not form a regular volume"
        ) from e
    check_affine_of(stacked.affine, path.name)
    affine_ras = lps_to_ras(np.asarray(stacked.affine, dtype=np.float64))
    channels = np.asarray(stacked.array)

    def segments() -> Iterator[tuple[str, npt.NDArray[np.uint8], npt.NDArray[np.float64], str]]:
        for c, name in enumerate(names):
            progress(0.2 + 0.8 * c / len(names), f"segment {name}")
            mask = (channels[..., c] >= 0.5).astype(np.uint8)
            yield name, mask, affine_ras, f"{path.name} ({name})"

    painted = paint_masks(segments(), volume, ids)
    labels, overlap, resampled = painted.labels, painted.overlapping_voxels, painted.resampled
    if not labels.any():
        raise SegmentationError(f"{path.name}: every segment is empty")
    table = LabelTable.from_names({label: name for name, label in ids.items()})
    parameters: dict[str, object] = {
        "format": "dicom-seg", "source": path.name, "segments": len(names),
        "overlapping_voxels": overlap, "resampled": resampled,
    }
    return LabelMap(array=labels, affine=volume.affine, table=table), parameters


def _unique(names: list[str]) -> list[str]:
    """Two segments labelled alike keep both: the second becomes ``name_2``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out
