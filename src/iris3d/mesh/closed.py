"""Printable surfaces: watertight and manifold, for the structures Surface Nets did not close.

Surface Nets joins two parts of a structure that touch only along a voxel edge or corner with a
shared (non-manifold) edge or vertex. Marching cubes on the structure's own mask separates
them, so its surface is closed and manifold; it is then smoothed and decimated like the rest.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from iris3d.contracts.progress import Progress, no_progress
from iris3d.mesh import _vtk
from iris3d.mesh.build import run_largest_first
from iris3d.mesh.detail import NORMAL, MeshDetail
from iris3d.mesh.finish import finish_surface
from iris3d.mesh.grid import LabelCrop, meshing_grid
from iris3d.mesh.intensity import intensity_guide
from iris3d.mesh.model import StructureMesh
from iris3d.mesh.topology import compact, is_closed_manifold
from iris3d.volume import CTVolume, LabelMap


def printable_meshes(
    labels: LabelMap,
    meshes: list[StructureMesh],
    detail: MeshDetail = NORMAL,
    *,
    workers: int | None = None,
    progress: Progress = no_progress,
    grid: LabelCrop | None = None,
    ct: CTVolume | None = None,
) -> list[StructureMesh]:
    """``meshes`` with every non-manifold one rebuilt by marching cubes (``method`` says which).
    ``grid``: the one given to :func:`iris3d.mesh.build_meshes`, if any.

    ``ct``: as for :func:`iris3d.mesh.build_meshes` (give both the same).

    A mesh that is still not closed afterwards keeps ``closed=False``: report it, do not hide it.
    """
    todo = [m for m in meshes if not m.closed]
    if not todo:
        return list(meshes)
    crop = grid or meshing_grid(labels.array)  # the grid build_meshes meshed on
    if crop is None:
        return list(meshes)
    cell_mm = crop.cell_mm(labels.affine)
    threads = workers or os.cpu_count() or 1
    scan = ct if ct is not None and labels.matches(ct) else None

    def rebuild(mesh: StructureMesh) -> StructureMesh:
        points, triangles = marching_cubes_surface(crop, mesh.structure.label)
        if len(triangles) == 0:
            return mesh
        vertices_ijk, raw = compact(points, triangles)
        guide = None if scan is None else intensity_guide(
            scan.array, labels.array, labels.affine, mesh.structure.label, vertices_ijk,
            crop.voxels_per_cell())
        vertices, faces = finish_surface(vertices_ijk, raw, labels.affine, detail,
                                         target_volume_mm3=mesh.volume_mm3, cell_mm=cell_mm,
                                         guide=guide)
        if not is_closed_manifold(faces, len(vertices)):
            # Decimation very rarely pinches a thin part; smoothing alone never changes
            # topology, so the undecimated surface is closed.
            vertices, faces = finish_surface(vertices_ijk, raw, labels.affine,
                                             replace(detail, max_error_mm=0.0),
                                             target_volume_mm3=mesh.volume_mm3,
                                             cell_mm=cell_mm, guide=guide)
        if not is_closed_manifold(faces, len(vertices)):
            return mesh
        return replace(mesh, vertices=vertices.astype(np.float32), faces=faces, closed=True,
                       method="flying_edges")

    rebuilt = run_largest_first(rebuild, todo, lambda m: m.triangle_count, threads, progress)
    by_label = {m.structure.label: m for m in rebuilt}
    return [by_label.get(m.structure.label, m) for m in meshes]


def marching_cubes_surface(
    crop: LabelCrop, label: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Triangles of one label's boundary in full-volume [i, j, k] coordinates, facing out."""
    inside = crop.array == label
    where = [np.flatnonzero(inside.any(axis=others)) for others in ((1, 2), (0, 2), (0, 1))]
    if any(len(w) == 0 for w in where):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    # The crop has a background border, so the label's box grown by one voxel stays inside it.
    low = [max(int(w[0]) - 1, 0) for w in where]
    high = [min(int(w[-1]) + 2, n) for w, n in zip(where, crop.array.shape, strict=True)]
    mask = np.ascontiguousarray(
        inside[low[0]:high[0], low[1]:high[1], low[2]:high[2]], dtype=np.uint8
    )
    points, triangles = _vtk.flying_edges(mask)
    if len(triangles) == 0:
        return points, triangles
    points = crop.to_volume(points + np.asarray(low)).astype(np.float64)
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    if np.einsum("ij,ij->", a, np.cross(b, c)) < 0:
        triangles = np.ascontiguousarray(triangles[:, ::-1])
    return points, triangles
