import numpy as np
import pytest

from iris3d.geometry import (
    lps_to_ras,
    orientation_codes,
    points_ras_to_lps,
    ras_to_lps,
    reorient_to_ras,
    transform_points,
    voxel_spacing,
)
from iris3d.phantom.files import reorient


def test_lps_and_ras_differ_by_negating_x_and_y() -> None:
    affine = np.eye(4)
    affine[:3, 3] = [10, 20, 30]
    np.testing.assert_array_equal(lps_to_ras(affine)[:3, 3], [-10, -20, 30])
    np.testing.assert_array_equal(ras_to_lps(lps_to_ras(affine)), affine)
    np.testing.assert_array_equal(points_ras_to_lps(np.array([[1.0, 2.0, 3.0]])), [[-1, -2, 3]])


@pytest.mark.parametrize("codes", ["LPS", "LAS", "PIR", "ASL", "SRA"])
def test_reorient_to_ras_restores_any_orientation(codes: str) -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(0, 100, size=(5, 6, 7)).astype(np.int16)
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-5, 7, 11]
    turned, turned_affine = reorient(array, affine, codes)
    assert orientation_codes(turned_affine) == codes
    back, back_affine = reorient_to_ras(turned, turned_affine)
    np.testing.assert_array_equal(back, array)
    np.testing.assert_allclose(back_affine, affine)
    # Every voxel keeps its place in patient space.
    i, j, k = 1, 2, 3
    point = transform_points(affine, np.array([[i, j, k]]))
    where = np.argwhere(turned == array[i, j, k])
    assert any(np.allclose(transform_points(turned_affine, w[None]), point) for w in where)
    assert sorted(voxel_spacing(turned_affine)) == [2.0, 3.0, 4.0]
