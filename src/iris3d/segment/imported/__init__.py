"""``import``: bring your own segmentation, made elsewhere, for this CT.

Accepted: a NIfTI label map (names from a table file, the JSON sidecar beside it, the label
extension TotalSegmentator writes with ``--ml``, or TotalSegmentator's ``total`` table), a folder
of one binary NIfTI mask per structure (TotalSegmentator's default output), or a DICOM-SEG.
"""

from __future__ import annotations

import time
from pathlib import Path

from iris3d import __version__
from iris3d.contracts import EngineName, Quality
from iris3d.segment.base import ProgressCallback, SegmentationError, SegmentationResult, no_progress
from iris3d.segment.imported.dicomseg import find_dicom_seg, import_dicom_seg, is_dicom_seg
from iris3d.segment.imported.grid import GeometryMismatchError
from iris3d.segment.imported.nifti import (
    import_label_map,
    import_mask_folder,
    is_nifti,
    mask_files,
)
from iris3d.settings import get_settings
from iris3d.volume import CTVolume, LabelMap

__all__ = ["GeometryMismatchError", "ImportEngine"]


class ImportEngine:
    """Reads a segmentation from ``source`` and puts it on the CT's grid."""

    name = EngineName.IMPORT

    def __init__(
        self, source: Path, table: Path | None = None, max_voxels: int | None = None
    ) -> None:
        self.source = Path(source)
        self.table = Path(table) if table is not None else None
        self.max_voxels = max_voxels if max_voxels is not None else get_settings().max_voxels

    def segment(
        self, volume: CTVolume, quality: Quality, progress: ProgressCallback = no_progress
    ) -> SegmentationResult:
        start = time.perf_counter()
        labels, parameters = self._read(volume, progress)
        progress(1.0, "imported")
        return SegmentationResult(
            labels=labels,
            engine=self.name,
            engine_version=__version__,
            device="cpu",
            parameters={**parameters, "quality": quality.value},
            timings_s={"import": time.perf_counter() - start},
            reason=f"imported from {self.source.name}",
        )

    def _read(
        self, volume: CTVolume, progress: ProgressCallback
    ) -> tuple[LabelMap, dict[str, object]]:
        source = self.source
        if not source.exists():
            raise SegmentationError(f"{source}: no such file or folder")
        if source.is_dir():
            if mask_files(source):
                return import_mask_folder(source, volume, progress, self.max_voxels)
            seg_file = find_dicom_seg(source)
            if seg_file is not None:
                return import_dicom_seg(seg_file, volume, progress, self.max_voxels)
            raise SegmentationError(
                f"{source}: no NIfTI masks and no DICOM-SEG in this folder"
            )
        if is_nifti(source):
            return import_label_map(source, volume, self.table, progress, self.max_voxels)
        if is_dicom_seg(source):
            return import_dicom_seg(source, volume, progress, self.max_voxels)
        raise SegmentationError(
            f"{source.name}: not a segmentation Iris imports; give a NIfTI label map, a folder "
            "of NIfTI masks, or a DICOM-SEG file"
        )
