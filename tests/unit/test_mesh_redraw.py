"""Labels from a 3 mm grid redrawn on a finer CT where the structure stands out
(iris3d.mesh.redraw), kept as blocks where it does not, and a faint one's blocks placed on it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from tests.support.coarse_scene import (
    END,
    RADIUS,
    START,
    Points,
    beads,
    components,
    meshed,
    rms_mm,
    scene,
    tube,
)

from iris3d.mesh.selfcross import crossing_pairs
from iris3d.mesh.topology import holes, is_closed_manifold

BALL_MM = 12.0
BALL_CENTRE = np.array([0.4, -0.7, 0.9])


def ball(points: Points) -> npt.NDArray[np.float64]:
    return np.asarray(np.linalg.norm(points - BALL_CENTRE, axis=1) - BALL_MM)


def ball_rms_mm(vertices: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(ball(vertices.astype(np.float64)) ** 2)))


def test_a_thin_bright_tube_is_redrawn_on_the_ct_close_to_the_truth() -> None:
    labels, ct = scene(contrast_hu=600.0)
    blocks = meshed(labels, None)
    redrawn = meshed(labels, ct)
    assert redrawn.method == "redrawn"
    assert redrawn.closed and is_closed_manifold(redrawn.faces, len(redrawn.vertices))
    assert len(crossing_pairs(redrawn.vertices, redrawn.faces)) == 0
    # The blocks lie up to half a 3 mm cell off a 3 mm tube; the CT places it within tenths.
    assert rms_mm(redrawn) < 0.3 < rms_mm(blocks)
    assert components(redrawn) <= components(blocks)
    true_ml = (np.pi * RADIUS**2 * np.linalg.norm(END - START) + 4 / 3 * np.pi * RADIUS**3) / 1e3
    assert abs(redrawn.volume_ml / true_ml - 1.0) < 0.15


def test_the_redrawn_tube_stays_where_the_patient_is_under_any_affine() -> None:
    """Index axes flipped (as an LPS-stored scan is): the surface is in the same RAS place."""
    labels, ct = scene(contrast_hu=600.0, affine_signs=(-1.0, 1.0, -1.0))
    redrawn = meshed(labels, ct)
    assert redrawn.method == "redrawn"
    assert rms_mm(redrawn) < 0.3
    centre = redrawn.vertices.mean(axis=0)
    assert np.allclose(centre, (START + END) / 2, atol=1.0)


def test_a_faint_tube_keeps_its_blocks() -> None:
    """20 HU against 10 HU of noise: a threshold would be mostly noise."""
    labels, ct = scene(contrast_hu=20.0)
    assert meshed(labels, ct).method != "redrawn"


def test_a_structure_the_ct_shows_in_beads_keeps_its_blocks() -> None:
    """The labels hold one 5 mm tube; the CT shows it in pieces (a thin bone on a scan that
    blurs it): redrawn at the mid level it would come apart. The same tube shown whole is
    redrawn (the test's control)."""
    def whole(p: Points) -> npt.NDArray[np.float64]:
        return tube(p, 2.5)

    labels, ct = scene(contrast_hu=600.0, shown=beads, labelled=whole)
    placed = meshed(labels, ct)
    assert placed.method != "redrawn" and placed.closed
    assert components(placed) == 1
    assert meshed(*scene(contrast_hu=600.0, shown=whole, labelled=whole)).method == "redrawn"


def test_holes_counts_the_holes_through_a_surface() -> None:
    from iris3d.mesh import _vtk
    from iris3d.mesh.topology import compact

    grid = np.indices((40, 40, 40)).reshape(3, -1).T - 19.5
    ring = np.hypot(np.hypot(grid[:, 0], grid[:, 1]) - 12, grid[:, 2]) < 4
    blob = np.linalg.norm(grid - 6, axis=1) < 5
    for mask, expected in ((ring, 1), (blob, 0), (ring | blob, 1)):
        points, triangles = _vtk.flying_edges(mask.reshape(40, 40, 40).astype(np.uint8))
        vertices, faces = compact(points, triangles)
        assert holes(faces, len(vertices)) == expected


def test_a_faint_organ_from_coarse_labels_is_placed_and_keeps_its_volume() -> None:
    """12 HU against 10 HU of noise: each voxel alone says little, but the labels are up to
    1.5 mm off, and the profiles averaged over the surface say more (before: the blocks kept,
    from 1.5 noises of contrast)."""
    labels, ct = scene(contrast_hu=12.0, shown=ball, labelled=ball)
    blocks = meshed(labels, None)
    placed = meshed(labels, ct)
    assert ball_rms_mm(placed.vertices) < 0.9 * ball_rms_mm(blocks.vertices)
    true_ml = 4 / 3 * np.pi * BALL_MM**3 / 1000
    assert abs(placed.volume_ml / true_ml - 1.0) < 0.02
