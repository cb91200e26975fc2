"""The mesh building blocks: topology checks, smoothing filter, decimation, detail levels."""

from __future__ import annotations

import numpy as np
import pytest

from iris3d.contracts import Quality
from iris3d.errors import IrisError
from iris3d.mesh import QUALITY_LEVELS, UnknownQualityError, mesh_detail
from iris3d.mesh.decimate import decimate
from iris3d.mesh.finish import triangulate
from iris3d.mesh.measure import signed_volume, volume_and_area, volume_centroid
from iris3d.mesh.smooth import filter_weights, restore_volume, windowed_sinc
from iris3d.mesh.topology import compact, is_closed_manifold

TETRA_V = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
TETRA_F = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])


def _sphere(subdivisions: int = 3, radius: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return np.asarray(s.vertices, dtype=np.float64), np.asarray(s.faces, dtype=np.int64)


def test_tetrahedron_is_closed_and_has_the_right_volume() -> None:
    assert is_closed_manifold(TETRA_F)
    assert signed_volume(TETRA_V, TETRA_F) == pytest.approx(1 / 6)
    np.testing.assert_allclose(volume_centroid(TETRA_V, TETRA_F), [0.25, 0.25, 0.25])
    assert signed_volume(TETRA_V, TETRA_F[:, ::-1]) == pytest.approx(-1 / 6)


def test_open_flipped_and_pinched_meshes_are_not_printable() -> None:
    assert not is_closed_manifold(TETRA_F[:3])  # a hole
    flipped = TETRA_F.copy()
    flipped[0] = flipped[0, ::-1]
    assert not is_closed_manifold(flipped)  # inconsistent winding
    # Two tetrahedra sharing only vertex 0: watertight edges, but a pinched vertex.
    second = TETRA_F.copy()
    second[second > 0] += 3
    assert not is_closed_manifold(np.concatenate([TETRA_F, second]))


def test_compact_keeps_only_used_vertices_in_order() -> None:
    vertices = np.arange(30, dtype=np.float64).reshape(10, 3)
    faces = np.array([[7, 2, 9], [9, 2, 4]])
    used, renumbered = compact(vertices, faces)
    np.testing.assert_array_equal(used[renumbered], vertices[faces])
    assert len(used) == 4


def test_filter_has_unit_gain_at_zero_and_cuts_high_frequencies() -> None:
    weights = filter_weights(40, 0.01)
    assert weights.sum() == pytest.approx(1.0)
    response = [float((weights * np.cos(np.arange(41) * theta)).sum()) for theta in (0.02, 1.5)]
    assert response[0] > 0.97 and abs(response[1]) < 0.01


def test_windowed_sinc_removes_noise_keeps_mean_and_volume() -> None:
    vertices, faces = _sphere(4)
    rng = np.random.default_rng(0)
    noisy = vertices * (1 + rng.normal(0, 0.03, (len(vertices), 1)))
    smoothed = windowed_sinc(noisy, faces, 40, 0.2)
    np.testing.assert_allclose(smoothed.mean(axis=0), noisy.mean(axis=0), atol=1e-4)
    radial_noise = np.linalg.norm(smoothed, axis=1).std()
    assert radial_noise < 0.3 * np.linalg.norm(noisy, axis=1).std()
    assert signed_volume(smoothed, faces) == pytest.approx(signed_volume(vertices, faces), rel=0.02)


def test_restore_volume_reaches_the_target_within_its_limit() -> None:
    vertices, faces = _sphere(3)
    shrunk = vertices * 0.97
    target = signed_volume(vertices, faces)
    restored = restore_volume(shrunk, faces, target, max_offset=1.0)
    assert signed_volume(restored, faces) == pytest.approx(target, rel=1e-3)
    limited = restore_volume(shrunk, faces, target, max_offset=0.05)
    assert np.linalg.norm(limited, axis=1).max() <= 9.7 + 0.05 + 1e-6


def test_decimation_respects_its_error_bound() -> None:
    vertices, faces = _sphere(5, radius=60.0)
    fewer_v, fewer_f = decimate(vertices, faces, 0.25)
    assert len(fewer_f) < 0.2 * len(faces)
    assert np.abs(np.linalg.norm(fewer_v, axis=1) - 60.0).max() <= 0.25
    assert is_closed_manifold(fewer_f, len(fewer_v))
    volume, area = volume_and_area(fewer_v, fewer_f)
    assert volume == pytest.approx(4 / 3 * np.pi * 60**3, rel=0.01)
    assert area == pytest.approx(4 * np.pi * 60**2, rel=0.01)


def test_quads_split_along_their_shorter_diagonal() -> None:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [3, 1, 0], [0, 1, 0.0]])
    quad = np.array([[0, 1, 2, 3]])
    assert triangulate(None, quad).tolist() == [[0, 1, 2], [0, 2, 3]]
    # 0-2 is longer than 1-3 here: split along 1-3.
    assert sorted(map(sorted, triangulate(vertices, quad).tolist())) == [[0, 1, 3], [1, 2, 3]]


def test_quality_levels() -> None:
    assert set(QUALITY_LEVELS) == set(Quality)
    assert mesh_detail(Quality.FASTEST) is mesh_detail(Quality.FAST)  # coarser looks broken
    assert mesh_detail("high").max_error_mm < mesh_detail("normal").max_error_mm
    with pytest.raises(UnknownQualityError, match="fastest, fast, normal, high") as caught:
        mesh_detail("ultra")
    assert isinstance(caught.value, IrisError)
