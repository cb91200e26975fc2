"""The coarse grid the tissue engine reasons on, and the way back to the CT's own voxels.

Whole-body morphology at full resolution would take minutes for a 512x512x400 study; at about
2 mm it takes a second. Boundaries that matter (lungs, bone, skin) are redrawn at full
resolution afterwards, from the CT's own voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TARGET_MM = 2.0
MAX_COARSE_VOXELS = 1_500_000  # keeps the morphology at ~1 s whatever the study's size
_COPY_SLAB = 8  # slices per step of a transposing copy: source and target stay in cache


def c_order(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """``array`` in C order: itself if it is, else a copy made in slabs of the slowest axis
    (one transposing copy of a Fortran-ordered 512x512x400 volume takes ~4x as long)."""
    if array.flags.c_contiguous or array.ndim != 3:
        return np.ascontiguousarray(array)
    axis = int(np.argmax(np.abs(array.strides)))
    result = np.empty(array.shape, dtype=array.dtype)
    for start in range(0, array.shape[axis], _COPY_SLAB):
        index = [slice(None)] * 3
        index[axis] = slice(start, start + _COPY_SLAB)
        result[tuple(index)] = array[tuple(index)]
    return result


@dataclass(frozen=True)
class WorkGrid:
    """Blocks of ``factors`` CT voxels; block (a, b, c) covers voxels [a*f0 .. a*f0+f0-1, ...]."""

    factors: tuple[int, int, int]
    full_shape: tuple[int, int, int]
    full_spacing: tuple[float, float, float]

    @classmethod
    def for_volume(
        cls,
        shape: tuple[int, int, int],
        spacing: tuple[float, float, float],
        target_mm: float = TARGET_MM,
    ) -> WorkGrid:
        extent_mm3 = float(np.prod([n * s for n, s in zip(shape, spacing, strict=True)]))
        target_mm = max(target_mm, (extent_mm3 / MAX_COARSE_VOXELS) ** (1 / 3))
        fx, fy, fz = (max(1, round(target_mm / s)) for s in spacing)
        return cls((fx, fy, fz), shape, spacing)

    @property
    def shape(self) -> tuple[int, int, int]:
        x, y, z = (-(-n // f) for n, f in zip(self.full_shape, self.factors, strict=True))
        return (x, y, z)

    @property
    def spacing(self) -> tuple[float, float, float]:
        x, y, z = (s * f for s, f in zip(self.full_spacing, self.factors, strict=True))
        return (x, y, z)

    @property
    def is_identity(self) -> bool:
        return self.factors == (1, 1, 1)

    def _blocks(self, array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        pad = [(0, -n % f) for n, f in zip(array.shape, self.factors, strict=True)]
        if any(p for _, p in pad):
            array = np.pad(array, pad, mode="edge")
        (nx, ny, nz), (fx, fy, fz) = self.shape, self.factors
        return array.reshape(nx, fx, ny, fy, nz, fz)

    def mean(self, hu: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """Block means: partial volumes average out, noise drops by sqrt(block size)."""
        if self.is_identity:
            return hu.astype(np.float32)
        blocks = self._blocks(hu)
        total = np.zeros(self.shape, dtype=np.float32)
        for a in range(self.factors[0]):  # strided sums: far faster than a 6-D reduction
            for b in range(self.factors[1]):
                for c in range(self.factors[2]):
                    np.add(total, blocks[:, a, :, b, :, c], out=total, casting="unsafe")
        total /= float(np.prod(self.factors))
        return total

    def max(self, hu: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """Block maxima: keeps thin dense structures (ribs, cortex) that a mean would dilute."""
        if self.is_identity:
            return hu.astype(np.float32)
        blocks = self._blocks(hu)
        result = blocks[:, 0, :, 0, :, 0].copy()
        for a in range(self.factors[0]):
            for b in range(self.factors[1]):
                for c in range(self.factors[2]):
                    np.maximum(result, blocks[:, a, :, b, :, c], out=result)
        return result.astype(np.float32)

    def up(self, coarse: npt.NDArray[np.generic], box: tuple[slice, ...] | None = None
           ) -> npt.NDArray[np.generic]:
        """Nearest-neighbour upsampling of ``coarse`` to the CT's voxels (within ``box``)."""
        if self.is_identity:
            return coarse if box is None else coarse[box]
        box = box or tuple(slice(0, n) for n in self.full_shape)
        (fx, fy, fz), (bx, by, bz) = self.factors, box
        part = coarse[bx.start // fx: -(-bx.stop // fx), by.start // fy: -(-by.stop // fy),
                      bz.start // fz: -(-bz.stop // fz)]
        full = np.repeat(np.repeat(np.repeat(part, fx, 0), fy, 1), fz, 2)
        return full[bx.start % fx: bx.start % fx + bx.stop - bx.start,
                    by.start % fy: by.start % fy + by.stop - by.start,
                    bz.start % fz: bz.start % fz + bz.stop - bz.start]

    def full_box(self, coarse_box: tuple[slice, ...]) -> tuple[slice, slice, slice]:
        """The CT voxels covered by a box of blocks."""
        x, y, z = (
            slice(b.start * f, min(b.stop * f, n))
            for b, f, n in zip(coarse_box, self.factors, self.full_shape, strict=True)
        )
        return (x, y, z)
