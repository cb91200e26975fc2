"""Move one study's voxels onto another grid through a RAS+ transform (scipy, no ITK)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.volume import LabelMap


def voxel_mapping(
    source_affine: npt.NDArray[np.float64],
    target_affine: npt.NDArray[np.float64],
    source_to_target: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The 4x4 taking a target voxel index to the source voxel index that lands on it."""
    return np.asarray(
        np.linalg.inv(source_affine) @ np.linalg.inv(source_to_target) @ target_affine,
        dtype=np.float64,
    )


def resample_array(
    array: npt.NDArray[np.generic],
    mapping: npt.NDArray[np.float64],
    shape: tuple[int, int, int],
    *,
    order: int,
    fill: float,
) -> npt.NDArray[np.generic]:
    """``array`` sampled at ``mapping @ (i, j, k)`` for every index of ``shape``."""
    result: npt.NDArray[np.generic] = ndimage.affine_transform(
        array, mapping[:3, :3], offset=mapping[:3, 3], output_shape=shape, order=order,
        mode="constant", cval=fill, output=array.dtype if order == 0 else np.float32)
    return result


def labels_onto(
    labels: LabelMap,
    shape: tuple[int, int, int],
    affine: npt.NDArray[np.float64],
    source_to_target: npt.NDArray[np.float64],
    *,
    fill: int = 0,
) -> npt.NDArray[np.integer]:
    """``labels`` moved by ``source_to_target`` (RAS+ mm) onto the grid (``shape``, ``affine``),
    nearest neighbour; ``fill`` where the source has no voxel."""
    mapping = voxel_mapping(labels.affine, affine, source_to_target)
    dtype = np.promote_types(labels.array.dtype, np.min_scalar_type(fill))
    moved = resample_array(labels.array.astype(dtype, copy=False), mapping, shape, order=0,
                           fill=fill)
    return moved.astype(dtype, copy=False)
