"""NIfTI segmentations: one label map, or a folder of one binary mask per structure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, total_table
from iris3d.contracts.formats import NIFTI_SUFFIXES, strip_suffix
from iris3d.labelio import (
    LabelFileError,
    open_nifti,
    read_nifti_labels,
    read_table,
    sidecar_path,
)
from iris3d.segment.base import ProgressCallback, SegmentationError
from iris3d.segment.imported.grid import onto_ct_grid, paint_masks
from iris3d.volume import CTVolume, LabelMap


def is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def mask_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_nifti(p))


def structure_name(path: Path) -> str:
    """``liver.nii.gz`` -> ``liver``."""
    return strip_suffix(path.name, NIFTI_SUFFIXES)


def clean_name(text: str) -> str:
    """A free-text structure name as a TotalSegmentator-style identifier (``Lung Left`` ->
    ``lung_left``), so that names from other tools find their group and colour."""
    name = re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_") or "structure"
    known = {s.name.lower(): s.name for s in total_table().values()}  # vertebrae_L1 keeps its L
    return known.get(name, name)


def ids_for_names(names: list[str]) -> dict[str, int]:
    """TotalSegmentator's ids when every name is one of its ``total`` structures (so its folder
    output and its ``--ml`` output import identically), else 1..N in the order given."""
    total = total_table()
    known = {s.name: s.label for s in total.values()}
    if all(n in known for n in names):
        return {n: known[n] for n in names}
    return {n: i for i, n in enumerate(names, start=1)}


def import_label_map(
    path: Path,
    volume: CTVolume,
    table_path: Path | None,
    progress: ProgressCallback,
    max_voxels: int | None = None,
) -> tuple[LabelMap, dict[str, object]]:
    progress(0.1, f"reading {path.name}")
    try:
        array, affine, header_names = read_nifti_labels(path, max_voxels)
        table, source = _choose_table(path, table_path, header_names)
    except LabelFileError as e:
        raise SegmentationError(str(e)) from e
    progress(0.5, "matching the CT's grid")
    on_grid, resampled = onto_ct_grid(array, affine, volume, path.name)
    labels = LabelMap(array=on_grid, affine=volume.affine, table=table)
    # The label map's census (its one pass over the voxels) is kept for every later stage.
    unnamed = [i for i in labels.present_ids() if i not in table]
    if unnamed:
        shown = ", ".join(str(i) for i in unnamed[:10])
        raise SegmentationError(
            f"{path.name}: label ids {shown} are not in the label table ({source}); give a "
            "table that names every id (JSON, CSV id,name, or a 3D Slicer colour table)"
        )
    parameters: dict[str, object] = {
        "format": "nifti-labelmap", "source": path.name, "table": source, "resampled": resampled
    }
    return labels, parameters


def _choose_table(
    path: Path, table_path: Path | None, header_names: dict[int, str]
) -> tuple[LabelTable, str]:
    if table_path is not None:
        return read_table(table_path), table_path.name
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        return read_table(sidecar), sidecar.name
    if header_names:
        return LabelTable.from_names(header_names), "NIfTI header"
    return total_table(), "TotalSegmentator total (default)"


def import_mask_folder(
    folder: Path, volume: CTVolume, progress: ProgressCallback, max_voxels: int | None = None
) -> tuple[LabelMap, dict[str, object]]:
    files = mask_files(folder)
    if not files:
        raise SegmentationError(f"{folder}: no NIfTI masks (*.nii.gz, *.nii) in this folder")
    names = [structure_name(p) for p in files]
    ids = ids_for_names(names)

    def masks() -> Iterator[tuple[str, npt.NDArray[np.uint8], npt.NDArray[np.float64], str]]:
        for n, (path, name) in enumerate(zip(files, names, strict=True)):
            progress(n / len(files), f"reading {path.name}")
            mask, affine = _read_mask(path, max_voxels)
            yield name, mask.view(np.uint8), affine, path.name

    painted = paint_masks(masks(), volume, ids)
    labels, overlap, resampled_any = painted.labels, painted.overlapping_voxels, painted.resampled
    if not labels.any():
        raise SegmentationError(f"{folder}: every mask is empty")
    table = LabelTable.from_names({label: name for name, label in ids.items()})
    parameters: dict[str, object] = {
        "format": "nifti-masks", "source": folder.name, "masks": len(files),
        "overlapping_voxels": overlap, "resampled": resampled_any,
    }
    return LabelMap(array=labels, affine=volume.affine, table=table), parameters


def _read_mask(
    path: Path, max_voxels: int | None
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """A binary mask in the file's own voxel order (``onto_ct_grid`` reorients), and its affine."""
    try:
        nifti = open_nifti(path, max_voxels)
    except LabelFileError as e:
        raise SegmentationError(str(e)) from e
    data: npt.NDArray[Any] = nifti.stored
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise SegmentationError(f"{path.name}: expected a 3D mask, got shape {data.shape}")
    affine = nifti.affine
    if np.issubdtype(data.dtype, np.floating):
        return np.asarray(data >= 0.5), affine  # soft masks from other tools: majority vote
    return np.asarray(data != 0), affine
