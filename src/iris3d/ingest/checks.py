"""Geometry and value checks every reader applies, so that no file's claims reach the pipeline
unchecked: a grid must be finite, non-degenerate and of plausible size, and voxel values finite."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris3d.ingest.errors import InvalidGeometryError, TooLargeError

# CT voxels range from tens of micrometres (micro-CT) to about ten millimetres; outside these
# bounds a spacing is a damaged or hand-made header, and meshes built on it would be nonsense.
MIN_SPACING_MM = 1e-3
MAX_SPACING_MM = 100.0
MAX_ORIGIN_MM = 1e6  # a kilometre from the scanner's centre is no patient
# |det| / (product of spacings) is the volume of the unit voxel's parallelepiped: 1 for an
# orthogonal grid, 0 for a flat one. Sheared grids from tilted scans stay well above this.
MIN_ORTHOGONALITY = 0.2
AIR_HU = -1024
_SLAB_VOXELS = 1 << 22  # non-finite values are searched a few MiB at a time


# A CT compresses a few-fold; a study that expands far more than this to a large size is a
# decompression bomb (label maps, which are mostly zeros, are exempt).
MAX_CT_EXPANSION = 100
_EXPANSION_FLOOR = 256 * 2**20


def check_expansion(declared_bytes: int, compressed_bytes: int, where: str) -> None:
    """Refuse a compressed CT whose declared size is implausibly large for its file."""
    if declared_bytes > _EXPANSION_FLOOR and declared_bytes > MAX_CT_EXPANSION * compressed_bytes:
        raise TooLargeError(
            f"{where}: {compressed_bytes:,} compressed bytes declare {declared_bytes:,} bytes of "
            f"image, more than {MAX_CT_EXPANSION} times their size: refused as a decompression bomb"
        )


def affine_problem(affine: npt.NDArray[np.float64]) -> str | None:
    """What is wrong with a voxel-to-millimetre affine, in plain words; None when it is usable."""
    matrix = np.asarray(affine, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        return "its orientation or spacing is not a finite number"
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)
    if float(spacing.min()) < MIN_SPACING_MM:
        return f"a voxel spacing is zero or nearly so ({_listed(spacing)} mm)"
    if float(spacing.max()) > MAX_SPACING_MM:
        return f"a voxel spacing is implausibly large ({_listed(spacing)} mm)"
    if float(np.abs(matrix[:3, 3]).max()) > MAX_ORIGIN_MM:
        return "its origin lies implausibly far away (over a kilometre)"
    orthogonality = abs(float(np.linalg.det(matrix[:3, :3]))) / float(np.prod(spacing))
    if orthogonality < MIN_ORTHOGONALITY:
        return "its voxel axes are parallel or nearly so (a singular orientation)"
    return None


def check_affine(affine: npt.NDArray[np.float64], where: str) -> None:
    problem = affine_problem(affine)
    if problem is not None:
        raise InvalidGeometryError(f"{where}: the image geometry is invalid: {problem}")


def replace_non_finite(
    array: npt.NDArray[np.generic], fill: float = AIR_HU
) -> tuple[npt.NDArray[np.generic], str | None]:
    """NaN and infinite voxels (some tools write NaN outside the scanned field) become air, in
    place and a slab at a time; returns the array and a warning when any were replaced."""
    if not np.issubdtype(array.dtype, np.floating) or array.size == 0:
        return array, None
    flat = array.reshape(-1, order="A")
    if not np.shares_memory(flat, array):
        return array, None  # not contiguous: left alone rather than copied
    replaced = 0
    for start in range(0, flat.size, _SLAB_VOXELS):
        slab = flat[start : start + _SLAB_VOXELS]
        bad = ~np.isfinite(slab)
        if bad.any():
            slab[bad] = fill
            replaced += int(np.count_nonzero(bad))
    if not replaced:
        return array, None
    return array, f"{replaced:,} voxel(s) held no number (NaN or infinite): set to air ({fill} HU)"


def _listed(values: npt.NDArray[np.float64]) -> str:
    return " x ".join(f"{v:.3g}" for v in values)
