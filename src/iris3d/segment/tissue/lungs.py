"""Left and right lung: the large bodies of aerated tissue inside the body.

Lung parenchyma is air mixed with tissue (about -850 HU) and gas in the bowel is pure air
(about -1000 HU), so a component is lung when it is large and almost none of it is as dark as
pure air. Lungs touching each other (anterior junction) are split by eroding until two cores
remain. Sides are named from RAS x: + is the patient's right.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.segment.tissue.morphology import FACES, SLICE_SQUARE, Mask, Spacing, label_max

AIR_HU = -400.0  # aerated lung, partial volumes included, is below this
PURE_AIR_HU = -950.0
MAX_PURE_AIR_FRACTION = 0.15
AERATED_HU = -600.0  # most of a lung is darker than this; air trapped at the skin is not
MIN_LUNG_ML = 3.0
EMPHYSEMA_MIN_ML = 400.0  # a lung this large is lung even when emphysema darkens it
EMPHYSEMA_MAX_MEDIAN_HU = -975.0
MIN_SIDE_FRACTION = 0.15  # a component with this much on each side of the midline is both lungs
MIN_DEPTH_MM = 20.0  # a lung reaches this deep under the skin
MIN_RADIUS_MM = 6.0  # a lung is thicker than the slit of air between an arm and the trunk
MIN_GROWTH_DEPTH_MM = 15.0  # lung followed past a missing wall stays this far inside the hull


def lung_tissue(hu: npt.NDArray[np.float32], body: Mask, spacing: Spacing) -> Mask:
    """Voxels of the components that are lung (both sides, airways included), on ``hu``'s grid."""
    air = (hu < AIR_HU) & body
    labels, count = ndimage.label(air, structure=FACES)
    if count == 0:
        return air
    voxel_ml = float(np.prod(spacing)) / 1000.0
    index = np.arange(1, count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    volume = sizes * voxel_ml
    pure = ndimage.sum(hu < PURE_AIR_HU, labels, index) / np.maximum(sizes, 1)
    aerated = ndimage.sum(hu < AERATED_HU, labels, index) / np.maximum(sizes, 1)
    depth = label_max(_depth_in_body(body, spacing), labels, count)
    radius = label_max(ndimage.distance_transform_edt(air, sampling=spacing), labels, count)
    is_lung = (volume >= MIN_LUNG_ML) & (pure <= MAX_PURE_AIR_FRACTION) & (aerated > 0.5)
    for big in np.flatnonzero(~is_lung & (volume >= EMPHYSEMA_MIN_ML)):
        is_lung[big] = float(np.median(hu[labels == big + 1])) > EMPHYSEMA_MAX_MEDIAN_HU
    is_lung &= (np.asarray(depth) >= MIN_DEPTH_MM) & (np.asarray(radius) >= MIN_RADIUS_MM)
    lookup = np.zeros(count + 1, dtype=bool)
    lookup[1:] = is_lung
    return _through_missing_wall(lookup[labels], hu, body, spacing)


def _depth_in_body(body: Mask, spacing: Spacing) -> npt.NDArray[np.float64]:
    """In-plane distance (mm) from each voxel to the outside of the body."""
    padded = np.pad(body, ((1, 1), (1, 1), (0, 0)))
    depth = ndimage.distance_transform_edt(padded, sampling=(spacing[0], spacing[1], 1e6))
    result: npt.NDArray[np.float64] = depth[1:-1, 1:-1, :]
    return result


def find_lungs(
    tissue: Mask,
    body: Mask,
    airway: Mask,
    spacing: Spacing,
    x_mm: npt.NDArray[np.float64],
) -> tuple[Mask, Mask]:
    """(left, right) lungs from ``tissue`` (see :func:`lung_tissue`), with the trachea and main
    bronchi cut away; ``x_mm[i]`` is RAS x of column i."""
    left, right = np.zeros_like(body), np.zeros_like(body)
    if airway.any():
        tissue = tissue & ~ndimage.binary_dilation(airway, structure=FACES)
    labels, count = ndimage.label(tissue, structure=FACES)
    if count == 0:
        return left, right
    voxel_ml = float(np.prod(spacing)) / 1000.0
    small = np.bincount(labels.ravel(), minlength=count + 1) * voxel_ml < MIN_LUNG_ML
    small[0] = False
    labels[small[labels]] = 0  # crumbs left by the cut
    midline = _midline_x(body, x_mm)
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        component = labels[box] == label
        x = x_mm[box[0]][:, None, None]
        right_part = component & (x > midline)
        share = np.count_nonzero(right_part) / np.count_nonzero(component)
        if min(share, 1 - share) >= MIN_SIDE_FRACTION:
            part_left, part_right = _split(component, spacing, x, midline)
            left[box] |= part_left
            right[box] |= part_right
        elif share >= 0.5:
            right[box] |= component
        else:
            left[box] |= component
    return left, right


def _through_missing_wall(
    lungs: Mask, hu: npt.NDArray[np.float32], body: Mask, spacing: Spacing
) -> Mask:
    """Follow lung tissue out of the body's outline where the chest wall beside it is thinner
    than a voxel: only aerated voxels (never pure air), connected to a lung, and inside the
    convex hull of the trunk's outline over all slices (never into a mattress or a blanket)."""
    aerated = (hu > PURE_AIR_HU) & (hu < AIR_HU) & ~body
    touching = ndimage.binary_dilation(lungs, structure=FACES) & aerated
    if not touching.any():
        return lungs
    hull = _trunk_hull(body)
    # Away from the hull's edge: the pocket between an arm, the trunk and a pad lies at the edge.
    inner = ndimage.distance_transform_edt(np.pad(hull, 1))[1:-1, 1:-1] * min(spacing[:2])
    aerated &= (inner >= MIN_GROWTH_DEPTH_MM)[:, :, None]
    grown: Mask = ndimage.binary_propagation(lungs, structure=FACES, mask=lungs | aerated)
    return grown


def _trunk_hull(body: Mask) -> npt.NDArray[np.bool_]:
    """The convex hull (in x-y) of every slice's largest piece of ``body``, laid on each other."""
    from scipy.spatial import ConvexHull, QhullError

    labels, count = ndimage.label(body, structure=SLICE_SQUARE)
    if count == 0:
        return np.zeros(body.shape[:2], dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    slice_of = np.array([box[2].start if box else 0 for box in ndimage.find_objects(labels)])
    largest = np.zeros(body.shape[2], dtype=np.int64)
    np.maximum.at(largest, slice_of, sizes[1:])
    is_trunk = np.zeros(count + 1, dtype=bool)
    is_trunk[1:] = sizes[1:] == largest[slice_of]
    outline: npt.NDArray[np.bool_] = np.asarray(is_trunk[labels].any(axis=2))
    try:
        hull = ConvexHull(np.argwhere(outline))
    except QhullError:  # a line or a point: no area
        return outline
    ii, jj = np.meshgrid(np.arange(body.shape[0]), np.arange(body.shape[1]), indexing="ij")
    a, b = hull.equations[:, :2], hull.equations[:, 2]
    inside: npt.NDArray[np.bool_] = (
        ii[..., None] * a[:, 0] + jj[..., None] * a[:, 1] + b <= 1e-9
    ).all(axis=-1)
    return inside


def _midline_x(body: Mask, x_mm: npt.NDArray[np.float64]) -> float:
    counts = body.sum(axis=(1, 2))
    return float(np.average(x_mm, weights=counts)) if counts.any() else float(np.mean(x_mm))


def _split(
    component: Mask, spacing: Spacing, x: npt.NDArray[np.float64], midline: float
) -> tuple[Mask, Mask]:
    """Erode until two cores lie on either side of the midline, then give each voxel to the
    nearer core. Falls back to cutting at the midline."""
    depth = ndimage.distance_transform_edt(component, sampling=spacing)
    total = np.count_nonzero(component)
    step = min(spacing)
    for radius in np.arange(step, 40.0, step):
        cores, count = ndimage.label(depth > radius, structure=FACES)
        if count < 2:
            if count == 0:
                break
            continue
        sizes = np.bincount(cores.ravel())[1:]
        a, b = (int(i) + 1 for i in np.argsort(sizes)[::-1][:2])
        if sizes[b - 1] < 0.05 * total:
            continue
        xa = float(np.mean(np.broadcast_to(x, component.shape)[cores == a]))
        xb = float(np.mean(np.broadcast_to(x, component.shape)[cores == b]))
        if (xa - midline) * (xb - midline) >= 0:
            continue
        seeds = np.where(cores == a, 1, 0) + np.where(cores == b, 2, 0)
        nearest = ndimage.distance_transform_edt(
            seeds == 0, sampling=spacing, return_distances=False, return_indices=True
        )
        owner = seeds[tuple(nearest)]
        right_label = 1 if xa > xb else 2
        right = component & (owner == right_label)
        return component & ~right, right
    right = component & (x > midline)
    return component & ~right, right
