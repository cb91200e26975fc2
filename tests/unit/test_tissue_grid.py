"""The tissue engine's coarse grid and slice-wise morphology."""

from __future__ import annotations

import numpy as np

from iris3d.segment.tissue.grid import WorkGrid
from iris3d.segment.tissue.morphology import fill_holes_2d, label_max


def _blocks_reference(array: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    pad = [(0, -n % f) for n, f in zip(array.shape, factors, strict=True)]
    padded = np.pad(array, pad, mode="edge")
    (x, y, z), (fx, fy, fz) = padded.shape, factors
    return padded.reshape(x // fx, fx, y // fy, fy, z // fz, fz)


def test_block_mean_max_and_upsampling_match_a_plain_reference() -> None:
    grid = WorkGrid((3, 2, 2), (10, 7, 5), (0.5, 0.5, 1.0))
    hu = np.random.default_rng(0).integers(-1000, 1000, (10, 7, 5)).astype(np.int16)
    blocks = _blocks_reference(hu, grid.factors)
    assert grid.shape == (4, 4, 3) and grid.spacing == (1.5, 1.0, 2.0)
    assert np.allclose(grid.mean(hu), blocks.mean(axis=(1, 3, 5)), atol=1e-3)
    assert np.array_equal(grid.max(hu), blocks.max(axis=(1, 3, 5)))
    coarse = np.arange(np.prod(grid.shape)).reshape(grid.shape)
    full = grid.up(coarse)
    assert np.array_equal(full, coarse[np.ix_(np.arange(10) // 3, np.arange(7) // 2,
                                              np.arange(5) // 2)])
    box = (slice(4, 9), slice(1, 6), slice(2, 5))
    assert np.array_equal(grid.up(coarse, box), full[box])


def test_coarse_grid_stays_small_for_large_studies() -> None:
    grid = WorkGrid.for_volume((512, 512, 400), (0.8, 0.8, 1.0))
    assert np.prod(grid.shape) <= 2_000_000
    assert WorkGrid.for_volume((122, 101, 30), (3.0, 3.0, 3.0)).is_identity


def test_fill_holes_is_per_slice() -> None:
    ring = np.zeros((7, 7, 2), dtype=bool)
    ring[1:6, 1:6, 0] = True
    ring[2:5, 2:5, 0] = False  # a hole in slice 0
    ring[2:5, 2:5, 1] = True  # which slice 1 does not close
    filled = fill_holes_2d(ring)
    assert filled[3, 3, 0] and filled[1:6, 1:6, 0].all()
    assert not filled[0, 0, 0] and filled[:, :, 1].sum() == 9


def test_label_max() -> None:
    labels = np.array([0, 1, 1, 2, 2, 2])
    values = np.array([9.0, 1.0, 3.0, -1.0, 5.0, 2.0])
    assert label_max(values, labels, 2).tolist() == [3.0, 5.0]
