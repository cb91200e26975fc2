"""Self-intersection search on meshes of every shape, including degenerate decimation output."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from iris3d.anatomy import LabelTable, Structure
from iris3d.contracts import Quality
from iris3d.mesh import build_meshes, mesh_detail, printable_meshes
from iris3d.mesh.detail import MeshDetail
from iris3d.mesh.finish import finish_surface, triangulate
from iris3d.mesh.grid import crop_to_labels
from iris3d.mesh.measure import volume_and_area
from iris3d.mesh.selfcross import crossing_pairs
from iris3d.mesh.smooth import restore_volume
from iris3d.mesh.surfacenets import extract_surfaces
from iris3d.mesh.topology import compact, is_closed_manifold
from iris3d.volume import LabelMap

# Two triangles through each other (no shared vertex), and one beside them touching neither.
CROSSING = np.array([
    [0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0],
    [2.0, 2.0, -5.0], [2.0, 2.0, 5.0], [3.0, 3.0, 5.0],
    [50.0, 50.0, 50.0], [60.0, 50.0, 50.0], [50.0, 60.0, 50.0],
])


def test_two_triangles_through_each_other_are_found() -> None:
    pairs = crossing_pairs(CROSSING, np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]]))
    assert sorted(map(sorted, pairs.tolist())) == [[0, 1]]


def test_a_mesh_of_mostly_collapsed_triangles_is_searched_without_a_huge_grid() -> None:
    """Decimation can shrink most of a thin part's triangles to points: the median triangle is
    then zero-sized, and a grid of that size would need petabytes for the real ones."""
    rng = np.random.default_rng(0)
    points = rng.uniform(0.0, 100.0, (100_000, 3))
    collapsed = np.repeat(np.arange(100_000)[:, None], 3, axis=1) + len(CROSSING)
    vertices = np.concatenate([CROSSING * 10.0, points])  # the two real triangles span the mesh
    faces = np.concatenate([np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]]), collapsed])
    pairs = crossing_pairs(vertices, faces)
    assert sorted(map(sorted, pairs.tolist())) == [[0, 1]]


def test_the_volume_offset_does_not_push_a_narrow_fold_through_itself() -> None:
    """A U of voxels whose arms are one voxel apart, given back much more volume than it has
    (as after a coarse decimation): offset alone, the arms' facing walls cross; finished, the
    crossing moves are undone and the surface stays printable."""
    array = np.zeros((12, 10, 8), dtype=np.uint8)
    array[2:10, 2:8, 2:6] = 1
    array[5, 4:8, 2:6] = 0  # the slit between the U's arms, open at the top
    crop = crop_to_labels(array)
    assert crop is not None
    surfaces = extract_surfaces(crop, [1])
    points, quads = compact(surfaces.points_ijk, surfaces.faces(1))
    affine = np.eye(4)
    triangles = triangulate(None, quads)
    volume, _ = volume_and_area(points.astype(np.float64), triangles)
    offset_alone = restore_volume(points.astype(np.float64), triangles, 2.5 * volume, 1.5)
    assert len(crossing_pairs(offset_alone, triangles)) > 0  # the problem
    as_is = MeshDetail(Quality.FAST, smoothing_iterations=0, passband=0.1, max_error_mm=0.0,
                       min_decimate_triangles=10**9)
    vertices, faces = finish_surface(points, quads, affine, as_is,
                                     target_volume_mm3=2.5 * volume, cell_mm=3.0)
    assert len(crossing_pairs(vertices, faces)) == 0
    assert volume_and_area(vertices, faces)[0] > 1.1 * volume  # still given volume back


def test_noisy_labels_give_printable_surfaces_that_do_not_cross_themselves() -> None:
    """Five structures of a smooth random field, 6 % of the voxels relabelled at random:
    one-voxel tunnels everywhere, so all five are rebuilt by marching cubes, whose corner
    cuts the volume's offset gives back. Every printable surface is closed, manifold and
    free of crossings, and keeps its voxels' volume (with the offset unchecked, four of them
    crossed themselves 28-541 times)."""
    rng = np.random.default_rng(6)
    field = ndimage.gaussian_filter(rng.random((40, 36, 30)), 1.2)
    array = np.digitize(field, np.quantile(field, [0.5, 0.62, 0.74, 0.86, 0.95])).astype(np.uint8)
    array[rng.random(array.shape) < 0.06] = 3
    table = LabelTable([Structure(i, f"part_{i}", "other", (200, 200, 200)) for i in range(1, 6)])
    labels = LabelMap(np.pad(array, 1), np.diag([1.5, 1.2, 2.0, 1.0]), table)
    detail = mesh_detail("high")
    meshes = printable_meshes(labels, build_meshes(labels, detail), detail)
    assert len(meshes) == 5
    for mesh in meshes:
        assert mesh.closed and is_closed_manifold(mesh.faces, len(mesh.vertices))
        assert len(crossing_pairs(mesh.vertices.astype(np.float64), mesh.faces)) == 0
        voxels_ml = np.count_nonzero(labels.array == mesh.structure.label) * 3.6 / 1000
        assert abs(mesh.volume_ml - voxels_ml) < 0.05 * voxels_ml


def test_the_fast_levels_decimation_does_not_fold_a_surface_through_itself() -> None:
    """A smooth random field on 4 mm slices, at the fast level: its smallest structure's
    interpolated surface is refused and its Surface Nets one, decimated within 0.5 mm,
    crossed itself (4 pairs); the coarse bound is checked and refined where it folds."""
    rng = np.random.default_rng(8)
    field = ndimage.gaussian_filter(rng.random((40, 36, 30)), 1.4)
    array = np.digitize(field, np.quantile(field, [0.5, 0.62, 0.74, 0.86, 0.95])).astype(np.uint8)
    table = LabelTable([Structure(i, f"part_{i}", "other", (200, 200, 200)) for i in range(1, 6)])
    labels = LabelMap(np.pad(array, 1), np.diag([1.5, 1.2, 4.0, 1.0]), table)
    for mesh in build_meshes(labels, mesh_detail("fast")):
        assert len(crossing_pairs(mesh.vertices.astype(np.float64), mesh.faces)) == 0, \
            mesh.structure.name
