"""One pass over a label volume: every id's voxel count and bounding box.

Everything a study's later stages need to know about where structures are (which are present,
how big, which box to crop to) comes from this census, taken once per label map: a loop over
structures must never scan the whole volume again (a 512x512x400 map is 100 M voxels; 60 scans
of it were most of a study's processing time). The volume is read slab by slab along its
slowest axis, so the counting and the box search of a slab hit the cache, and no volume-sized
temporary is made (``np.bincount`` of the whole map would first copy it to int64: 8 bytes a
voxel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

Box = tuple[slice, slice, slice]

_SLAB_VOXELS = 1 << 22  # ~4 M voxels a step: the slab stays in cache between the two reads


@dataclass(frozen=True, eq=False)
class LabelCensus:
    """``counts[id]``: voxels labelled ``id`` (ids < 1 are background and not counted);
    ``boxes[id]``: the smallest box holding them, as slices of the volume (None when absent)."""

    counts: npt.NDArray[np.int64]
    boxes: dict[int, Box]

    def present(self) -> list[int]:
        """Ids with at least one voxel, ascending."""
        return [int(i) for i in np.flatnonzero(self.counts) if i > 0]


def take_census(array: npt.NDArray[np.integer]) -> LabelCensus:
    """Counts and boxes of every positive id in ``array``, in one pass (see the module)."""
    if array.ndim != 3:
        raise ValueError(f"expected a 3D label array, got shape {array.shape}")
    # Slabs along the axis that varies slowest in memory: each is one contiguous block.
    axis = 0 if array.flags.c_contiguous or not array.flags.f_contiguous else 2
    plane = max(int(np.prod(array.shape)) // max(array.shape[axis], 1), 1)
    step = max(_SLAB_VOXELS // plane, 1)
    counts = np.zeros(1, dtype=np.int64)
    low: dict[int, list[int]] = {}
    high: dict[int, list[int]] = {}
    for start in range(0, array.shape[axis], step):
        index = [slice(None)] * 3
        index[axis] = slice(start, start + step)
        offset = [0, 0, 0]
        offset[axis] = start
        # Counting and the box search only within the slab's labelled part (most of a scan is
        # background; its count is not kept).
        slab, inner = _labelled_part(array[tuple(index)], axis)
        if slab is None:
            continue
        offset = [o + s for o, s in zip(offset, inner, strict=True)]
        slab_counts = _count(slab)
        if len(slab_counts) > len(counts):
            counts = np.pad(counts, (0, len(slab_counts) - len(counts)))
        counts[:len(slab_counts)] += slab_counts
        if len(slab_counts) <= 1:
            continue
        for label, box in enumerate(ndimage.find_objects(slab, len(slab_counts) - 1), start=1):
            if box is not None:
                _grow(low, high, label, box, offset)
    boxes = {label: _box(low[label], high[label]) for label in sorted(low)}
    counts[0] = 0
    return LabelCensus(counts=counts, boxes=boxes)


def _labelled_part(slab: npt.NDArray[np.integer], axis: int
                   ) -> tuple[npt.NDArray[np.integer] | None, list[int]]:
    """The smallest box of ``slab`` holding all its non-zero voxels (None when it has none),
    and where it starts. Its columns come from the slab folded along ``axis`` (thin there:
    one cheap pass)."""
    folded = np.bitwise_or.reduce(slab.view(np.uint8) if slab.dtype.itemsize == 1 else slab
                                  != 0, axis=axis)
    others = [a for a in range(3) if a != axis]
    where = [np.flatnonzero(folded.any(axis=1 - n)) for n in range(2)]
    if len(where[0]) == 0:
        return None, [0, 0, 0]
    index: list[slice] = [slice(None)] * 3
    start = [0, 0, 0]
    for a, w in zip(others, where, strict=True):
        index[a] = slice(int(w[0]), int(w[-1]) + 1)
        start[a] = int(w[0])
    return slab[tuple(index)], start


def _count(slab: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Voxels per id in ``slab``; negative ids (not structures) count as background."""
    flat = np.ravel(slab, order="K")  # a view of a contiguous slab, in whatever order
    if np.issubdtype(flat.dtype, np.signedinteger) and flat.size and int(flat.min()) < 0:
        flat = np.where(flat > 0, flat, 0)
    counts: npt.NDArray[np.int64] = np.bincount(flat).astype(np.int64, copy=False)
    return counts


def _box(low: list[int], high: list[int]) -> Box:
    return (slice(low[0], high[0]), slice(low[1], high[1]), slice(low[2], high[2]))


def _grow(
    low: dict[int, list[int]], high: dict[int, list[int]], label: int, box: Box,
    offset: list[int],
) -> None:
    starts = [int(s.start) + o for s, o in zip(box, offset, strict=True)]
    stops = [int(s.stop) + o for s, o in zip(box, offset, strict=True)]
    if label not in low:
        low[label], high[label] = starts, stops
        return
    low[label] = [min(a, b) for a, b in zip(low[label], starts, strict=True)]
    high[label] = [max(a, b) for a, b in zip(high[label], stops, strict=True)]
