"""Label maps on disk: a NIfTI whose header names its labels, and a JSON sidecar beside it.

The names travel twice so that every tool finds them:

- inside the NIfTI, as the XML "Caret" label-table extension that TotalSegmentator writes with
  ``--ml`` (3D Slicer's TotalSegmentator extension and TotalSegmentator itself read it back);
- in ``<stem>.json`` beside it (``seg.nii.gz`` -> ``seg.json``): ``{"labels": [{id, name, group,
  colour}]}``, the form Iris's own readers and the web app use.

Tables can also come from the files of :mod:`.label_tables`, for masks made elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, total_table
from iris3d.geometry import reorient_to_ras
from iris3d.imageio.label_tables import (
    LabelFileError,
    caret_xml,
    names_from_caret_xml,
    read_table,
)
from iris3d.imageio.nifti import nifti_image, save_nifti
from iris3d.ingest.errors import IngestError
from iris3d.ingest.nifti_file import NiftiFile, NiftiHeader, read_nifti
from iris3d.volume import LabelMap

# TotalSegmentator writes its label table as a NIfTI extension with code 0 and reads back the
# first extension; Iris does the same so that files go both ways.
CARET_ECODE = 0
_MAX_LABEL = 65535  # label maps are stored as uint16 at most


def sidecar_path(nifti_path: Path) -> Path:
    """``seg.nii.gz`` -> ``seg.json``; ``seg.nii`` -> ``seg.json``."""
    name = nifti_path.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return nifti_path.with_name(name[: -len(suffix)] + ".json")
    return nifti_path.with_suffix(".json")


def names_from_nifti_header(header: NiftiHeader) -> dict[int, str]:
    for extension in header.extensions:
        content = extension.get_content()
        if isinstance(content, bytes) and b"<CaretExtension" in content[:4096]:
            return names_from_caret_xml(content)
    return {}


def _as_label_array(data: npt.NDArray[np.generic], where: str) -> npt.NDArray[np.integer]:
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise LabelFileError(f"{where}: expected a 3D label map, got shape {data.shape}")
    if np.issubdtype(data.dtype, np.integer):
        low, top = (int(data.min()), int(data.max())) if data.size else (0, 0)
        if low < 0:
            raise LabelFileError(f"{where}: label ids must not be negative")
        if top > _MAX_LABEL:
            raise LabelFileError(f"{where}: label id {top} is larger than {_MAX_LABEL}")
        return data.astype(np.uint16 if top > 255 else np.uint8, copy=False)
    rounded = np.rint(data)
    if not np.allclose(rounded, data, atol=1e-3) or (rounded.size and rounded.min() < 0):
        raise LabelFileError(f"{where}: not a label map (voxel values are not whole numbers >= 0)")
    top_value = float(rounded.max(initial=0))
    if top_value > _MAX_LABEL:
        raise LabelFileError(f"{where}: label id {top_value:.0f} is larger than {_MAX_LABEL}")
    labels: npt.NDArray[np.integer] = rounded.astype(np.uint16 if top_value > 255 else np.uint8)
    return labels


def open_nifti(path: Path, max_voxels: int) -> NiftiFile:
    """A NIfTI file's checked header, voxels (in the file's own order, scaling applied) and
    affine; :class:`LabelFileError` names any problem."""
    try:
        nifti = read_nifti(path, max_voxels)
    except IngestError as e:
        raise LabelFileError(str(e)) from e
    if (nifti.slope, nifti.intercept) == (1.0, 0.0):
        return nifti
    scaled = nifti.stored.astype(np.float64) * nifti.slope + nifti.intercept
    return replace(nifti, stored=scaled)


def read_nifti_labels(
    path: Path, max_voxels: int
) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.float64], dict[int, str]]:
    """A label NIfTI's voxels and affine, reoriented to RAS+, and the names in its header."""
    nifti = open_nifti(path, max_voxels)
    array, affine = reorient_to_ras(_as_label_array(nifti.stored, path.name), nifti.affine)
    return array, affine, names_from_nifti_header(nifti.header)


def check_label_file(path: Path, max_voxels: int) -> None:
    """Read a label map as the import engine will, for its errors only (run in a limited child)."""
    read_nifti_labels(path, max_voxels)


def write_label_map(
    labels: LabelMap, path: Path, about: dict[str, object] | None = None
) -> tuple[Path, Path]:
    """Write ``labels`` as a NIfTI with its names in the header, and the JSON sidecar beside it
    (``about``, e.g. which engine made it, goes into the sidecar under ``"segmentation"``).

    Returns the NIfTI's and the sidecar's paths.
    """
    top = len(labels.census.counts) - 1  # the largest id present, without another pass
    dtype = np.uint8 if top <= 255 else np.uint16
    image = nifti_image(np.asarray(labels.array, dtype=dtype), labels.affine)
    image.header.set_intent("label", name="labels")
    image.header.extensions.append(
        nib.nifti1.Nifti1Extension(CARET_ECODE, caret_xml(labels.table).encode("utf-8"))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    save_nifti(image, path, level=1)
    sidecar = sidecar_path(path)
    document: dict[str, object] = {"labels": [s.to_dict() for s in labels.table.values()]}
    if about:
        document["segmentation"] = about
    sidecar.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path, sidecar


def read_label_map(
    path: Path, table: LabelTable | None = None, *, max_voxels: int
) -> LabelMap:
    """A label map and its names: ``table`` if given, else the JSON sidecar beside the file,
    else the names in the NIfTI header, else TotalSegmentator's ``total`` table."""
    array, affine, header_names = read_nifti_labels(path, max_voxels)
    if table is None:
        sidecar = sidecar_path(path)
        if sidecar.is_file():
            table = read_table(sidecar)
        elif header_names:
            table = LabelTable.from_names(header_names)
        else:
            table = total_table()
    return LabelMap(array=array, affine=affine, table=table)


