"""The comparison table: one row per structure present in either study."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.compare.alignment import Alignment
from iris3d.compare.distance import DistanceSummary
from iris3d.compare.measure import StructureMeasure
from iris3d.geometry import transform_points

BOTH, APPEARED, DISAPPEARED = "both", "appeared", "disappeared"
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class StructureChange:
    """How one structure changed from the base study to the follow-up.

    Volumes (voxel count x voxel volume) and mean HU come from each study on its own grid, so
    they hold whatever the alignment; an absent structure has volume 0 and no HU. ``distance``
    (follow-up surface to base surface, positive = outside = growth), ``dice`` and
    ``centroid_residual_mm`` exist only for structures in both studies and depend on the
    alignment. Centroids are in the base's RAS+ mm: the follow-up's moved there by the
    registration.
    """

    name: str
    group: str
    colour: str
    status: str  # "both", "appeared" or "disappeared"
    volume_base_ml: float
    volume_follow_ml: float
    hu_mean_base: float | None
    hu_mean_follow: float | None
    distance: DistanceSummary | None
    dice: float | None
    centroid_residual_mm: float | None
    centroid_base_ras_mm: Triple | None
    centroid_follow_ras_mm: Triple | None

    @property
    def change_ml(self) -> float:
        return self.volume_follow_ml - self.volume_base_ml

    @property
    def change_percent(self) -> float | None:
        """None for a structure that appeared (growth from nothing has no percentage)."""
        if self.volume_base_ml <= 0:
            return None
        return 100.0 * self.change_ml / self.volume_base_ml

    def to_dict(self) -> dict[str, object]:
        percent = self.change_percent
        return {
            "name": self.name,
            "group": self.group,
            "colour": self.colour,
            "status": self.status,
            "volume_base_ml": round(self.volume_base_ml, 3),
            "volume_follow_ml": round(self.volume_follow_ml, 3),
            "change_ml": round(self.change_ml, 3),
            "change_percent": None if percent is None else round(percent, 2),
            "hu_mean_base": _rounded(self.hu_mean_base),
            "hu_mean_follow": _rounded(self.hu_mean_follow),
            "distance_mm": None if self.distance is None else self.distance.to_dict(),
            "dice": _rounded(self.dice, 4),
            "centroid_residual_mm": _rounded(self.centroid_residual_mm, 3),
            "centroid_base_ras_mm": _triple(self.centroid_base_ras_mm),
            "centroid_follow_ras_mm": _triple(self.centroid_follow_ras_mm),
        }


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def _triple(value: Triple | None) -> list[float] | None:
    return None if value is None else [round(v, 2) for v in value]


def _point(matrix: npt.NDArray[np.float64], measure: StructureMeasure | None) -> Triple | None:
    if measure is None:
        return None
    x, y, z = (float(v) for v in transform_points(matrix, measure.centroid_ras[None])[0])
    return (x, y, z)


def change_table(
    base: Mapping[str, StructureMeasure],
    follow: Mapping[str, StructureMeasure],
    distances: Mapping[str, DistanceSummary],
    alignment: Alignment,
    follow_to_base: npt.NDArray[np.float64],
) -> list[StructureChange]:
    """Every structure of either study, largest absolute volume change first (then by name)."""
    scores = alignment.by_name()
    rows = []
    for name in set(base) | set(follow):
        a, b = base.get(name), follow.get(name)
        either = a or b
        assert either is not None
        score = scores.get(name)
        rows.append(StructureChange(
            name=name,
            group=either.group,
            colour=either.colour,
            status=BOTH if a and b else (APPEARED if b else DISAPPEARED),
            volume_base_ml=a.volume_ml if a else 0.0,
            volume_follow_ml=b.volume_ml if b else 0.0,
            hu_mean_base=a.hu_mean if a else None,
            hu_mean_follow=b.hu_mean if b else None,
            distance=distances.get(name),
            dice=score.dice if score else None,
            centroid_residual_mm=score.centroid_residual_mm if score else None,
            centroid_base_ras_mm=_point(np.eye(4), a),
            centroid_follow_ras_mm=_point(follow_to_base, b),
        ))
    return sorted(rows, key=lambda r: (-abs(r.change_ml), r.name))
