"""What the CT says of one structure in its bounding box: its HU inside and around it, the
scanner's noise, and its partial-volume estimate of the structure's volume (see
:mod:`iris3d.mesh.intensity`, which places the surface with them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from iris3d.mesh.medians import median, robust_std, sample

_FULL_RESOLUTION_VOXELS = 1 << 21  # larger boxes: their levels read on every second voxel
_MIXED_SURROUNDINGS = 6.0  # noises between the ring's 10th and 90th percentiles: two tissues


@dataclass(frozen=True, eq=False)
class BoxReading:
    """One structure's box as the levels and the partial volume read it: large boxes on every
    second voxel (``sampled``; their shells, two voxels thick there, read one voxel in eight),
    copied once into compact arrays (morphology on a strided view of the volume is several
    times slower than on its copy), and the structure's voxel count in the whole box."""

    hu: npt.NDArray[np.generic]
    labels: npt.NDArray[np.integer]
    mask: npt.NDArray[np.bool_]
    count: int
    sampled: bool
    scale: float = 1.0  # voxels of the box per voxel read

    @classmethod
    def of(cls, hu: npt.NDArray[np.generic], labels: npt.NDArray[np.integer],
           label: int) -> BoxReading:
        if labels.size <= _FULL_RESOLUTION_VOXELS:
            mask = labels == label
            return cls(hu, labels, mask, int(np.count_nonzero(mask)), False)
        count = int(np.count_nonzero(labels == label))
        step = (slice(None, None, 2),) * 3
        # order="K": the copy keeps the volume's own layout (a transposing copy is slow).
        few = labels[step].copy(order="K")
        return cls(hu[step].copy(order="K"), few, few == label, count, True,
                   labels.size / few.size)

    @cached_property
    def grown(self) -> npt.NDArray[np.bool_]:
        """The mask and its 6-neighbours (the levels and the partial volume both need it)."""
        return _grown(self.mask)

    @cached_property
    def shrunk(self) -> npt.NDArray[np.bool_]:
        """The mask where all its 6-neighbours are in it too."""
        return _shrunk(self.mask)


def partial_volume(read: BoxReading, label: int, inside: float, outside: float,
                   farther: float | None = None) -> float:
    """The structure's volume in voxels, from the CT: the voxels on either side of its
    boundary count their share of the contrast, clipped to [0, 1] so that a brighter or
    darker neighbour counts as no more or less than none (voxels of other structures count
    nothing); the core counts whole. Where the surroundings are two tissues, a voxel past the
    nearer one's HU (towards the farther one) counts its share of the contrast to the farther
    one. A sampled box counts each voxel read for the ones it stands for."""
    mask = read.mask
    inner = mask & ~read.shrunk
    band = (read.grown & ~mask) | inner
    owner = read.labels[band]
    values = read.hu[band][(owner == label) | (owner == 0)].astype(np.float32)
    fraction = np.clip((values - outside) / (inside - outside), 0.0, 1.0)
    if farther is not None:
        beyond = (values - outside) * (inside - outside) < 0
        fraction[beyond] = np.clip((values[beyond] - farther) / (inside - farther), 0.0, 1.0)
    return float(read.count) + read.scale * (float(fraction.sum()) - np.count_nonzero(inner))


def read_levels(read: BoxReading, affine: npt.NDArray[np.float64]
                ) -> tuple[float, float, float | None, float, bool] | None:
    """The structure's HU inside and outside, the noise inside, and whether its core is
    whole (False: only within the slices, thinner than them across: its HU is then diluted
    by the slice's partial volume); None when it has no core at all (its own HU is unknown,
    and so is the mid level).

    The voxels next to the boundary are partly both: the surroundings are read a voxel
    further out and the inside a voxel further in. A sampled box (every second voxel) is read
    one step out and in (one step there is two voxels: the same shells, an eighth of the work).
    """
    hu, mask = read.hu, read.mask
    if read.sampled:
        ring = read.grown & ~mask
        interior = read.shrunk
    else:
        ring = _grown(read.grown) & ~read.grown
        interior = _shrunk(read.shrunk)
    whole = bool(np.count_nonzero(interior) >= 8)
    if not whole:
        interior = _shrunk(mask, _fine_axes(affine))
    if np.count_nonzero(ring) < 8 or np.count_nonzero(interior) < 8:
        return None
    inside = median(sample(hu, interior))
    noise = min(_noise(hu, interior, axis) for axis in range(3))
    return inside, *_surroundings(sample(hu, ring), inside, noise), noise, whole


