"""How well the follow-up lies on the base after registration, said in numbers and in words.

After registration the follow-up's labels are moved onto the base grid (nearest neighbour) and
each structure both studies have is scored by Dice overlap inside the field of view the two scans
share (what one scan did not cover is not a misalignment); each centroid by its distance from
the base's, where the structure is whole in both scans. Organs that truly changed score lower
too, so the verdict uses medians (robust to a few real changes) and the volume-weighted Dice of
all shared structures (which the largest organs dominate, so a mirrored or swapped study cannot
hide behind a midline spine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.compare.measure import StructureMeasure, slabs
from iris3d.compare.resample import labels_onto
from iris3d.geometry import transform_points
from iris3d.volume import LabelMap

# Thresholds. Nearest-neighbour resampling alone costs small structures some Dice: a structure
# three voxels thick that lies perfectly on its twin, moved by a few degrees, scores about
# 0.8-0.9, and an organ whose volume changed by 20 % at most 0.91. Segmentation models agree
# with experts at Dice ~0.85-0.95 on large organs, and two scans of one patient segmented by
# the same model about as well. So:
#   good: median Dice >= 0.75, volume-weighted Dice >= 0.80 and centroids within 5 mm
#         (or one and a half voxels, where voxels are larger): position changes and distance
#         maps can be read at the scale of the voxels;
#   fair: median Dice >= 0.55, weighted Dice >= 0.60 and centroids within 10 mm (three voxels):
#         large changes are real, small ones (a few mm) may be misalignment;
#   poor: anything worse; then only the volumes (measured on each study's own grid) hold.
GOOD_DICE, GOOD_WEIGHTED, GOOD_RESIDUAL_MM, GOOD_RESIDUAL_VOXELS = 0.75, 0.80, 5.0, 1.5
FAIR_DICE, FAIR_WEIGHTED, FAIR_RESIDUAL_MM, FAIR_RESIDUAL_VOXELS = 0.55, 0.60, 10.0, 3.0


@dataclass(frozen=True)
class StructureAlignment:
    name: str
    dice: float
    centroid_residual_mm: float
    whole: bool = True  # not cut by either scan's edge: its centroid residual is meaningful


@dataclass(frozen=True)
class Alignment:
    verdict: str  # "good", "fair" or "poor"
    message: str
    median_dice: float
    weighted_dice: float
    median_centroid_residual_mm: float | None  # None: every shared structure is cut by a scan
    structures: tuple[StructureAlignment, ...]

    def by_name(self) -> dict[str, StructureAlignment]:
        return {s.name: s for s in self.structures}

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "message": self.message,
            "median_dice": round(self.median_dice, 4),
            "weighted_dice": round(self.weighted_dice, 4),
            "median_centroid_residual_mm": None if self.median_centroid_residual_mm is None
            else round(self.median_centroid_residual_mm, 3),
            "structures": [{"name": s.name, "dice": round(s.dice, 4),
                            "centroid_residual_mm": round(s.centroid_residual_mm, 3),
                            "whole_in_both_scans": s.whole}
                           for s in self.structures],
        }


def assess_alignment(
    base_labels: LabelMap,
    base: Mapping[str, StructureMeasure],
    follow_labels: LabelMap,
    follow: Mapping[str, StructureMeasure],
    follow_to_base: npt.NDArray[np.float64],
) -> Alignment:
    """Score ``follow_to_base`` (follow-up RAS+ mm -> base RAS+ mm) on the shared structures."""
    # Largest first: the structures a reader should hear about first when they do not line up.
    names = sorted(set(base) & set(follow), key=lambda n: (-base[n].voxel_count, n))
    # Base voxels the follow-up's scan does not cover get OUTSIDE, and are left out of the counts.
    outside = max(int(follow_labels.array.max(initial=0)), *(m.label for m in follow.values())) + 1
    moved = labels_onto(follow_labels, base_labels.shape, base_labels.affine, follow_to_base,
                        fill=outside)
    # Renumber the moved follow-up with the base's ids, so one comparison counts every overlap.
    size = max(int(base_labels.array.max(initial=0)), *(m.label for m in base.values())) + 1
    renumber = np.zeros(outside + 1, dtype=np.min_scalar_type(size))
    for name in names:
        renumber[follow[name].label] = base[name].label
    both, base_counts, moved_counts = np.zeros(size), np.zeros(size), np.zeros(size)
    for start, stop in slabs(base_labels.shape):
        covered = moved[start:stop].ravel() != outside
        base_ids = base_labels.array[start:stop].ravel()[covered]
        moved_ids = renumber[moved[start:stop].ravel()[covered]]
        both += np.bincount(base_ids[(base_ids == moved_ids) & (base_ids > 0)], minlength=size)
        base_counts += np.bincount(base_ids, minlength=size)
        moved_counts += np.bincount(moved_ids, minlength=size)
    scores = []
    for name in names:
        a = base[name].label
        centroid = transform_points(follow_to_base, follow[name].centroid_ras[None])[0]
        denominator = base_counts[a] + moved_counts[a]
        scores.append(StructureAlignment(
            name=name,
            dice=float(2 * both[a] / denominator) if denominator else 0.0,
            centroid_residual_mm=float(np.linalg.norm(centroid - base[name].centroid_ras)),
            whole=not (base[name].at_scan_edge or follow[name].at_scan_edge),
        ))
    ids = [base[n].label for n in names]
    weighted = float(2 * both[ids].sum() / max(int(base_counts[ids].sum() +
                                                   moved_counts[ids].sum()), 1))
    voxel_mm = float(np.cbrt(abs(np.linalg.det(base_labels.affine[:3, :3]))))
    return judge(tuple(scores), weighted, voxel_mm)


def judge(scores: tuple[StructureAlignment, ...], weighted: float, voxel_mm: float) -> Alignment:
    """The verdict and its message from the per-structure scores (largest structure first; see
    the thresholds above)."""
    dice = float(np.median([s.dice for s in scores]))
    whole = [s.centroid_residual_mm for s in scores if s.whole]
    residual = float(np.median(whole)) if whole else None
    figures = f"median Dice {dice:.2f}, " + (
        f"centroids within {residual:.1f} mm" if residual is not None
        else "centroids not compared: every shared structure is cut by a scan's edge")
    if weighted < GOOD_WEIGHTED:
        figures += f", volume-weighted Dice {weighted:.2f}"
    apart = [s for s in scores if s.dice < FAIR_DICE]
    if apart and weighted < GOOD_WEIGHTED:  # name what does not line up
        figures += "; little overlap: " + ", ".join(s.name for s in apart[:3]) + (
            f" and {len(apart) - 3} more" if len(apart) > 3 else "")
    if (dice >= GOOD_DICE and weighted >= GOOD_WEIGHTED
            and _within(residual, max(GOOD_RESIDUAL_MM, GOOD_RESIDUAL_VOXELS * voxel_mm))):
        verdict = "good"
        message = (f"Alignment is good ({figures}): changes in position and distance maps are "
                   "reliable to about a voxel.")
    elif (dice >= FAIR_DICE and weighted >= FAIR_WEIGHTED
            and _within(residual, max(FAIR_RESIDUAL_MM, FAIR_RESIDUAL_VOXELS * voxel_mm))):
        verdict = "fair"
        message = (f"Alignment is fair ({figures}): distances under about "
                   f"{max(residual or 0.0, voxel_mm):.0f} mm may be misalignment rather than "
                   "change; volumes are still valid.")
    else:
        verdict = "poor"
        message = (f"Alignment is poor ({figures}): changes in position and distance maps are "
                   "unreliable; volumes are still valid.")
    return Alignment(verdict, message, dice, weighted, residual, scores)


def _within(residual: float | None, limit: float) -> bool:
    """Without a whole structure to measure, the overlap alone decides."""
    return residual is None or residual <= limit
