"""reorient_to: Iris's RAS+ arrays back to a file's own voxel order, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from iris3d.geometry import reorient_to, reorient_to_ras


@pytest.mark.parametrize("flip", [(1, 1, 1), (-1, -1, 1), (-1, 1, -1)])
@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_it_undoes_reorient_to_ras(flip: tuple[int, int, int], order: tuple[int, int, int]) -> None:
    native = np.eye(4)
    native[:3, :3] = np.diag([0.7, 0.8, 2.5])[:, list(order)] * np.array(flip)
    native[:3, 3] = (-120.0, 40.0, 300.0)
    array = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    ras, ras_affine = reorient_to_ras(array, native)
    back = reorient_to(ras, ras_affine, native)
    assert np.array_equal(back, array) and back.flags["C_CONTIGUOUS"]
    view = reorient_to(ras, ras_affine, native, copy=False)
    assert np.array_equal(view, array) and np.shares_memory(view, ras)


def test_a_target_that_is_another_grid_is_refused() -> None:
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    shifted = affine.copy()
    shifted[0, 3] = 5.0
    with pytest.raises(ValueError, match="not a reorientation"):
        reorient_to(np.zeros((3, 3, 3)), affine, shifted)
