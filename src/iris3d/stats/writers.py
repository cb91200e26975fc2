"""Statistics as JSON (with units) and CSV (one row per structure)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from iris3d.stats.measures import StructureStats

UNITS = {
    "voxel_volume_ml": "mL", "mesh_volume_ml": "mL", "surface_area_mm2": "mm^2",
    "hu_mean": "HU", "hu_std": "HU", "hu_median": "HU", "hu_p5": "HU", "hu_p95": "HU",
    "centroid_ras_mm": "mm, RAS+ (x Right, y Anterior, z Superior)",
    "bbox_min_ras_mm": "mm, RAS+", "bbox_max_ras_mm": "mm, RAS+",
}


def write_statistics_json(stats: Sequence[StructureStats], path: Path) -> None:
    document = {"units": UNITS, "structures": [s.to_dict() for s in stats]}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _csv_columns() -> list[str]:
    columns = []
    for f in fields(StructureStats):
        if f.name.endswith("_ras_mm"):
            columns += [f"{f.name[: -len('_ras_mm')]}_{axis}_ras_mm" for axis in "xyz"]
        else:
            columns.append(f.name)
    return columns


def write_statistics_csv(stats: Sequence[StructureStats], path: Path) -> None:
    """One row per structure; triples are split into x, y, z columns; empty cell = no mesh."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_csv_columns())
        for s in stats:
            row: list[object] = []
            for f in fields(StructureStats):
                value = getattr(s, f.name)
                if isinstance(value, tuple):
                    row += list(value)
                elif isinstance(value, float):
                    row.append(round(value, 4))
                else:
                    row.append("" if value is None else value)
            writer.writerow(row)
