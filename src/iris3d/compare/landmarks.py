"""A first alignment from matching structures' centroids (Kabsch), before any image is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.compare.measure import StructureMeasure
from iris3d.volume import CTVolume

MIN_LANDMARKS = 3  # fewer points do not fix a rotation
_OUTLIER_FACTOR = 3.0  # residuals above 3x the median (and above _OUTLIER_FLOOR_MM) are dropped
_OUTLIER_FLOOR_MM = 10.0
_BODY_HU = -500.0  # above this a voxel is patient (or table), not air


@dataclass(frozen=True)
class Initialisation:
    """A rigid 4x4 (follow-up RAS mm -> base RAS mm) and how it was found."""

    matrix: npt.NDArray[np.float64]
    method: str  # "centroids" or "centre_of_mass"
    landmarks: tuple[str, ...]  # the structures whose centroids were fitted


def rigid_fit(
    source: npt.NDArray[np.floating],
    target: npt.NDArray[np.floating],
    weights: npt.NDArray[np.floating] | None = None,
) -> npt.NDArray[np.float64]:
    """The rotation and translation (4x4) that best map ``source`` points onto ``target``
    (both (N, 3)) in the least-squares sense: Kabsch's algorithm, never a reflection."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3:
        raise ValueError(f"expected two (N, 3) point sets, got {src.shape} and {dst.shape}")
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    src_mean, dst_mean = w @ src, w @ dst
    covariance = (src - src_mean).T @ ((dst - dst_mean) * w[:, None])
    u, _, vt = np.linalg.svd(covariance)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = dst_mean - rotation @ src_mean
    return matrix


def initial_alignment(
    base: Mapping[str, StructureMeasure],
    follow: Mapping[str, StructureMeasure],
    base_ct: CTVolume,
    follow_ct: CTVolume,
) -> Initialisation:
    """Kabsch on the centroids of the structures both studies have (those whole in both scans
    when there are enough), once more without the outliers (an organ that grew off-centre); the
    bodies' centres of mass when fewer than three structures are shared."""
    names = sorted(set(base) & set(follow))
    whole = [n for n in names if not (base[n].at_scan_edge or follow[n].at_scan_edge)]
    if len(whole) >= MIN_LANDMARKS:
        names = whole
    if len(names) < MIN_LANDMARKS:
        shift = _body_centre(base_ct) - _body_centre(follow_ct)
        matrix = np.eye(4)
        matrix[:3, 3] = shift
        return Initialisation(matrix, "centre_of_mass", ())
    src = np.array([follow[n].centroid_ras for n in names])
    dst = np.array([base[n].centroid_ras for n in names])
    matrix = rigid_fit(src, dst)
    residual = np.linalg.norm(src @ matrix[:3, :3].T + matrix[:3, 3] - dst, axis=1)
    keep = residual <= max(_OUTLIER_FACTOR * float(np.median(residual)), _OUTLIER_FLOOR_MM)
    if MIN_LANDMARKS <= keep.sum() < len(names):
        matrix = rigid_fit(src[keep], dst[keep])
        names = [n for n, k in zip(names, keep, strict=True) if k]
    return Initialisation(matrix, "centroids", tuple(names))


def _body_centre(ct: CTVolume) -> npt.NDArray[np.float64]:
    """Centre of mass of the voxels denser than air, RAS+ mm (the grid's centre if none)."""
    ijk = np.argwhere(np.asarray(ct.array, dtype=np.float32) > _BODY_HU)
    centre = ijk.mean(axis=0) if len(ijk) else (np.asarray(ct.shape) - 1) / 2.0
    result: npt.NDArray[np.float64] = ct.affine[:3, :3] @ centre + ct.affine[:3, 3]
    return result
