"""The grid surfaces are extracted on: the labels' bounding box, at the labels' own resolution.

A label map resampled to a finer grid with nearest neighbour (TotalSegmentator writes its
1.5 mm result back onto the scan's grid this way) repeats every slice of its own grid a few
times. Meshing the repeats only cuts the same surface into more, thinner faces: a 0.7 mm copy of
a 1.5 mm segmentation has four times the triangles to smooth and decimate, and the
staircase still has 1.5 mm steps. So along each axis where slices come in runs of identical
copies, every run becomes one cell of its true thickness before meshing, and the points are
mapped back to the volume's voxel indices afterwards. The boundary of the merged cells is the
same set of voxel faces, so the raw surface, its volume and its centroid are unchanged; only the
faces are as large as the labels' own voxels, which is the scale smoothing is meant to work at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_PROBES = 24  # neighbouring slice pairs looked at before an axis is compared in full
_MIN_RUNS = 4  # interior runs needed to tell a resampled grid from chance repeats
_CHUNK_VOXELS = 1 << 22  # working set of one comparison step (~4 MB of uint8)
_COPY_SLAB = 8  # slices per step of a transposing copy

Knots = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LabelCrop:
    """The labels' union bounding box with one voxel of background around it.

    ``offset`` is the [i, j, k] index in the full volume of ``array[0, 0, 0]`` (it may be -1:
    the border voxel lies outside the volume, which closes surfaces that touch its edge).
    ``knots[axis]``, where not None, says that cell ``c`` of ``array`` along that axis spans
    full-volume indices ``knots[c] .. knots[c + 1]`` (voxel boundaries, so at half-integers):
    runs of identical slices were merged into one cell (see the module's docstring).
    """

    array: npt.NDArray[np.unsignedinteger]
    offset: npt.NDArray[np.int64]
    knots: tuple[Knots | None, Knots | None, Knots | None] = (None, None, None)

    def cell_mm(self, affine: npt.NDArray[np.float64]) -> float:
        """Mean edge of the cells in millimetres (geometric mean over the axes; the background
        border's cells, one voxel thick, left out)."""
        voxel = np.linalg.norm(affine[:3, :3], axis=0)
        return float(np.cbrt(np.prod(voxel * self.voxels_per_cell())))

    def voxels_per_cell(self) -> npt.NDArray[np.float64]:
        """Mean voxels of the full volume per cell along each axis (1 where none merged)."""
        return np.asarray([1.0 if k is None else float(k[-2] - k[1]) / (len(k) - 3)
                           for k in self.knots])

    def to_volume(self, points: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        """[i, j, k] indices of the full volume for (N, 3) points in ``array``'s indices."""
        p = np.asarray(points)
        out = np.empty((len(p), 3), dtype=np.float32)
        for axis, knots in enumerate(self.knots):
            if knots is None:
                np.add(p[:, axis], float(self.offset[axis]), out=out[:, axis])
            else:
                # Cell boundaries c - 0.5 map to the knots; inside a cell, linearly.
                cells = np.arange(len(knots), dtype=np.float64) - 0.5
                out[:, axis] = np.interp(p[:, axis], cells, knots)
        return out


def coarser_than_voxels(voxels_per_cell: npt.NDArray[np.float64] | None) -> bool:
    """Whether labels meshed on cells of ``voxels_per_cell`` (see
    :meth:`LabelCrop.voxels_per_cell`) come from a coarser grid than the scan's: two voxels
    a cell or more along some axis (the 3 mm model's output on a finer CT)."""
    return voxels_per_cell is not None and bool(np.max(voxels_per_cell) >= 2.0)


def crop_to_labels(array: npt.NDArray[np.integer]) -> LabelCrop | None:
    """Crop to where labels are, padded by one background voxel; None when all is background.

    Three max-projections find the box at a fraction of the cost of a per-label search.
    """
    top = int(array.max(initial=0))
    if top <= 0:
        return None
    dtype = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32
    plane = array.max(axis=2)
    i = np.flatnonzero(plane.max(axis=1) > 0)
    j = np.flatnonzero(plane.max(axis=0) > 0)
    k = np.flatnonzero(array.max(axis=(0, 1)) > 0)
    low = np.array([i[0], j[0], k[0]], dtype=np.int64)
    high = np.array([i[-1], j[-1], k[-1]], dtype=np.int64) + 1
    padded = np.zeros(tuple(int(n) for n in high - low + 2), dtype=dtype)
    inner = array[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    # Negative labels are not structures: treat them as background.
    _copy_into(padded[1:-1, 1:-1, 1:-1], np.where(inner > 0, inner, 0) if array.min() < 0
               else inner)
    return LabelCrop(array=padded, offset=low - 1)


def _copy_into(target: npt.NDArray[np.generic], source: npt.NDArray[np.generic]) -> None:
    """``target[...] = source``, in slabs along the axis ``source`` varies slowest along in
    memory: a label map read from NIfTI is in Fortran order, and one transposing copy of a whole
    volume into C order is ~6x slower than slabs of a few slices (which stay in cache)."""
    axis = int(np.argmax(np.abs(source.strides)))
    if axis == 0 or source.ndim != 3:
        target[...] = source
        return
    for start in range(0, source.shape[axis], _COPY_SLAB):
        index = [slice(None)] * 3
        index[axis] = slice(start, start + _COPY_SLAB)
        target[tuple(index)] = source[tuple(index)]


def meshing_grid(array: npt.NDArray[np.integer]) -> LabelCrop | None:
    """The grid surfaces are extracted on: :func:`crop_to_labels`, then :func:`native_grid`."""
    crop = crop_to_labels(array)
    return None if crop is None else native_grid(crop)


def native_grid(crop: LabelCrop) -> LabelCrop:
    """``crop`` with runs of identical slices merged, axis by axis (``crop`` itself if none)."""
    array = crop.array
    knots: list[Knots | None] = [None, None, None]
    for axis in range(3):
        starts = _cell_starts(array, axis)
        if starts is None:
            continue
        knots[axis] = np.append(starts, array.shape[axis]) + (crop.offset[axis] - 0.5)
        # Later axes are compared on the merged array: fewer voxels, same answer.
        array = np.take(array, starts, axis=axis)
    if all(k is None for k in knots):
        return crop
    return LabelCrop(np.ascontiguousarray(array), crop.offset, (knots[0], knots[1], knots[2]))


def _cell_starts(array: npt.NDArray[np.unsignedinteger], axis: int) -> npt.NDArray[np.int64] | None:
    """First slice of each merged cell along ``axis``, or None when the grid is the labels'
    own along it (most neighbouring slices differ, or too few runs to tell)."""
    n = array.shape[axis]
    # Spread like the golden ratio's multiples, not evenly: even steps can all land on the
    # same phase of a resampling factor (every probe between two runs, or none).
    golden = (np.arange(_PROBES) * 0.6180339887498949) % 1.0
    # A small box (one small structure) has every pair compared.
    probes = (np.unique(1 + (golden * (n - 1)).astype(np.int64)) if n > 2 * _PROBES
              else np.arange(1, n))
    if n < 2 or sum(
        not np.array_equal(np.take(array, p, axis=axis), np.take(array, p - 1, axis=axis))
        for p in probes
    ) > 2 * len(probes) // 3:
        return None
    starts = np.flatnonzero(_changes(array, axis))
    runs = np.diff(np.append(starts, n))
    # The background border and the outermost runs (maybe cut by the volume's edge) say
    # nothing about the resampling factor.
    interior = runs[2:-2]
    if len(interior) < _MIN_RUNS:
        return None
    typical = float(np.median(interior))
    if typical < 2.0:
        return None
    # A run may hold several of the coarse grid's slices (equal by chance): cut it into cells
    # of about the typical size, so that no cell is much longer than the others.
    pieces = np.maximum(np.rint(runs / typical).astype(np.int64), 1)
    run_of_cell = np.repeat(np.arange(len(runs)), pieces)
    first_cell = np.cumsum(pieces) - pieces
    part = np.arange(len(run_of_cell)) - first_cell[run_of_cell]
    cell_starts: npt.NDArray[np.int64] = (
        starts[run_of_cell] + (part * runs[run_of_cell]) // pieces[run_of_cell]
    )
    return cell_starts


def _changes(array: npt.NDArray[np.unsignedinteger], axis: int) -> npt.NDArray[np.bool_]:
    """``changed[p]``: slice ``p`` differs from slice ``p - 1`` along ``axis`` (``changed[0]``
    is True). Compared in slabs along axis 0 so that no volume-sized temporary is made."""
    n = array.shape[axis]
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    plane = max(int(np.prod(array.shape)) // array.shape[0], 1)
    step = max(_CHUNK_VOXELS // plane, 2)
    for start in range(0, array.shape[0], step - 1 if axis == 0 else step):
        slab = array[start:start + step]
        if axis == 0:
            if len(slab) < 2:
                break
            diff = (slab[1:] != slab[:-1]).reshape(len(slab) - 1, -1).any(axis=1)
            changed[start + 1:start + len(slab)] |= diff
        elif axis == 1:
            changed[1:] |= (slab[:, 1:] != slab[:, :-1]).any(axis=(0, 2))
        else:
            changed[1:] |= (slab[:, :, 1:] != slab[:, :, :-1]).any(axis=(0, 1))
    return changed