def _surroundings(ring: npt.NDArray[np.generic], inside: float, noise: float
                  ) -> tuple[float, float | None]:
    """The HU around a structure: the ring's median; or where it holds two tissues far apart
    (a rib between lung and muscle: the 10th and 90th percentiles more than 6 noises apart),
    the medians of the one nearer the structure's own HU and of the farther one. With the
    ring's median alone, a rib's mid level could lie below muscle's HU: its boundary would
    be put in the muscle and the muscle's voxels counted as partly rib."""
    values = np.asarray(ring, dtype=np.float32)
    if not np.isfinite(values).all():  # a float scan with holes: the caller gives up on it
        return median(ring), None
    low, high = np.percentile(values, [10.0, 90.0])
    if high - low <= _MIXED_SURROUNDINGS * max(noise, 1.0):
        return median(ring), None
    split = 0.5 * (low + high)
    brighter, darker = ring[values > split], ring[values <= split]
    nearer, farther = (brighter, darker) if inside > split else (darker, brighter)
    near, far = median(nearer), median(farther)
    # Only a tissue past the nearer one (lung beyond a bright rib's muscle) is blended into
    # differently; a neighbour brighter than the structure is not a tissue it fades into.
    return near, (far if (inside - near) * (near - far) > 0 else None)


def _noise(hu: npt.NDArray[np.generic], where: npt.NDArray[np.bool_], axis: int) -> float:
    """The scanner's noise inside: from the differences of neighbouring voxels along ``axis``,
    which a tissue's texture, smooth at the voxel's scale, hardly changes (bone's marrow and
    cortex differ by hundreds of HU; its noise does not). The caller takes the least over the
    axes: along a thin bone's length its cortex does not change at all."""
    hu, where = np.moveaxis(hu, axis, -1), np.moveaxis(where, axis, -1)
    pairs = where[:, :, 1:] & where[:, :, :-1]
    if np.count_nonzero(pairs) < 8:
        return robust_std(sample(hu, where))
    # The pairs first, then their differences: not the whole box converted twice per axis.
    exact = np.int32 if hu.dtype.kind in "iu" and hu.dtype.itemsize <= 2 else np.float32
    steps = hu[:, :, 1:][pairs].astype(exact) - hu[:, :, :-1][pairs].astype(exact)
    return robust_std(steps[:: max(1, len(steps) // 200_000)]) / float(np.sqrt(2.0))


def _grown(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``mask`` and its 6-neighbours (a dilation by slicing: no kernel, no copies per axis)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    out[:, :, 1:] |= mask[:, :, :-1]
    out[:, :, :-1] |= mask[:, :, 1:]
    return out


def _shrunk(mask: npt.NDArray[np.bool_], axes: tuple[int, ...] = (0, 1, 2)
            ) -> npt.NDArray[np.bool_]:
    """``mask`` where all its neighbours along ``axes`` are too (outside the box is not)."""
    out = mask.copy()
    for axis in axes:
        view = np.moveaxis(out, axis, 0)
        source = np.moveaxis(mask, axis, 0)
        view[1:] &= source[:-1]
        view[:-1] &= source[1:]
        view[0] = False
        view[-1] = False
    return out


def _fine_axes(affine: npt.NDArray[np.float64]) -> tuple[int, ...]:
    """The axes that are not across thick slices (a structure a slice or two thick still has
    a core within its slices)."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    return tuple(a for a in range(3) if spacing[a] < 1.5 * spacing.min())
