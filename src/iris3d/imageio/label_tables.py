"""Label tables: label id -> name (and group, colour), read from the files people bring.

JSON (Iris's sidecar, or TotalSegmentator's ``{"1": "liver", ...}``), CSV (``id,name[,group,
colour]``), a 3D Slicer colour table (``id name R G B A`` per line), and the XML "Caret" label
table that TotalSegmentator writes into a NIfTI's header with ``--ml``.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from iris3d.anatomy import LabelTable, Structure
from iris3d.errors import IrisError

_MAX_EXTENSION_BYTES = 4 * 2**20  # a table of thousands of names is far smaller


class LabelFileError(IrisError):
    """The label map or label table could not be read."""


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
