"""The patient's body: everything denser than air that is thick enough to be a person.

The CT table, cushions, blankets and ECG leads are thin; a person is not. Components of the
above-air mask are kept when their largest inscribed sphere is at least ``MIN_THICKNESS_MM`` in
radius, so arms held beside the torso stay and the table goes, whether or not it touches the
field of view's edge.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.segment.tissue.morphology import FACES, Mask, Spacing, fill_holes_2d, label_max

BODY_HU = -500.0  # between air (-1000) and fat (-100); partial-volume skin lands above it
OPEN_MM = 4.0  # thin attachments (table pads, sheets) break at this radius
MIN_THICKNESS_MM = 12.0  # a forearm's radius is ~25 mm; a CT table is ~10 mm thick in all
MIN_VOLUME_ML = 20.0


def body_mask(hu: npt.NDArray[np.float32], spacing: Spacing) -> Mask:
    """The body on ``hu``'s grid, filled slice by slice (lungs and bowel gas are inside it)."""
    dense = hu > BODY_HU
    if not dense.any():
        return dense
    # Padded in-plane only: the first and last slices cut the body, they are not its surface.
    padded = np.pad(dense, ((1, 1), (1, 1), (0, 0)))
    depth = ndimage.distance_transform_edt(padded, sampling=spacing)[1:-1, 1:-1, :]
    cores = depth > OPEN_MM
    labels, count = ndimage.label(cores, structure=FACES)
    if count == 0:
        return np.zeros_like(dense)
    thickness = label_max(depth, labels, count)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    volume = np.bincount(labels.ravel(), minlength=count + 1)[1:] * voxel_ml
    keep = (np.asarray(thickness) >= MIN_THICKNESS_MM) & (volume >= MIN_VOLUME_ML)
    if not keep.any():
        keep[int(np.argmax(volume))] = True
    lookup = np.zeros(count + 1, dtype=bool)
    lookup[1:] = keep
    kept = lookup[labels]
    # Grow the kept cores back by the opening radius, but only over dense voxels: the skin
    # returns, the table (never within reach of a core) does not.
    reach = ndimage.distance_transform_edt(~kept, sampling=spacing) <= OPEN_MM + max(spacing)
    return fill_holes_2d(dense & reach)
