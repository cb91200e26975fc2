"""A study thumbnail: a coronal colour projection of the labels over the CT (no GPU needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from iris3d.geometry import reorient_to_ras, voxel_spacing
from iris3d.volume import CTVolume, LabelMap

LABEL_OPACITY = 0.6


def thumbnail_image(ct: CTVolume, labels: LabelMap | None, size: int = 512) -> Image.Image:
    """The patient seen from the front, head up, patient's right on the image's left (as in
    radiology): a radiograph-like mean projection of the CT with, over it, the colour of the
    front-most structure along each line of sight. Pixels are square in millimetres."""
    hu, affine = reorient_to_ras(np.asarray(ct.array), ct.affine)
    # Mean attenuation along anterior-posterior, as a radiograph sees it; in slabs of slices
    # so that a 512x512x400 study needs tens of megabytes, not gigabytes, of float copies.
    density = np.empty((hu.shape[0], hu.shape[2]), dtype=np.float32)
    for k in range(0, hu.shape[2], 32):
        density[:, k:k + 32] = _mean_attenuation(hu[:, :, k:k + 32])
    low, high = np.percentile(density, [1, 99.5])
    grey = np.clip((density - low) / max(high - low, 1e-6), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if labels is not None and labels.matches(ct):
        # (not on the CT's grid: show the CT alone rather than a misplaced overlay)
        rgb = _overlay(rgb, labels)
    # [i = x (R), k = z (S)] -> image rows from superior down, columns from the patient's right.
    image = np.ascontiguousarray(np.transpose(rgb, (1, 0, 2))[::-1, ::-1])
    picture = Image.fromarray((image * 255).round().astype(np.uint8), mode="RGB")
    sx, _, sz = voxel_spacing(affine)
    width_mm, height_mm = picture.width * sx, picture.height * sz
    scale = size / max(width_mm, height_mm)
    target = (max(1, round(width_mm * scale)), max(1, round(height_mm * scale)))
    return picture.resize(target, Image.Resampling.BILINEAR)


def _mean_attenuation(slab: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """HU + 1000 clipped to [0, 2500], averaged along the slab's second axis. An int16 CT is
    clipped and summed as integers (exact, and a third of the float passes)."""
    if slab.dtype == np.int16:
        total = np.clip(slab, -1000, 1500).sum(axis=1, dtype=np.int32)
        return np.asarray(total / slab.shape[1] + 1000.0, dtype=np.float32)
    values = slab.astype(np.float32)
    return np.asarray(np.clip(values + 1000.0, 0.0, 2500.0).mean(axis=1), dtype=np.float32)


def _overlay(rgb: npt.NDArray[np.floating], labels: LabelMap) -> npt.NDArray[np.floating]:
    ids, _ = reorient_to_ras(labels.array, labels.affine)
    seen = np.empty((ids.shape[0], ids.shape[2]), dtype=ids.dtype)
    # In slabs of slices, as the density above: a whole-volume mask would be 100 MB more at
    # 512x512x400, at the moment the meshes are being built beside it.
    # +y is anterior: looking from the front, the first labelled voxel is the one with the
    # largest j. Found as the largest of (j + 1) over the labelled voxels: a reduction along
    # the axis (an argmax along a middle axis copies the slab first: 4x the time).
    steps = np.arange(1, ids.shape[1] + 1,
                      dtype=np.uint16 if ids.shape[1] < 2**16 else np.uint32)[None, :, None]
    for k in range(0, ids.shape[2], 32):
        slab = ids[:, :, k:k + 32]
        front = np.multiply(slab != 0, steps).max(axis=1).astype(np.intp) - 1
        nearest = np.take_along_axis(slab, np.maximum(front, 0)[:, None, :], axis=1)[:, 0, :]
        seen[:, k:k + 32] = np.where(front >= 0, nearest, 0)
    palette = np.zeros((int(max(ids.max(initial=0), 0)) + 1, 3), dtype=np.float32)
    for label, structure in labels.table.items():
        if label < len(palette):
            palette[label] = np.asarray(structure.colour, dtype=np.float32) / 255.0
    unknown = (seen > 0) & ~np.isin(seen, list(labels.table))
    colours = palette[np.clip(seen, 0, None)]
    colours[unknown] = 0.8
    alpha = np.where(seen > 0, LABEL_OPACITY, 0.0)[..., None]
    result: npt.NDArray[np.floating] = rgb * (1 - alpha) + colours * alpha
    return result


def write_thumbnail(ct: CTVolume, labels: LabelMap | None, path: Path, size: int = 512) -> None:
    """Write :func:`thumbnail_image` as PNG to ``path``."""
    thumbnail_image(ct, labels, size).save(path, format="PNG", optimize=True)
