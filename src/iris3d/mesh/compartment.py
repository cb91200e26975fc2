"""Surfaces of tissue compartments: labels whose boundary is a per-voxel HU class, not an edge.

A label drawn voxel by voxel from HU thresholds (fat, muscle, what remains of the body, bone
above a threshold) carries the CT's noise in its boundary: isolated voxels, one-voxel tunnels,
pieces touching along an edge. Surface Nets meshes all of it, the result is not manifold,
marching cubes on the mask is manifold but has millions of triangles at high genus, and
decimating that pinches it. These structures are meshed instead from the fraction of each cell
(``cell_mm`` per axis, a block of voxels) that the label covers, smoothed with a Gaussian of
``SIGMA_CELLS`` cells, at the level 0.5: marching cubes on a smooth scalar field gives a closed,
manifold surface by construction, and one of low genus, so it decimates like an organ's. The
enclosed volume is then restored to the voxels' (by at most half a cell), as for every surface.

A structure so scattered that few cells reach 0.5 (fat speckled through a region) is contoured
lower, down to ``MIN_LEVEL``, where its density is highest; where that still encloses less
than half its voxels, it is tried again on the CT's own voxels, then left to
:func:`iris3d.mesh.build_meshes`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.contracts.progress import Progress, no_progress
from iris3d.mesh import _vtk
from iris3d.mesh.build import run_largest_first, structure_of
from iris3d.mesh.decimate import decimate
from iris3d.mesh.detail import MeshDetail
from iris3d.mesh.finish import to_patient
from iris3d.mesh.measure import volume_and_area
from iris3d.mesh.model import StructureMesh
from iris3d.mesh.selfcross import crossing_pairs, undo_crossings
from iris3d.mesh.smooth import restore_volume
from iris3d.mesh.topology import compact, is_closed_manifold
from iris3d.volume import LabelMap

SIGMA_CELLS = 0.8  # removes one-cell noise; keeps anything a few cells thick
MIN_ENCLOSED = 0.5  # of the voxels' volume, before the volume is restored
MIN_LEVEL = 0.25  # a scattered structure's surface: where at least a quarter is the label
_NUDGE = 2.0**-20  # levels just off the values a field takes: no zero-length edges
LEVEL = 0.5 - _NUDGE
_DECIMATE_TRIES = 4
# Undecimated surfaces beyond this take longer to finish (the volume offset's crossing checks)
# than Surface Nets takes for the same label.
MAX_UNDECIMATED = 300_000
_PAD = 3  # background cells around the field: the Gaussian's reach, so surfaces close

Field = npt.NDArray[np.float32]


def compartment_meshes(
    labels: LabelMap,
    cells_mm: Mapping[int, float],
    detail: MeshDetail,
    *,
    workers: int | None = None,
    progress: Progress = no_progress,
) -> dict[int, StructureMesh]:
    """A closed, manifold surface for each label of ``cells_mm`` present in ``labels``, meshed
    on cells of about that many millimetres (0: the voxels themselves); labels it cannot mesh
    (too scattered) are left out of the result. Each reads only its own bounding box (from
    the label map's census)."""
    census = labels.census
    present = [label for label in sorted(cells_mm) if label in census.boxes]
    if not present:
        return {}

    # The other structures (lungs, airway) are drawn solid: a compartment's smoothed surface
    # must not reach into them, or its faint context colour veils their edges.
    others = [label for label in census.present() if label not in cells_mm]
    solid = None
    if others:  # one lookup for all compartments, within the other structures' boxes
        table = np.zeros(max(census.present()) + 1, dtype=bool)
        table[others] = True
        union = tuple(slice(min(census.boxes[o][axis].start for o in others),
                            max(census.boxes[o][axis].stop for o in others)) for axis in range(3))
        solid = np.zeros(labels.array.shape, dtype=bool)
        solid[union] = table[labels.array[union]]

    def one(label: int) -> StructureMesh | None:
        return compartment_mesh(labels, label, cells_mm[label], detail, solid)

    threads = workers or os.cpu_count() or 1
    meshes = run_largest_first(one, present, lambda label: int(census.counts[label]), threads,
                               progress)
    return {label: mesh for label, mesh in zip(present, meshes, strict=True) if mesh is not None}


def compartment_mesh(
    labels: LabelMap, label: int, cell_mm: float, detail: MeshDetail,
    solid: npt.NDArray[np.bool_] | None = None,
) -> StructureMesh | None:
    """One label's surface on ``cell_mm`` cells, else on cells half as large, else on its
    voxels, else None (too scattered to mesh without Surface Nets); ``solid``: the voxels (of
    the whole label map) that the surface keeps out of."""
    spacing = np.linalg.norm(labels.affine[:3, :3], axis=0)
    voxel_count = int(labels.census.counts[label])
    target = voxel_count * float(abs(np.linalg.det(labels.affine[:3, :3])))
    factors = tuple(max(1, round(cell_mm / s)) for s in spacing)
    inside = labels.array[labels.census.boxes[label]] == label
    keep_out = None if solid is None else solid[labels.census.boxes[label]]
    if keep_out is not None and not keep_out.any():
        keep_out = None
    origin = np.asarray([s.start for s in labels.census.boxes[label]], dtype=np.float64)
    halved = tuple(max(1, round(f / 2)) for f in factors)
    for attempt in dict.fromkeys((factors, halved, (1, 1, 1))):
        points, triangles = field_surface(inside, attempt, voxel_count, keep_out)
        if len(triangles) == 0:
            continue
        vertices = to_patient(points + origin, labels.affine)
        if np.linalg.det(labels.affine[:3, :3]) < 0:
            triangles = np.ascontiguousarray(triangles[:, ::-1])
        if volume_and_area(vertices, triangles)[0] < MIN_ENCLOSED * target:
            continue
        cell = float(np.cbrt(np.prod(spacing * np.asarray(attempt))))
        finished = _finish(vertices, triangles, detail, target, cell,
                           None if keep_out is None else _inside(keep_out, origin, labels.affine))
        if finished is None:
            continue
        vertices, triangles = finished
        return StructureMesh(
            structure=structure_of(labels, label),
            vertices=vertices.astype(np.float32),
            faces=triangles,
            closed=is_closed_manifold(triangles, len(vertices)),
            method="smoothed_field",
        )
    return None


def field_surface(
    inside: npt.NDArray[np.bool_], factors: tuple[int, ...], voxel_count: int,
    keep_out: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Marching-cubes triangles of the smoothed cell fractions of ``inside`` in its [i, j, k]
    voxel indices, counter-clockwise from outside in index space.

    ``keep_out``: voxels the surface stays out of. The level is 0.5, or, where fewer cells
    reach it than ``voxel_count`` voxels fill (smoothing shaves convex parts, and wipes out
    scattered voxels), the level that that many cells reach, but not below ``MIN_LEVEL``.
    """
    field = ndimage.gaussian_filter(np.pad(cell_fractions(inside, factors), _PAD),
                                    SIGMA_CELLS, mode="constant")
    if keep_out is not None:  # cells of other structures: outside, whatever the smoothing says
        field *= 1.0 - np.pad(cell_fractions(keep_out, factors), _PAD)
    level = LEVEL
    cells = max(1, round(voxel_count / int(np.prod(factors))))
    if np.count_nonzero(field >= level) < cells < field.size:
        flat = field.ravel()
        level = max(MIN_LEVEL, float(np.partition(flat, flat.size - cells)[flat.size - cells])
                    - _NUDGE)
    points, triangles = _vtk.iso_surface(field, float(level))
    if len(triangles) == 0:
        return points, triangles.astype(np.int32)
    f = np.asarray(factors, dtype=np.float64)
    # Cell c covers voxels c*f .. c*f + f - 1: its centre is at c*f + (f - 1) / 2.
    used, faces = compact((points - _PAD) * f + (f - 1) / 2, triangles)
    ijk = np.asarray(used, dtype=np.float64)
    a, b, c = ijk[faces[:, 0]], ijk[faces[:, 1]], ijk[faces[:, 2]]
    if np.einsum("ij,ij->", a, np.cross(b, c)) < 0:
        faces = np.ascontiguousarray(faces[:, ::-1])
    return ijk, faces


def cell_fractions(inside: npt.NDArray[np.bool_], factors: tuple[int, ...]) -> Field:
    """The share of each block of ``factors`` voxels of ``inside`` that is True (blocks from
    ``inside[0, 0, 0]``; the last ones padded with False)."""
    pad = [(0, -n % f) for n, f in zip(inside.shape, factors, strict=True)]
    box = np.pad(inside, pad) if any(p for _, p in pad) else inside
    (fx, fy, fz) = factors
    if (fx, fy, fz) == (1, 1, 1):
        return box.astype(np.float32)
    shape = tuple(n // f for n, f in zip(box.shape, factors, strict=True))
    blocks = box.reshape(shape[0], fx, shape[1], fy, shape[2], fz)
    counts = np.zeros(shape, dtype=np.uint16)
    for a in range(fx):  # strided sums: far faster than a 6-D reduction
        for b in range(fy):
            for c in range(fz):
                np.add(counts, blocks[:, a, :, b, :, c], out=counts, casting="unsafe")
    fractions: Field = counts.astype(np.float32) / np.float32(fx * fy * fz)
    return fractions


def _finish(
    vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int32], detail: MeshDetail,
    target_mm3: float, cell_mm: float,
    blocked: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.bool_]] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]] | None:
    """Decimate, give the voxels' volume back by at most half a cell, and undo any
    self-crossing that offset makes. Where decimation pinches the surface or makes it cross
    itself, the error bound is halved, up to ``_DECIMATE_TRIES`` times; where it still does,
    the surface is kept undecimated, or, above ``MAX_UNDECIMATED`` triangles (a speckled
    structure's blobs), None."""
    v, f = vertices, triangles
    error = detail.max_error_mm if len(triangles) >= detail.min_decimate_triangles else 0.0
    for _ in range(_DECIMATE_TRIES if error > 0 else 0):
        v, f = decimate(vertices, triangles, error)
        if (is_closed_manifold(f, len(v)) and not _mostly_collapsed(v, f, cell_mm)
                and len(crossing_pairs(v, f)) == 0):
            break
        error /= 2
    else:
        if error > 0 and len(triangles) > MAX_UNDECIMATED:
            return None
        v, f = vertices, triangles
    restored = restore_volume(v, f, target_mm3, 0.5 * cell_mm)
    if blocked is not None:  # the volume's offset stops short of the solid structures
        into = blocked(restored)
        restored[into] = v[into]
    return undo_crossings(v, restored, f), f


def _inside(
    mask: npt.NDArray[np.bool_], origin: npt.NDArray[np.float64], affine: npt.NDArray[np.float64]
) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.bool_]]:
    """Whether patient-space points lie in a voxel of ``mask`` (a box starting at ``origin``)."""
    to_voxels = np.linalg.inv(affine)

    def inside(points: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        ijk = np.rint(points @ to_voxels[:3, :3].T + to_voxels[:3, 3] - origin).astype(np.int64)
        within = np.all((ijk >= 0) & (ijk < mask.shape), axis=1)
        result = np.zeros(len(points), dtype=bool)
        result[within] = mask[tuple(ijk[within].T)]
        return result

    return inside


def _mostly_collapsed(
    vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int32], cell_mm: float
) -> bool:
    """True when most triangles have shrunk to a point (the simplifier can leave a noisy
    surface so): not a usable surface, and the crossing check's grid, sized by the median
    triangle, would need more cells than there is memory."""
    corners = vertices[triangles]
    extent = (corners.max(axis=1) - corners.min(axis=1)).max(axis=1)
    return bool(np.median(extent) < 1e-3 * cell_mm)
