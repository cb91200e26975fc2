"""Raw voxel-space surface -> smoothed, decimated triangles in RAS+ millimetres."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris3d.mesh.decimate import decimate
from iris3d.mesh.detail import MeshDetail
from iris3d.mesh.intensity import IntensityGuide
from iris3d.mesh.measure import mean_edge_length, volume_and_area
from iris3d.mesh.selfcross import crossing_pairs, undo_crossings
from iris3d.mesh.smooth import restore_volume, structure_passband, windowed_sinc

_CHECKED_OFFSET = 0.05  # of a cell: a volume offset at least this large is checked for crossings
# A decimation this coarse (the fast level's) can fold a thin part through itself; its meshes
# are small, so checking them costs little (the finer levels' rarely fold, and are large).
_CHECKED_DECIMATION_MM = 0.5


def triangulate(
    vertices: npt.NDArray[np.floating] | None, faces: npt.NDArray[np.integer]
) -> npt.NDArray[np.int32]:
    """Triangles from quads, or triangles unchanged.

    Each quad is split along its shorter diagonal (the better pair of triangles once smoothing
    has bent it); with ``vertices`` None, along 0-2 (planar quads: either is exact).
    """
    f = np.asarray(faces, dtype=np.int32)
    if f.shape[1] == 3:
        return f
    if vertices is not None:
        v = np.asarray(vertices)
        d02 = v[f[:, 2]] - v[f[:, 0]]
        d13 = v[f[:, 3]] - v[f[:, 1]]
        longer02 = np.einsum("ij,ij->i", d02, d02) > np.einsum("ij,ij->i", d13, d13)
        # Rotating a quad's corners by one makes 1-3 its 0-2 diagonal.
        f = f.copy()
        f[longer02] = np.roll(f[longer02], -1, axis=1)
    return np.ascontiguousarray(f[:, [0, 1, 2, 0, 2, 3]].reshape(-1, 3))


def to_patient(
    vertices_ijk: npt.NDArray[np.floating], affine: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(N, 3) voxel indices to patient millimetres: nine fused multiply-adds, not a GEMM."""
    v = np.asarray(vertices_ijk)
    out = np.empty((len(v), 3), dtype=np.float64)
    for row in range(3):
        out[:, row] = affine[row, 3]
        for col in range(3):
            if affine[row, col] != 0.0:
                out[:, row] += affine[row, col] * v[:, col]
    return out


def finish_surface(
    vertices_ijk: npt.NDArray[np.floating],
    faces: npt.NDArray[np.integer],
    affine: npt.NDArray[np.float64],
    detail: MeshDetail,
    target_volume_mm3: float | None = None,
    raw_measures: tuple[float, float] | None = None,
    cell_mm: float | None = None,
    guide: IntensityGuide | None = None,
    edge_mm: float | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Map voxel indices through ``affine``, smooth, triangulate, decimate, restore volume.

    The volume restored is the raw surface's (for Surface Nets, exactly the voxel volume) or
    ``target_volume_mm3`` when given (marching cubes cuts the voxels' corners).
    ``raw_measures``: the raw surface's (volume mm^3, area mm^2) when the caller knows them
    already (Surface Nets: from the quads), to save measuring millions of triangles.
    ``cell_mm``: the edge of the cells the surface was extracted on (default: the affine's
    voxel; larger where runs of repeated slices were merged).
    ``guide``: places the smoothed, decimated surface on the CT's own boundary (see
    :mod:`iris3d.mesh.intensity`) and restores the CT's partial-volume estimate of the volume
    instead of the voxels'.
    ``edge_mm``: the spacing the pass band is set for (default: the raw surface's mean edge,
    which for Surface Nets is the cell's).

    ``faces`` (quads or triangles, counter-clockwise from outside in voxel index space) come
    out as triangles counter-clockwise from outside in patient space: a left-handed affine
    (negative determinant) mirrors space, so the winding is reversed for it.
    """
    vertices = to_patient(vertices_ijk, affine)
    f = np.asarray(faces, dtype=np.int32)
    if np.linalg.det(affine[:3, :3]) < 0:
        f = np.ascontiguousarray(f[:, ::-1])
    triangles = triangulate(None, f)
    raw_volume, area = raw_measures or volume_and_area(vertices, triangles)
    target = raw_volume if target_volume_mm3 is None else target_volume_mm3
    if detail.smoothing_iterations > 0:
        passband = structure_passband(
            raw_volume, area, edge_mm or mean_edge_length(vertices, f), detail.passband
        )
        vertices = windowed_sinc(vertices, f, detail.smoothing_iterations, passband)
        triangles = triangulate(vertices, f)
    if detail.max_error_mm > 0 and len(triangles) >= detail.min_decimate_triangles:
        vertices, triangles = _decimated(vertices, triangles, detail.max_error_mm)
    # Smoothing and decimation both shave convex parts a little: give the volume back, by at
    # most half a voxel so that a structure the filter nearly removed is not blown up.
    if cell_mm is None:
        cell_mm = float(np.prod(np.linalg.norm(affine[:3, :3], axis=0))) ** (1.0 / 3.0)
    if guide is None:
        restored = restore_volume(vertices, triangles, target, 0.5 * cell_mm)
        # An offset of a twentieth of a cell or more can push one wall of a narrow fold
        # through the other (a kidney's hilum at the fast level's coarse decimation): undo
        # what crosses. Smaller ones, most, are not checked (it costs about half of smoothing).
        if np.abs(restored - vertices).max(initial=0.0) >= _CHECKED_OFFSET * cell_mm:
            restored = undo_crossings(vertices, restored, triangles)
        return restored, triangles
    volume = target if guide.volume_mm3 is None else guide.volume_mm3
    # Moving vertices one by one can push a thin part through itself, and so can the offset
    # that gives the volume back: undo what crosses after each, keep it printable.
    placed = undo_crossings(vertices, guide.refine(vertices, triangles), triangles)
    restored = restore_volume(placed, triangles, volume, 0.5 * cell_mm)
    return undo_crossings(placed, restored, triangles), triangles


def _decimated(vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int32],
               max_error_mm: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Decimated within ``max_error_mm``; where a coarse bound makes the surface cross
    itself, within a quarter of it if that does not. (Not undecimated: a surface that
    crosses itself that way is one the caller may refuse anyway, for a cheaper one.)"""
    v, t = decimate(vertices, triangles, max_error_mm)
    if max_error_mm < _CHECKED_DECIMATION_MM or len(crossing_pairs(v, t)) == 0:
        return v, t
    finer_v, finer_t = decimate(vertices, triangles, 0.25 * max_error_mm)
    if len(crossing_pairs(finer_v, finer_t)) == 0:
        return finer_v, finer_t
    return v, t
