"""A follow-up study of a phantom's patient: some organs grown or shrunk, some removed, the
whole patient moved on the table, with the truth measured on the new voxels.

For testing comparisons: the growth, removal and motion are known exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.phantom.build import Phantom, measure_truth
from iris3d.phantom.shapes import HU_AIR, HU_SOFT
from iris3d.volume import CTVolume, LabelMap

# A grown organ takes over unlabelled soft tissue and fat, never air, bone, the table or
# another organ (organs push against their neighbours rather than through them).
_CLAIMABLE_HU = (-200, 200)
_BISECTION_STEPS = 24


@dataclass(frozen=True, eq=False)
class FollowUp(Phantom):
    """A later study of the same patient. ``base_to_follow`` maps the base phantom's RAS+ mm to
    this study's (the motion of the patient); ``truth`` is measured on this study's voxels."""

    base_to_follow: npt.NDArray[np.float64]

    @property
    def follow_to_base(self) -> npt.NDArray[np.float64]:
        """What a registration of this study onto the base should find."""
        return np.asarray(np.linalg.inv(self.base_to_follow), dtype=np.float64)


def rigid_motion(
    rotation_deg: tuple[float, float, float],
    shift_mm: tuple[float, float, float],
    centre_mm: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Rotate about RAS x, then y, then z (degrees, right-handed) around ``centre_mm``, then
    shift: a 4x4 on RAS+ mm."""
    rx, ry, rz = np.radians(rotation_deg)
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rotation = (np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
                @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
                @ np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]))
    centre = np.asarray(centre_mm, dtype=np.float64)
    motion = np.eye(4)
    motion[:3, :3] = rotation
    motion[:3, 3] = centre - rotation @ centre + np.asarray(shift_mm, dtype=np.float64)
    return motion


def make_follow_up(
    phantom: Phantom,
    *,
    grow: Mapping[str, float] | None = None,
    remove: Sequence[str] = (),
    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0),
    shift_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> FollowUp:
    """The phantom's patient scanned again.

    ``grow`` scales each named organ about its centroid until its voxel volume is the factor
    times the base's (1.2: 20 % larger; 0.8: smaller), into free soft tissue only; ``remove``
    replaces the named organs by the soft tissue around them (label 0). The patient is then
    moved rigidly (``rotation_deg`` about the centre of the base's grid, then ``shift_mm``) and
    resampled onto an axis-aligned grid of the same spacing that holds all of it (CT linear,
    labels nearest).
    """
    hu = np.array(phantom.ct.array, dtype=np.int16, copy=True)
    labels = np.array(phantom.labels.array, copy=True)
    table = phantom.labels.table
    for name, factor in (grow or {}).items():
        _scale_organ(hu, labels, table.by_name(name).label, factor)
    for name in remove:
        _remove_organ(hu, labels, table.by_name(name).label)

    base_affine = phantom.ct.affine
    centre = base_affine[:3, :3] @ ((np.asarray(hu.shape) - 1) / 2) + base_affine[:3, 3]
    motion = rigid_motion(rotation_deg, shift_mm, centre)
    affine, shape = _enclosing_grid(base_affine, hu.shape, motion)
    to_base = np.linalg.inv(base_affine) @ np.linalg.inv(motion) @ affine
    moved_hu = ndimage.affine_transform(hu.astype(np.float32), to_base[:3, :3],
                                        offset=to_base[:3, 3], output_shape=shape, order=1,
                                        mode="constant", cval=float(HU_AIR))
    moved_labels = ndimage.affine_transform(labels, to_base[:3, :3], offset=to_base[:3, 3],
                                            output_shape=shape, order=0, mode="constant", cval=0)
    ct = CTVolume(array=np.rint(moved_hu).astype(np.int16), affine=affine,
                  metadata=phantom.ct.metadata)
    present = sorted(int(i) for i in np.unique(moved_labels) if i)
    label_map = LabelMap(array=moved_labels, affine=affine, table=table.subset(present))
    return FollowUp(ct=ct, labels=label_map, truth=measure_truth(ct, label_map),
                    base_to_follow=motion)


