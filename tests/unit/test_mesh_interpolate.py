"""Surfaces across thick slices: shape-based interpolation instead of slice terraces."""

from __future__ import annotations

import numpy as np
import pytest

from iris3d.anatomy import LabelTable, Structure
from iris3d.mesh import HIGH, build_meshes, interpolate, printable_meshes
from iris3d.mesh.interpolate import thick_axis
from iris3d.mesh.selfcross import crossing_pairs
from iris3d.mesh.topology import is_closed_manifold
from iris3d.volume import LabelMap

RADIUS = 12.0


def _labels(spacing: tuple[float, float, float],
            centres: list[tuple[float, float, float]]) -> LabelMap:
    """Spheres of ``RADIUS`` mm, the truth at the voxel centres, on a grid with a sub-voxel
    shift so that no boundary lines up with it."""
    step = np.asarray(spacing)
    half = 20.0 + max(abs(c) for centre in centres for c in centre)
    counts = tuple(int(n) for n in np.ceil(2 * half / step) + 1)
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -half + np.array([0.31, 0.57, 0.43]) * step
    points = np.indices(counts, dtype=np.float64).reshape(3, -1).T * step + affine[:3, 3]
    array = np.zeros(len(points), dtype=np.uint8)
    for n, centre in enumerate(centres):
        array[np.linalg.norm(points - np.asarray(centre), axis=1) < RADIUS] = n + 1
    table = LabelTable([Structure(n + 1, f"ball_{n + 1}", "other", (200, 180, 160))
                        for n in range(len(centres))])
    return LabelMap(array.reshape(counts), affine, table)


def test_thick_axis_is_the_one_much_coarser_than_the_others() -> None:
    assert thick_axis(np.array([0.75, 0.75, 3.0])) == 2
    assert thick_axis(np.array([5.0, 0.8, 0.8])) == 0
    assert thick_axis(np.array([1.0, 1.0, 1.5])) is None
    assert thick_axis(np.array([3.0, 3.0, 3.0])) is None  # a coarse grid, not thick slices


@pytest.mark.parametrize("spacing, bound_mm", [((0.75, 0.75, 3.0), 0.2), ((0.75, 0.75, 5.0), 0.35),
                                              ((5.0, 0.75, 0.75), 0.35)],
                         ids=["3mm", "5mm", "5mm-first-axis"])
def test_a_sphere_on_thick_slices_has_no_terraces(spacing: tuple[float, float, float],
                                                  bound_mm: float) -> None:
    """Labels alone: the surface follows the sphere between the slices (the terraces of the
    label surface put the RMS distance at 0.33 mm at 3 mm slices, 0.54 mm at 5 mm;
    interpolated: 0.12 and 0.29)."""
    labels = _labels(spacing, [(0.0, 0.0, 0.0)])
    [mesh] = printable_meshes(labels, build_meshes(labels, HIGH, workers=1), HIGH, workers=1)
    assert mesh.method == "interpolated" and mesh.closed
    assert is_closed_manifold(mesh.faces, len(mesh.vertices))
    assert len(crossing_pairs(mesh.vertices.astype(np.float64), mesh.faces)) == 0
    distance = np.linalg.norm(mesh.vertices.astype(np.float64), axis=1) - RADIUS
    assert float(np.sqrt(np.mean(distance**2))) < bound_mm
    assert mesh.volume_mm3 == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.03)


def test_neighbours_across_thick_slices_stay_apart() -> None:
    """Two balls 2 mm apart along the slices' axis (less than a 5 mm slice): interpolated one
    by one, their surfaces still do not cross."""
    labels = _labels((0.75, 0.75, 5.0), [(0.0, 0.0, -13.0), (4.0, 0.0, 13.0)])
    meshes = build_meshes(labels, HIGH, workers=1)
    assert [m.method for m in meshes] == ["interpolated", "interpolated"]
    first, second = meshes
    vertices = np.concatenate([first.vertices, second.vertices]).astype(np.float64)
    faces = np.concatenate([first.faces, second.faces + len(first.vertices)])
    assert len(crossing_pairs(vertices, faces)) == 0


def test_a_structure_the_scan_cuts_off_ends_flat_at_its_edge() -> None:
    """A tube along the slices' axis through the whole scan: cut at the scan's first and last
    voxel faces (as its labels' surface is), not rounded off half a slice short."""
    spacing = (0.75, 0.75, 5.0)
    counts = (40, 40, 8)
    affine = np.diag([*spacing, 1.0])
    i, j = np.indices(counts[:2], dtype=np.float64) * 0.75 - 14.6
    disk = np.hypot(i, j) < 8.0
    array = np.broadcast_to(disk[:, :, None], counts).astype(np.uint8)
    table = LabelTable([Structure(1, "aorta", "cardiovascular", (200, 60, 60))])
    [mesh] = build_meshes(LabelMap(np.ascontiguousarray(array), affine, table), HIGH, workers=1)
    assert mesh.method == "interpolated" and mesh.closed
    vertices = mesh.vertices.astype(np.float64)
    # The volume's offset after smoothing moves the flat ends out a little, as it does the
    # labels' surface's (0.85 mm here).
    assert float(vertices[:, 2].min()) == pytest.approx(-2.5, abs=1.0)
    assert float(vertices[:, 2].max()) == pytest.approx(37.5, abs=1.0)
    # 0.5 mm from the end the tube is as wide as in the middle (rounded off: 7 mm, not 8).
    centre = vertices[:, :2].mean(axis=0)
    near_end = vertices[vertices[:, 2] < -2.0, :2] - centre
    assert float(np.hypot(*near_end.T).max()) > 7.0
    voxels_mm3 = float(disk.sum()) * 0.75 * 0.75 * 40.0
    assert mesh.volume_mm3 == pytest.approx(voxels_mm3, rel=0.02)


def test_a_box_too_large_to_resample_keeps_the_labels_surface(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpolate, "_MAX_SAMPLES", 1000)
    labels = _labels((0.75, 0.75, 5.0), [(0.0, 0.0, 0.0)])
    [mesh] = build_meshes(labels, HIGH, workers=1)
    assert mesh.method == "surface_nets"
