"""From a label map to one smoothed surface per structure, in RAS+ millimetres."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import Structure, group_of
from iris3d.contracts.progress import Progress, counted, no_progress
from iris3d.mesh.cubes import marching_cubes_surface
from iris3d.mesh.detail import NORMAL, MeshDetail
from iris3d.mesh.finish import finish_surface
from iris3d.mesh.grid import LabelCrop, coarser_than_voxels, crop_to_labels, native_grid
from iris3d.mesh.intensity import intensity_guide
from iris3d.mesh.interpolate import (
    INTERPOLATED_PASSBAND,
    SHARP_TERMS,
    interpolated_surface,
    thick_axis,
)
from iris3d.mesh.model import StructureMesh
from iris3d.mesh.pinch import split_pinches
from iris3d.mesh.redraw import Redrawn, redrawn
from iris3d.mesh.selfcross import crossing_pairs
from iris3d.mesh.surfacenets import LabelledSurfaces, extract_surfaces
from iris3d.mesh.topology import compact, holes, is_closed_manifold
from iris3d.volume import CTVolume, LabelMap

# Decimation can pinch the redrawn surface where it is thin (a voxel or two): then finer.
_REDRAWN_DECIMATION = (1.0, 0.25)
T = TypeVar("T")
R = TypeVar("R")


def build_meshes(
    labels: LabelMap,
    detail: MeshDetail = NORMAL,
    *,
    workers: int | None = None,
    progress: Progress = no_progress,
    grid: LabelCrop | None = None,
    ct: CTVolume | None = None,
    skip: Collection[int] = (),
) -> list[StructureMesh]:
    """One smoothed, decimated surface per structure present, in label-id order.

    All labels are extracted in a single Surface Nets pass over the labels' bounding box; each
    structure is then smoothed, decimated and checked in parallel (``workers`` threads, default
    one per CPU). Vertices are RAS+ millimetres through ``labels.affine``, faces
    counter-clockwise from outside whatever the affine's handedness. Surfaces are closed and
    enclose the voxel volume. Where a structure touches itself only along a voxel edge or at
    a corner the surface is split there (see :mod:`iris3d.mesh.pinch`); where that cannot
    make it manifold (a one-voxel tunnel, or labels from a coarser grid) ``closed`` is False:
    use :func:`iris3d.mesh.printable_meshes` before writing files for printing. Ids missing from
    ``labels.table`` are meshed as ``label_<id>``. A label map resampled from a coarser grid
    with nearest neighbour is meshed at that grid's resolution (see :mod:`iris3d.mesh.grid`).
    ``grid``: ``meshing_grid(labels.array)`` when the caller has it already (it copies the
    labels' box: give it to :func:`iris3d.mesh.printable_meshes` too).
    ``ct``, the scan on the labels' grid, places each surface at sub-voxel precision from its
    partial-volume intensities where the structure stands out from its surroundings (see
    :mod:`iris3d.mesh.intensity`). ``skip``: labels meshed elsewhere (see
    :mod:`iris3d.mesh.compartment`).
    """
    return mesh_structures(labels, detail, workers=workers, progress=progress, grid=grid,
                           ct=ct, skip=skip)


def mesh_structures(
    labels: LabelMap,
    detail: MeshDetail = NORMAL,
    *,
    workers: int | None = None,
    progress: Progress = no_progress,
    merge_repeats: bool = True,
    grid: LabelCrop | None = None,
    ct: CTVolume | None = None,
    skip: Collection[int] = (),
) -> list[StructureMesh]:
    """:func:`build_meshes`; ``merge_repeats=False`` meshes every voxel of the label map even
    where it repeats the slices of a coarser grid (for comparisons)."""
    crop = grid or crop_to_labels(labels.array)
    if crop is None:
        return []
    if merge_repeats and grid is None:
        crop = native_grid(crop)
    threads = workers or os.cpu_count() or 1
    top = int(crop.array.max())
    # Ids missing from the table are meshed too; list them all only when there are few.
    extra = range(1, top + 1) if top <= 4096 else (int(i) for i in np.unique(crop.array))
    wanted = sorted((set(labels.table) | set(extra)) - {0} - set(skip))
    surfaces = extract_surfaces(crop, wanted, threads)
    present = [label for label in wanted if surfaces.quad_count(label) > 0]
    cell_mm = crop.cell_mm(labels.affine)
    scan = ct if ct is not None and labels.matches(ct) else None
    cells_mm = np.linalg.norm(labels.affine[:3, :3], axis=0) * crop.voxels_per_cell()
    across = thick_axis(cells_mm)

    def one(label: int) -> StructureMesh:
        if across is not None:
            return _interpolated_mesh(labels, label, crop, cells_mm, across, surfaces, detail,
                                      cell_mm, scan)
        return _structure_mesh(labels, label, surfaces, detail, cell_mm, scan,
                               crop.voxels_per_cell())

    return run_largest_first(one, present, surfaces.quad_count, threads, progress)


def _structure_mesh(
    labels: LabelMap, label: int, surfaces: LabelledSurfaces, detail: MeshDetail, cell_mm: float,
    ct: CTVolume | None, voxels_per_cell: npt.NDArray[np.float64],
) -> StructureMesh:
    vertices_ijk, quads = compact(surfaces.points_ijk, surfaces.faces(label))
    guide = None if ct is None else intensity_guide(ct.array, labels.array, labels.affine,
                                                    label, vertices_ijk, voxels_per_cell)
    if ct is None or not coarser_than_voxels(voxels_per_cell):
        # Labels from a coarser grid than the CT's keep their pinches for the marching-cubes
        # rebuild: split, a block's edge is a crease that the CT's first, unaveraged pass
        # follows the wrong way (a ring from 3 mm labels 0.078 -> 0.141 mm RMS), and the
        # blocks the CT cannot place come out further off (a plate 0.846 -> 1.004).
        vertices_ijk, quads = split_pinches(vertices_ijk, quads)
    raw_measures = surfaces.raw_measures(label, labels.affine)
    if ct is not None and guide is not None and guide.coarse:
        drawn = redrawn(ct.array, labels.array, labels.affine, label, vertices_ijk,
                        voxels_per_cell, guide, 2.0 * raw_measures[0] / raw_measures[1])
        mesh = None if drawn is None else _redrawn_mesh(labels, label, drawn, detail)
        if mesh is not None:
            return mesh
    vertices, faces = finish_surface(vertices_ijk, quads, labels.affine, detail,
                                     raw_measures=raw_measures, cell_mm=cell_mm, guide=guide)
    return StructureMesh(
        structure=structure_of(labels, label),
        vertices=vertices.astype("float32"),
        faces=faces,
        closed=is_closed_manifold(faces, len(vertices)),
        method="surface_nets",
    )


def _interpolated_mesh(
    labels: LabelMap, label: int, crop: LabelCrop, cells_mm: npt.NDArray[np.float64], axis: int,
    surfaces: LabelledSurfaces, detail: MeshDetail, cell_mm: float, ct: CTVolume | None,
) -> StructureMesh:
    """``label``'s surface across thick slices (see :mod:`iris3d.mesh.interpolate`), brought
    back to the labels' voxel volume; the Surface Nets one where it is not printable."""
    vertices_ijk, triangles = interpolated_surface(crop, label, cells_mm, axis,
                                                   labels.array.shape[axis])
    labels_own = crop.voxels_per_cell()
    if len(triangles) > 0:
        guide = None if ct is None else intensity_guide(ct.array, labels.array, labels.affine,
                                                        label, vertices_ijk, labels_own)
        # The labels' voxel volume, and the staircase's area for the pass band (as for the
        # Surface Nets surface); a sharp filter's base pass band widened for the resampled
        # mesh (the fast level's short filter passes too much of the pixels' staircase then).
        measures = surfaces.raw_measures(label, labels.affine)
        widen = INTERPOLATED_PASSBAND if detail.smoothing_iterations >= SHARP_TERMS else 1.0
        wider = replace(detail, passband=min(detail.passband * widen, 2.0))
        vertices, faces = finish_surface(vertices_ijk, triangles, labels.affine, wider,
                                         target_volume_mm3=measures[0], raw_measures=measures,
                                         cell_mm=cell_mm, guide=guide)
        # Decimation can pinch a thin part, and the volume's offset can push one through
        # itself (the CT's placement undoes only the crossings its own moves make).
        if is_closed_manifold(faces, len(vertices)) and len(crossing_pairs(vertices, faces)) == 0:
            return StructureMesh(structure=structure_of(labels, label),
                                 vertices=vertices.astype("float32"), faces=faces, closed=True,
                                 method="interpolated")
    return _structure_mesh(labels, label, surfaces, detail, cell_mm, ct, labels_own)


def _redrawn_mesh(labels: LabelMap, label: int, drawn: Redrawn, detail: MeshDetail
                  ) -> StructureMesh | None:
    """The surface of ``label`` redrawn on the CT (see :mod:`iris3d.mesh.redraw`): marching
    cubes on its mask, placed on the CT; None where it is not printable (the labels' then)."""
    mask = np.pad(drawn.labels == label, 1).astype(np.uint8)
    points, triangles = marching_cubes_surface(LabelCrop(mask, np.full(3, -1, np.int64)), 1)
    if len(triangles) == 0:
        return None
    vertices_ijk, raw = compact(points, triangles)
    if holes(raw, len(vertices_ijk)) > drawn.label_holes:
        return None
    voxel_mm3 = abs(float(np.linalg.det(drawn.affine[:3, :3])))
    for finer in _REDRAWN_DECIMATION:
        vertices, faces = finish_surface(
            vertices_ijk, raw, drawn.affine,
            replace(detail, max_error_mm=detail.max_error_mm * finer),
            target_volume_mm3=drawn.voxel_count * voxel_mm3, guide=drawn.guide)
        if is_closed_manifold(faces, len(vertices)):
            break
    else:
        return None
    return StructureMesh(structure=structure_of(labels, label),
                         vertices=vertices.astype("float32"), faces=faces, closed=True,
                         method="redrawn")


def structure_of(labels: LabelMap, label: int) -> Structure:
    """The table's structure for ``label``, or a grey ``label_<id>`` in group ``other``."""
    if label in labels.table:
        return labels.table[label]
    return Structure(label, f"label_{label}", group_of(f"label_{label}"), (200, 200, 200))


def run_largest_first(
    work: Callable[[T], R],
    items: Iterable[T],
    size: Callable[[T], int],
    threads: int,
    progress: Progress = no_progress,
) -> list[R]:
    """``work`` on each item in a thread pool, biggest first (no big one left alone at the
    end); results in the items' order, ``progress`` told ``"done/total"`` as they finish.
    numpy, scipy, VTK and meshoptimizer release the GIL."""
    ordered = list(items)
    biggest_first = sorted(range(len(ordered)), key=lambda n: size(ordered[n]), reverse=True)
    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        futures = {n: pool.submit(work, ordered[n]) for n in biggest_first}
        results = []
        for n in range(len(ordered)):
            results.append(futures[n].result())
            counted(progress, n + 1, len(ordered))
    return results
