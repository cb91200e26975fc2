"""Standard codes (SNOMED CT) for Iris's structure names, as DICOM segments and reports carry them.

The table (``anatomy_codes.csv`` beside this module) holds, per structure: the segmented property
category, type and type modifier (laterality), and an anatomic region where the type alone is not
anatomy (a cyst of the left kidney). Codes for TotalSegmentator's structures are those of its
own published mapping (``totalsegmentator/resources/totalsegmentator_snomed_mapping.csv``), so a
SEG from Iris and one from TotalSegmentator describe a structure alike; the tissue engine's
structures that mapping lacks carry codes chosen for Iris (``source`` column). Any other name
gets a generic anatomical-structure code, with its laterality when the name ends in a side.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

_TABLE = "anatomy_codes.csv"


@dataclass(frozen=True)
class Code:
    """One coded concept: coding scheme designator, code value, code meaning."""

    scheme: str
    value: str
    meaning: str


@dataclass(frozen=True)
class StructureCodes:
    category: Code
    type: Code
    type_modifier: Code | None = None
    region: Code | None = None
    region_modifier: Code | None = None
    standard: bool = True  # False: the generic code of a name the table does not know


ANATOMICAL_STRUCTURE = Code("SCT", "123037004", "Anatomical Structure")
GENERIC_TYPE = Code("SCT", "91723000", "Anatomical structure")
LEFT = Code("SCT", "7771000", "Left")
RIGHT = Code("SCT", "24028007", "Right")


def structure_codes(name: str) -> StructureCodes:
    """The codes for structure ``name`` (generic ones when the table does not know it)."""
    known = _table().get(name)
    if known is not None:
        return known
    side = LEFT if name.endswith("_left") else RIGHT if name.endswith("_right") else None
    return StructureCodes(ANATOMICAL_STRUCTURE, GENERIC_TYPE, side, standard=False)


@cache
def _table() -> dict[str, StructureCodes]:
    text = resources.files("iris3d").joinpath(_TABLE).read_text(encoding="utf-8")
    table: dict[str, StructureCodes] = {}
    for row in csv.DictReader(io.StringIO(text)):
        category, kind = _code(row, "category"), _code(row, "type")
        if category is None or kind is None:
            raise ValueError(f"{_TABLE}: {row['structure']} lacks a category or type code")
        table[row["structure"]] = StructureCodes(
            category, kind, _code(row, "type_modifier"), _code(row, "region"),
            _code(row, "region_modifier"),
        )
    return table


def _code(row: dict[str, str], prefix: str) -> Code | None:
    value = row[f"{prefix}_value"]
    if not value:
        return None
    return Code(row[f"{prefix}_scheme"], value, row[f"{prefix}_meaning"])