def _scale_organ(hu: npt.NDArray[np.int16], labels: npt.NDArray[np.integer], label: int,
                 factor: float) -> None:
    """Scale one organ about its centroid (in place) until its voxel count is ``factor`` times
    what it was: bisection on the linear scale, then the last few voxels by how far inside the
    scaled shape they lie (neighbours may stop it growing evenly)."""
    if factor <= 0:
        raise ValueError(f"a volume factor must be positive, got {factor}")
    where = np.argwhere(labels == label)
    centre = where.mean(axis=0)
    reach = max(factor, 1.0) ** (1 / 3) * 1.5  # room for the grown organ around its centre
    lo = np.maximum(np.floor(centre - (centre - where.min(axis=0) + 2) * reach), 0).astype(int)
    hi = np.minimum(np.ceil(centre + (where.max(axis=0) - centre + 2) * reach) + 1,
                    labels.shape).astype(int)
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    sub_hu, sub_labels = hu[box], labels[box]
    old = sub_labels == label
    free = (sub_labels == 0) & (sub_hu >= _CLAIMABLE_HU[0]) & (sub_hu <= _CLAIMABLE_HU[1])
    allowed = (old | free) if factor >= 1 else old
    local_centre = centre - lo

    def occupancy(scale: float) -> npt.NDArray[np.float32]:
        """How much of each voxel the scaled organ covers (linear interpolation of the mask:
        voxels join one by one as the scale grows, not a slice at a time)."""
        covered: npt.NDArray[np.float32] = ndimage.affine_transform(
            old.astype(np.float32), np.eye(3) / scale, offset=local_centre - local_centre / scale,
            order=1, mode="constant", cval=0.0)
        covered[~allowed] = 0.0
        return covered

    target = round(factor * len(where))
    low, high = (1.0, 2.0 * factor ** (1 / 3)) if factor >= 1 else (0.3 * factor ** (1 / 3), 1.0)
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if (occupancy(middle) >= 0.5).sum() < target else (low, middle)
    covered = occupancy(high)
    if factor >= 1:
        covered[old] = 2.0  # a growing organ keeps all it had
    # Exactly ``target`` voxels: the most covered ones.
    ranked = np.argsort(-covered, axis=None, kind="stable")[:target]
    new = np.zeros(old.shape, dtype=bool)
    new.flat[ranked] = covered.flat[ranked] > 0
    gained, lost = new & ~old, old & ~new
    sub_hu[gained] = int(np.median(sub_hu[old]))
    sub_labels[gained] = label
    sub_hu[lost] = _surrounding_hu(sub_hu, sub_labels, old)
    sub_labels[lost] = 0


def _remove_organ(hu: npt.NDArray[np.int16], labels: npt.NDArray[np.integer], label: int) -> None:
    mask = labels == label
    hu[mask] = _surrounding_hu(hu, labels, mask)
    labels[mask] = 0


def _surrounding_hu(hu: npt.NDArray[np.int16], labels: npt.NDArray[np.integer],
                    mask: npt.NDArray[np.bool_]) -> int:
    """The median HU of the unlabelled tissue (not air) within three voxels of ``mask``."""
    shell = ndimage.binary_dilation(mask, iterations=3) & ~mask & (labels == 0) & (hu > -500)
    return int(np.median(hu[shell])) if shell.any() else HU_SOFT


def _enclosing_grid(
    affine: npt.NDArray[np.float64], shape: tuple[int, ...], motion: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], tuple[int, int, int]]:
    """An axis-aligned RAS+ grid of the same spacing holding the moved grid's every corner."""
    corners = np.array([[i, j, k] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                        for k in (0, shape[2] - 1)], dtype=np.float64)
    moved = (corners @ affine[:3, :3].T + affine[:3, 3]) @ motion[:3, :3].T + motion[:3, 3]
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    low, high = moved.min(axis=0), moved.max(axis=0)
    size = np.ceil((high - low) / spacing - 1e-6).astype(int) + 1
    grid = np.diag([*spacing, 1.0])
    grid[:3, 3] = (low + high) / 2 - (size - 1) / 2 * spacing
    return grid, (int(size[0]), int(size[1]), int(size[2]))
