"""Label maps on disk: a NIfTI whose header names its labels, and a JSON sidecar beside it.

The names travel twice so that every tool finds them:

- inside the NIfTI, as the XML "Caret" label-table extension that TotalSegmentator writes with
  ``--ml`` (3D Slicer's TotalSegmentator extension and TotalSegmentator itself read it back);
- in ``<stem>.json`` beside it (``seg.nii.gz`` -> ``seg.json``): ``{"labels": [{id, name, group,
  colour}]}``, the form Iris's own readers and the web app use.

Tables can also come from a CSV (``id,name[,group,colour]``) or a 3D Slicer colour table
(``id name R G B A`` per line), for masks made elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, Structure, total_table
from iris3d.errors import IrisError
from iris3d.geometry import reorient_to_ras
from iris3d.ingest.errors import IngestError
from iris3d.ingest.nifti_file import NiftiFile, NiftiHeader, read_nifti
from iris3d.niftiwrite import save_nifti
from iris3d.settings import get_settings
from iris3d.volume import LabelMap

# TotalSegmentator writes its label table as a NIfTI extension with code 0 and reads back the
# first extension; Iris does the same so that files go both ways.
CARET_ECODE = 0
_MAX_EXTENSION_BYTES = 4 * 2**20  # a table of thousands of names is far smaller
_MAX_LABEL = 65535  # label maps are stored as uint16 at most


class LabelFileError(IrisError):
    """The label map or label table could not be read."""


def sidecar_path(nifti_path: Path) -> Path:
    """``seg.nii.gz`` -> ``seg.json``; ``seg.nii`` -> ``seg.json``."""
    name = nifti_path.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return nifti_path.with_name(name[: -len(suffix)] + ".json")
    return nifti_path.with_suffix(".json")


def caret_xml(table: LabelTable) -> str:
    """The label table in the XML that TotalSegmentator's ``--ml`` output carries."""
    rows = []
    for structure in table.values():
        r, g, b = (c / 255 for c in structure.colour)
        name = structure.name.replace("]]>", "]] >")  # CDATA cannot contain its terminator
        rows.append(
            f'<Label Key="{structure.label}" Red="{r:.6g}" Green="{g:.6g}" Blue="{b:.6g}" '
            f'Alpha="1"><![CDATA[{name}]]></Label>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?> <CaretExtension>  '
        "<Date><![CDATA[2013-07-14T05:45:09]]></Date>   "
        '<VolumeInformation Index="0">   <LabelTable>\n'
        + "\n".join(rows)
        + "\n  </LabelTable>  <StudyMetaDataLinkSet>  </StudyMetaDataLinkSet>  "
        "<VolumeType><![CDATA[Label]]></VolumeType>   </VolumeInformation></CaretExtension>\n"
    )


def names_from_caret_xml(content: bytes) -> dict[int, str]:
    """Label id -> name from a Caret extension's XML (empty when it carries no label table)."""
    if len(content) > _MAX_EXTENSION_BYTES:
        raise LabelFileError(f"the NIfTI label extension is too large ({len(content)} bytes)")
    try:
        root = ET.fromstring(content.rstrip(b"\x00 \n\r\t"))
    except ET.ParseError as e:
        raise LabelFileError(f"the NIfTI label extension is not valid XML: {e}") from e
    names: dict[int, str] = {}
    for element in root.iter("Label"):
        key, text = element.get("Key"), (element.text or "").strip()
        if key is None or not text:
            continue
        try:
            label = int(key)
        except ValueError:
            raise LabelFileError(
                f"label key {key!r} in the NIfTI extension is not an integer"
            ) from None
        if label > 0:
            names[label] = text
    return names


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


def open_nifti(path: Path, max_voxels: int | None = None) -> NiftiFile:
    """A NIfTI file's checked header, voxels (in the file's own order, scaling applied) and
    affine; :class:`LabelFileError` names any problem. ``max_voxels``: default the settings'."""
    limit = max_voxels if max_voxels is not None else get_settings().max_voxels
    try:
        nifti = read_nifti(path, limit)
    except IngestError as e:
        raise LabelFileError(str(e)) from e
    if (nifti.slope, nifti.intercept) == (1.0, 0.0):
        return nifti
    scaled = nifti.stored.astype(np.float64) * nifti.slope + nifti.intercept
    return replace(nifti, stored=scaled)


def read_nifti_labels(
    path: Path, max_voxels: int | None = None
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
    image = nib.Nifti1Image(np.asarray(labels.array, dtype=dtype), labels.affine)
    image.set_qform(labels.affine, code=1)
    image.set_sform(labels.affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
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
    path: Path, table: LabelTable | None = None, max_voxels: int | None = None
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


def read_table(path: Path) -> LabelTable:
    """A label table from JSON (Iris's sidecar, or ``{"1": "liver", ...}``), CSV, or a 3D Slicer
    colour table (``.ctbl``/``.txt``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise LabelFileError(f"cannot read the label table {path}: {e}") from e
    try:
        suffix = path.suffix.lower()
        if suffix == ".json":
            return _table_from_json(text)
        if suffix == ".csv":
            return _table_from_csv(text)
        if suffix in (".ctbl", ".txt"):
            return _table_from_slicer(text)
    except (ValueError, KeyError, TypeError) as e:
        raise LabelFileError(f"{path.name}: not a valid label table ({e})") from e
    raise LabelFileError(
        f"{path.name}: unknown label table format; use .json, .csv (id,name) or a 3D Slicer "
        ".ctbl/.txt colour table"
    )


def _table_from_json(text: str) -> LabelTable:
    data = json.loads(text)
    if isinstance(data, dict) and "labels" not in data:
        # {"1": "liver", ...}: TotalSegmentator's class-map style
        return LabelTable.from_names({int(k): str(v) for k, v in data.items() if int(k) > 0})
    return LabelTable.from_json(text)


def _table_from_csv(text: str) -> LabelTable:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"id", "name"} <= {k.strip().lower() for k in rows[0]}:
        raise ValueError("the CSV needs a header row with at least the columns id and name")
    names: dict[int, str] = {}
    for row in rows:
        clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if int(clean["id"]) > 0:
            names[int(clean["id"])] = clean["name"]
    return _with_optional_columns(names, rows)


def _with_optional_columns(names: dict[int, str], rows: list[dict[str, str]]) -> LabelTable:
    base = LabelTable.from_names(names)
    structures = []
    for row in rows:
        clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        label = int(clean["id"])
        if label <= 0:
            continue
        default = base[label]
        colour = _hex_colour(clean.get("colour") or clean.get("color") or "") or default.colour
        structures.append(Structure(label, default.name, clean.get("group") or default.group,
                                    colour))
    return LabelTable(structures)


def _hex_colour(value: str) -> tuple[int, int, int] | None:
    if len(value) == 7 and value.startswith("#"):
        return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
    return None


def _table_from_slicer(text: str) -> LabelTable:
    names: dict[int, str] = {}
    colours: dict[int, tuple[int, int, int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#") or int(parts[0]) <= 0:
            continue
        label = int(parts[0])
        names[label] = parts[1]
        if len(parts) >= 5:
            colours[label] = (int(parts[2]), int(parts[3]), int(parts[4]))
    base = LabelTable.from_names(names)
    return LabelTable(
        Structure(s.label, s.name, s.group, colours.get(s.label, s.colour)) for s in base.values()
    )
