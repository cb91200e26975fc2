"""The torch resampling used on CUDA against TotalSegmentator's scipy ``change_spacing``."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from scipy import ndimage
from totalsegmentator.resampling import change_spacing as their_change_spacing

from iris3d.segment.totalseg.resample import change_spacing, zoom_linear, zoom_nearest

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    "zoom", [(0.8 / 3, 0.8 / 3, 1 / 3), (0.8 / 1.5, 0.7 / 1.5, 1.25 / 1.5), (1.4, 2.1, 3.0)]
)
def test_linear_zoom_is_scipys(zoom: tuple[float, float, float]) -> None:
    data = np.random.default_rng(0).normal(0, 300, (41, 37, 29))
    theirs = ndimage.zoom(data, zoom, mode="nearest", order=1)
    ours = zoom_linear(data, theirs.shape, CPU)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-9


@pytest.mark.parametrize("shape", [(120, 97, 64), (13, 9, 7), (40, 37, 33)])
def test_nearest_zoom_is_scipys_voxel_for_voxel(shape: tuple[int, int, int]) -> None:
    labels = np.random.default_rng(1).integers(0, 118, (40, 37, 33)).astype(np.uint8)
    zoom = np.array(shape) / np.array(labels.shape)
    theirs = ndimage.zoom(labels, zoom, mode="nearest", order=0)
    ours = zoom_nearest(labels, theirs.shape, CPU)
    assert np.array_equal(ours, theirs)


def test_change_spacing_matches_totalsegmentators() -> None:
    rng = np.random.default_rng(2)
    affine = np.diag([0.8, -0.75, 1.25, 1.0])
    affine[:3, 3] = [10.0, -4.0, 3.0]
    ct = nib.Nifti1Image(rng.normal(0, 300, (60, 50, 40)), affine)
    theirs = their_change_spacing(ct, [3.0, 3.0, 3.0], order=1, dtype=np.int32)
    ours = change_spacing(ct, [3.0, 3.0, 3.0], CPU, order=1, dtype=np.int32)
    assert np.allclose(ours.affine, theirs.affine)
    same = np.asanyarray(ours.dataobj) == np.asanyarray(theirs.dataobj)
    assert float(same.mean()) > 0.999  # int32 truncation of values within 1e-12 of an integer

    labels = nib.Nifti1Image(rng.integers(0, 50, theirs.shape).astype(np.uint8), theirs.affine)
    back_theirs = their_change_spacing(
        labels, [3.0] * 3, ct.shape, order=0, dtype=np.uint8, force_affine=ct.affine
    )
    back_ours = change_spacing(
        labels,
        [3.0] * 3,
        CPU,
        order=0,
        dtype=np.uint8,
        target_shape=ct.shape,
        force_affine=ct.affine,
    )
    assert np.array_equal(back_ours.affine, back_theirs.affine)
    assert np.array_equal(np.asanyarray(back_ours.dataobj), np.asanyarray(back_theirs.dataobj))


def test_same_spacing_is_returned_as_is() -> None:
    image = nib.Nifti1Image(np.zeros((4, 4, 4)), np.diag([3.0, 3.0, 3.0, 1.0]))
    assert change_spacing(image, [3.0] * 3, CPU, order=1, dtype=np.int32) is image


def test_other_orders_are_refused() -> None:
    image = nib.Nifti1Image(np.zeros((4, 4, 4)), np.eye(4))
    with pytest.raises(ValueError, match="order 3"):
        change_spacing(image, [2.0] * 3, CPU, order=3, dtype=np.int32)
