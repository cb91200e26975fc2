"""TotalSegmentator's ``change_spacing`` resampling, in torch (for the GPU).

TotalSegmentator resamples with ``scipy.ndimage.zoom(mode="nearest")``: output voxel ``o`` of an
axis reads input coordinate ``o * (n_in - 1) / (n_out - 1)``, linearly interpolated (order 1, the
CT to the model's spacing) or rounded to the nearest voxel (order 0, the labels back). The same
mapping is trilinear interpolation with ``align_corners=True`` and an index gather; both run here in
float64, so the CT's values match scipy's to rounding and the labels match voxel for voxel except
where a coordinate falls within rounding of a half-voxel.
"""

from __future__ import annotations

from collections.abc import Sequence

import nibabel as nib
import numpy as np
import numpy.typing as npt
import torch


def zoom_shape(shape: Sequence[int], zoom: Sequence[float]) -> tuple[int, ...]:
    """``ndimage.zoom``'s output shape: each axis rounded."""
    return tuple(round(n * z) for n, z in zip(shape, zoom, strict=True))


def zoom_linear(
    data: npt.NDArray[np.generic], out_shape: Sequence[int], device: torch.device
) -> npt.NDArray[np.float64]:
    """Order-1 ``ndimage.zoom`` of a 3D array to ``out_shape`` (float64, on the host)."""
    volume = torch.from_numpy(np.asarray(data, dtype=np.float64)).to(device)
    resized = torch.nn.functional.interpolate(
        volume[None, None], size=tuple(out_shape), mode="trilinear", align_corners=True
    )[0, 0]
    return resized.cpu().numpy()


def zoom_nearest(
    labels: npt.NDArray[np.uint8], out_shape: Sequence[int], device: torch.device
) -> npt.NDArray[np.uint8]:
    """Order-0 ``ndimage.zoom`` of a 3D label array to ``out_shape``."""
    result = torch.from_numpy(np.ascontiguousarray(labels)).to(device)
    for axis, (n_in, n_out) in enumerate(zip(labels.shape, out_shape, strict=True)):
        index = _nearest_index(n_in, n_out, device)
        result = torch.index_select(result, axis, index)
    return result.cpu().numpy()


def _nearest_index(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    if n_out <= 1 or n_in <= 1:
        return torch.zeros(max(n_out, 0), dtype=torch.long, device=device)
    scale = (n_in - 1) / (n_out - 1)
    coordinates = torch.arange(n_out, dtype=torch.float64, device=device) * scale
    return torch.floor(coordinates + 0.5).clamp_(0, n_in - 1).to(torch.long)


def change_spacing(
    img: nib.Nifti1Image,
    new_spacing: Sequence[float],
    device: torch.device,
    *,
    order: int,
    dtype: type[np.generic],
    target_shape: Sequence[int] | None = None,
    force_affine: npt.NDArray[np.float64] | None = None,
) -> nib.Nifti1Image:
    """``totalsegmentator.resampling.change_spacing`` for a 3D image, resampled on ``device``."""
    data = np.asanyarray(img.dataobj)
    spacing = np.array(img.header.get_zooms()[:3], dtype=np.float64)
    if target_shape is not None:
        zoom = np.array(target_shape, dtype=np.float64) / np.array(data.shape)
        new = spacing / zoom
    else:
        new = np.array(new_spacing, dtype=np.float64)
        zoom = spacing / new
    if np.array_equal(spacing, new):
        return img
    affine = np.copy(img.affine)
    for axis in range(3):
        affine[:3, axis] = affine[:3, axis] / zoom[axis]
    out_shape = zoom_shape(data.shape, zoom)
    if order == 0:
        resampled: npt.NDArray[np.generic] = zoom_nearest(data.astype(np.uint8), out_shape, device)
    elif order == 1:
        resampled = zoom_linear(data, out_shape, device)
    else:
        raise ValueError(f"resampling order {order} is not supported on the GPU")
    if force_affine is not None:
        affine = force_affine
    return nib.Nifti1Image(resampled.astype(dtype), affine)
