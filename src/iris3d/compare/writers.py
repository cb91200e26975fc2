"""The comparison's files: JSON (everything, with units), CSV (the table), GLB (the surfaces)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

from iris3d.compare.comparison import Comparison
from iris3d.export import write_glb

FORMAT_VERSION = 1
UNITS = {
    "volume_base_ml": "mL", "volume_follow_ml": "mL", "change_ml": "mL", "change_percent": "%",
    "hu_mean_base": "HU", "hu_mean_follow": "HU",
    "distance_mm": "mm, follow-up surface to base surface: + outside (growth), - inside",
    "centroid_residual_mm": "mm",
    "centroid_base_ras_mm": "mm, RAS+ of the base (x Right, y Anterior, z Superior)",
    "centroid_follow_ras_mm": "mm, RAS+ of the base (the follow-up's, moved by the registration)",
    "matrix_follow_to_base_ras": "follow-up RAS+ mm -> base RAS+ mm, 4x4, row-major",
}
CSV_COLUMNS = (
    "name", "group", "status", "volume_base_ml", "volume_follow_ml", "change_ml",
    "change_percent", "hu_mean_base", "hu_mean_follow", "distance_mean_mm", "distance_p5_mm",
    "distance_p95_mm", "distance_max_abs_mm", "dice", "centroid_residual_mm",
    *(f"centroid_{study}_{axis}_ras_mm" for study in ("base", "follow") for axis in "xyz"),
)


def comparison_document(comparison: Comparison, about: Mapping[str, object] | None = None
                        ) -> dict[str, object]:
    """comparison.json's content; ``about`` (versions, the studies' grids) is merged in."""
    return {
        "format_version": FORMAT_VERSION,
        **(about or {}),
        "units": UNITS,
        "summary": comparison.summary(),
        "registration": comparison.registration.to_dict(),
        "alignment": comparison.alignment.to_dict(),
        "structures": [c.to_dict() for c in comparison.changes],
        "timings_s": {k: round(v, 3) for k, v in comparison.timings_s.items()},
    }


def write_comparison_json(comparison: Comparison, path: Path,
                          about: Mapping[str, object] | None = None) -> Path:
    text = json.dumps(comparison_document(comparison, about), indent=2, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
    return Path(path)


def write_comparison_csv(comparison: Comparison, path: Path) -> Path:
    """One row per structure, in the table's order; an empty cell is a value that does not
    exist (no HU for an absent structure, no distance for one that appeared or disappeared)."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for change in comparison.changes:
            row = change.to_dict()
            distance = row.pop("distance_mm") or {}
            assert isinstance(distance, dict)
            for key in ("mean", "p5", "p95", "max_abs"):
                row[f"distance_{key}_mm"] = distance.get(key)
            for study in ("base", "follow"):
                point = row.pop(f"centroid_{study}_ras_mm") or [None] * 3
                assert isinstance(point, list)
                for axis, value in zip("xyz", point, strict=True):
                    row[f"centroid_{study}_{axis}_ras_mm"] = value
            writer.writerow("" if row[c] is None else row[c] for c in CSV_COLUMNS)
    return Path(path)


def write_comparison_glb(comparison: Comparison, path: Path, *, compress: bool = True) -> Path:
    """The follow-up's structures in the base's RAS+ frame, laid out as the study GLB (root
    ``patient``, one node per group, one per structure), each with ``_SIGNED_DISTANCE``."""
    write_glb(comparison.meshes, path, compress=compress)
    return Path(path)
