"""Labels from a coarse grid redrawn on the CT, where the structure stands out clearly.

TotalSegmentator's 3 mm ``fast`` model's output, put on a finer scan's grid, is made of 3 mm
blocks: a 2 mm vessel becomes a row of separate blocks and a rib a stack of them, each up to
half a block off the truth. Placing the blocks' surface on the CT (:mod:`iris3d.mesh.intensity`)
moves it by at most a cell and cannot join the pieces. Where the structure differs from its
surroundings by at least ten times the noise (bone, contrast-filled vessels, air), it is
redrawn at the CT's own resolution: the voxels within one label cell of its labels, unlabelled
or its own, whose HU is past the mid level between its own and its surroundings', connected to
its labels. The redrawn mask is then meshed and placed on the CT as a label map at the CT's
resolution would be. A faint structure (an organ against its neighbours) keeps its labels: a
threshold at its mid level would be mostly noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from skimage.measure import euler_number

from iris3d.mesh.intensity import IntensityGuide, intensity_guide

_MIN_CELL_MM = 2.5  # the 3 mm model's labels (the 1.5 mm model's are placed well enough)
# Thicker structures (twice the volume over the area of their blocks: a rib's is about 0.9
# cells, a vertebra's 1.2 and more) keep their blocks' surface placed on the CT, which is
# close enough there; redrawing them costs their whole box at the CT's resolution.
_MAX_THICKNESS_CELLS = 1.0
# Read from the blocks, the levels are diluted where a block misses a thin part, and the
# noise is read high across its edges (a 2 mm vessel's read 2.7-3.9 with the noise's seed;
# at 3.0, three seeds of four kept their blocks, 1.5 x Slicer's error): this only says
# whether redrawing is worth a try, the redrawn structure's own ratio decides.
_MIN_BLOCK_RATIO = 1.5
_MIN_RATIO = 10.0  # contrast to noise of the redrawn structure
# The redrawn voxels against the labels': the model's blocks of a thin structure hold about
# its volume (0.85-0.99 on the benchmark's shapes); far more is a leak into a neighbour the
# threshold does not tell apart, far less a cut at a bright neighbour's level (a real scan's
# bone next to lung and muscle: 1.6 and 0.6 before the surroundings' brightest tissue was
# used for the threshold).
_VOLUME_RANGE = (0.67, 1.5)
_ROUNDS = 2  # thresholds at the mid level, each with the levels the last one's mask reads
_VOXELS_PER_CELL = 4  # voxels read per label cell along an axis, at least
_SETTLED = 0.05  # of the contrast: the mid level moved less, the mask stands


@dataclass(frozen=True, eq=False)
class Redrawn:
    """One structure redrawn in a box of the volume: the box's labels with the structure
    redrawn, the box's affine (voxel [0, 0, 0] is the box's first; a strided box has longer
    columns), the guide that places its surface (on the box of the CT) and its voxels."""

    labels: npt.NDArray[np.integer]
    affine: npt.NDArray[np.float64]
    guide: IntensityGuide
    voxel_count: int
    # Holes through the labels (a ring's one): a structure the CT shows thinner than its
    # slices (a rib on a blurred scan) comes apart into beads with holes at its mid level,
    # which its surface must not have more of.
    label_holes: int


def redrawn(
    ct: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    labels: npt.NDArray[np.integer],
    affine: npt.NDArray[np.float64],
    label: int,
    surface_ijk: npt.NDArray[np.floating],
    voxels_per_cell: npt.NDArray[np.float64],
    guide: IntensityGuide,
    thickness_mm: float,
) -> Redrawn | None:
    """``label`` redrawn at the CT's resolution, or None where it is not coarse, not thin,
    not clearly distinct from its surroundings, or grows past its labels (see the module's
    docstring). ``surface_ijk``: its labels' surface points (voxel indices), which bound it;
    ``thickness_mm``: twice its labels' volume over their area."""
    cells = np.asarray(voxels_per_cell, dtype=np.float64)
    cell_mm = float((np.linalg.norm(affine[:3, :3], axis=0) * cells).max())
    if thickness_mm > _MAX_THICKNESS_CELLS * cell_mm or cell_mm < _MIN_CELL_MM or (
            guide.contrast_to_noise < _MIN_BLOCK_RATIO) or len(surface_ijk) == 0:
        return None
    # A scan much finer than the labels (a 3 mm result on sub-millimetre slices) is read on
    # every n-th voxel: a few per label cell are what the surface needs, the CT places it.
    step = np.maximum(np.floor(cells / _VOXELS_PER_CELL), 1).astype(int)
    reach = np.ceil(cells).astype(int)
    low = np.maximum(np.floor(surface_ijk.min(axis=0)).astype(int) - reach - 1, 0)
    high = np.minimum(np.ceil(surface_ijk.max(axis=0)).astype(int) + reach + 2, labels.shape)
    box = tuple(slice(a, b, n) for a, b, n in zip(low, high, step, strict=True))
    reach = np.ceil(cells / step).astype(int)
    labels_box, ct_box = labels[box], ct[box]
    own = labels_box == label
    own_count = int(np.count_nonzero(own))
    # A box filter is separable: one pass per axis, not a 3D structuring element.
    near = ndimage.maximum_filter(own.view(np.uint8), size=tuple(2 * reach + 1)).view(bool)
    near &= (labels_box == 0) | own
    box_affine = affine.copy()
    box_affine[:3, :3] = affine[:3, :3] * step
    box_affine[:3, 3] = affine[:3, :3] @ low + affine[:3, 3]
    corners = np.array([np.zeros(3), np.asarray(own.shape, float) - 1.0])
    # The labels' own topology, on a voxel per label cell: the redrawn structure may join
    # their pieces, not add any (nor holes, see Redrawn.label_holes).
    coarse = own[tuple(slice(None, None, max(int(c), 1)) for c in cells // step)]
    label_parts = int(ndimage.label(coarse)[1])
    brighter = guide.inside_hu > guide.outside_hu
    outside = _brightest_surroundings(ct_box, near, labels_box, reach, brighter)
    if outside is None:
        return None
    inside = guide.inside_hu
    levels: IntensityGuide | None = None
    drawn, count = labels_box, 0
    for _ in range(_ROUNDS):
        mid = 0.5 * (inside + outside)
        if (inside - outside) * (guide.inside_hu - guide.outside_hu) <= 0:
            return None
        mask, parts = _connected_to(near & ((ct_box > mid) if brighter else (ct_box < mid)),
                                    own)
        count = int(np.count_nonzero(mask))
        low_share, high_share = _VOLUME_RANGE
        if not low_share * own_count <= count <= high_share * own_count or (
                parts > label_parts):
            return None
        drawn = np.where(own, 0, labels_box)
        drawn[mask] = label
        levels = intensity_guide(ct_box, drawn, box_affine, label, corners)
        if levels is None:
            return None
        # The blocks' inside level was close enough: no need to threshold again.
        settled = abs(levels.inside_hu - inside) < _SETTLED * abs(inside - outside)
        inside = levels.inside_hu
        if settled:
            break
    if levels is None or levels.contrast_to_noise < _MIN_RATIO:
        return None
    return Redrawn(drawn, box_affine, levels, count,
                   label_parts - int(euler_number(coarse, connectivity=1)))


def _brightest_surroundings(ct: npt.NDArray[np.generic], near: npt.NDArray[np.bool_],
                            labels: npt.NDArray[np.integer], reach: npt.NDArray[np.int64],
                            brighter: bool) -> float | None:
    """The brightest (for a structure brighter than its surroundings, else the darkest) of
    the tissues around it: the 90th (10th) percentile of the unlabelled voxels in a shell
    just past ``near``, where the structure itself no longer is. A rib borders lung on one
    side and muscle on the other; a threshold half-way to the lung's HU would take the muscle
    in. None where the shell is empty."""
    shell = ndimage.maximum_filter(near.view(np.uint8), size=tuple(reach + 1)).view(bool)
    shell &= ~near & (labels == 0)
    values = ct[shell]
    if values.size < 8:
        return None
    return float(np.percentile(values, 90.0 if brighter else 10.0))


def _connected_to(mask: npt.NDArray[np.bool_], seeds: npt.NDArray[np.bool_]
                  ) -> tuple[npt.NDArray[np.bool_], int]:
    """The parts of ``mask`` (face-connected) that overlap ``seeds``, and how many."""
    parts, count = ndimage.label(mask)
    kept = np.zeros(count + 1, dtype=bool)
    kept[parts[seeds & mask]] = True
    kept[0] = False
    result: npt.NDArray[np.bool_] = kept[parts]
    return result, int(np.count_nonzero(kept))
