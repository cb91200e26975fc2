"""The skeleton: dense tissue grown from cortical bone, with marrow cavities filled.

Hysteresis: voxels above a low threshold belong to bone when connected to voxels above
``SEED_HU``. The low threshold follows the study's soft-tissue level, so contrast-enhanced
organs (liver ~110 HU in portal phase) do not pass for bone; components that are mostly
below the seed level and large (an enhanced vessel touching a calcification) are dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.segment.tissue.morphology import FACES, SLICE_CROSS, Mask, Spacing

SEED_HU = 250.0
LOW_ABOVE_SOFT_HU = 45.0
LOW_MIN_HU, LOW_MAX_HU = 85.0, 200.0
MIN_SEED_FRACTION = 0.03
SEED_FRACTION_CHECK_ML = 20.0
MAX_MARROW_MM2 = 2500.0
NOISE_SIGMAS = 2.5  # a femoral head; larger enclosed areas are the rib cage or pelvis


def soft_tissue_level(hu: npt.NDArray[np.float32], body: Mask) -> float:
    """The most common HU among the body's soft tissue (organs and muscle): ~40-60 without
    contrast, higher with it."""
    values = hu[body]
    values = values[(values > -20) & (values < 200)]
    if values.size == 0:
        return 40.0
    counts, edges = np.histogram(values, bins=np.arange(-20, 201, 5))
    smooth = np.convolve(counts, np.ones(3), mode="same")
    peak = int(np.argmax(smooth))
    return float(edges[peak] + 2.5)


def noise_sigma(hu: npt.NDArray[Any]) -> float:
    """Image noise (HU) from differences of neighbouring soft-tissue voxels on a sample of slices:
    robust to edges, cheap at any size."""
    sample = hu[:, :, :: max(1, hu.shape[2] // 24)].astype(np.float32)
    diff = np.diff(sample, axis=0)
    soft = (np.abs(sample[1:]) < 150) & (np.abs(sample[:-1]) < 150)
    values = diff[soft]
    if values.size < 100:
        return 0.0
    mad = float(np.median(np.abs(values - np.median(values))))
    return float(mad / 0.6745 / np.sqrt(2.0))


def low_threshold(soft_level: float, sigma: float = 0.0) -> float:
    """Above the soft tissue by 45 HU, or by 3 noise sigmas on noisy (thin, low-dose) studies."""
    above = max(LOW_ABOVE_SOFT_HU, NOISE_SIGMAS * sigma)
    return float(np.clip(soft_level + above, LOW_MIN_HU, LOW_MAX_HU))


def bone_zone(
    hu_mean: npt.NDArray[np.float32],
    hu_max: npt.NDArray[np.float32],
    body: Mask,
    spacing: Spacing,
    low: float,
) -> Mask:
    """Blocks that hold bone, on the coarse grid: dense on average, or holding cortex (a thin
    rib dilutes a block's mean; noise does not raise a block's maximum to ``SEED_HU``)."""
    candidate = ((hu_mean > low) | (hu_max > SEED_HU)) & body
    labels, count = ndimage.label(candidate, structure=FACES)
    if count == 0:
        return candidate
    index = np.arange(1, count + 1)
    seeds = ndimage.sum(hu_max > SEED_HU, labels, index)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    volume_ml = sizes * float(np.prod(spacing)) / 1000.0
    keep = (seeds > 0) & (
        (volume_ml < SEED_FRACTION_CHECK_ML) | (seeds >= MIN_SEED_FRACTION * sizes)
    )
    lookup = np.zeros(count + 1, dtype=bool)
    lookup[1:] = keep
    result: Mask = lookup[labels]
    return result


def bone_mask(hu: npt.NDArray[Any], zone: Mask, low: float, spacing: Spacing) -> Mask:
    """Bone at full resolution inside ``zone``: dense voxels, plus small cavities they enclose."""
    dense = (hu > low) & zone
    background, _ = ndimage.label(~dense, structure=SLICE_CROSS)
    sizes = np.bincount(background.ravel())
    max_pixels = MAX_MARROW_MM2 / (spacing[0] * spacing[1])
    edge = np.unique(np.concatenate([
        background[0].ravel(), background[-1].ravel(),
        background[:, 0].ravel(), background[:, -1].ravel(),
    ]))
    small = sizes <= max_pixels
    small[0] = False
    small[edge] = False
    result: Mask = dense | small[background]
    return result
