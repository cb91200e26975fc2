"""The built-in tissue engine: Hounsfield units and morphology, no model weights, seconds on CPU."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d import __version__
from iris3d.contracts import EngineName, Quality
from iris3d.contracts.progress import Progress, no_progress
from iris3d.segment.base import SegmentationResult
from iris3d.segment.tissue import table as labels_
from iris3d.segment.tissue.airway import find_airway
from iris3d.segment.tissue.body import body_mask
from iris3d.segment.tissue.bone import (
    bone_mask,
    bone_zone,
    low_threshold,
    noise_sigma,
    soft_tissue_level,
)
from iris3d.segment.tissue.grid import WorkGrid, c_order
from iris3d.segment.tissue.lungs import find_lungs, lung_tissue
from iris3d.segment.tissue.morphology import FACES, Mask, fill_holes_2d
from iris3d.segment.tissue.soft import (
    CORE,
    EDGE,
    GAS_RIM,
    LIMB,
    MUSCLE,
    OUTER,
    OUTSIDE,
    tissue_zones,
)
from iris3d.volume import CTVolume, LabelMap

R = TypeVar("R")

LUNG_HU = -400.0  # at full resolution: aerated lung and its partial-volume rim
LUMEN_HU = -500.0
PURE_AIR_HU = -985.0

# Voxel label from (zone, HU class); HU classes: air, air/tissue mix, fat, soft, dense.
_HU_EDGES = (-500.0, -190.0, -29.0, 151.0)
_B, _S, _V, _M = labels_.BODY, labels_.SUBCUTANEOUS_FAT, labels_.TORSO_FAT, labels_.SKELETAL_MUSCLE
_ZONE_LUT = np.zeros((7, 5), dtype=np.uint8)
_ZONE_LUT[OUTSIDE] = (0, 0, 0, 0, 0)
_ZONE_LUT[EDGE] = (0, _B, _S, _B, _B)
_ZONE_LUT[OUTER] = (_B, _B, _S, _B, _B)
_ZONE_LUT[CORE] = (_B, _B, _V, _B, _B)
_ZONE_LUT[MUSCLE] = (_B, _B, _V, _M, _B)
_ZONE_LUT[LIMB] = (_B, _B, _S, _M, _B)
_ZONE_LUT[GAS_RIM] = (_B, _B, _B, _B, _B)

# Fat, muscle and the rest of the body are HU classes of single voxels: their boundaries are the
# CT's noise at full resolution, and anatomy at a few millimetres. The skeleton is a threshold
# too, meshed on its voxels (only one-voxel noise smoothed away).
COMPARTMENT_MM = 3.0
COMPARTMENTS = {_B: COMPARTMENT_MM, _S: COMPARTMENT_MM, _V: COMPARTMENT_MM,
                _M: COMPARTMENT_MM, labels_.SKELETON: 0.0}


class TissueEngine:
    """Body, lungs (left/right), trachea and main bronchi, skeleton, subcutaneous fat, torso fat
    and skeletal muscle from HU thresholds and morphology. ``quality`` only sets the coarse grid
    (3 mm for ``fastest``, else 2 mm); boundaries are always drawn at the CT's resolution."""

    name = EngineName.TISSUE

    def segment(
        self, volume: CTVolume, quality: Quality, progress: Progress = no_progress
    ) -> SegmentationResult:
        timings: dict[str, float] = {}

        def step(name: str, fraction: float, run: Callable[[], R]) -> R:
            progress(fraction, name)
            start = time.perf_counter()
            result = run()
            timings[name] = round(time.perf_counter() - start, 3)
            return result

        # NIfTI volumes arrive in Fortran order and the labels are made in C order: mixing the
        # two in full-resolution operations walks memory with a stride (the classification of a
        # 512x512x400 study took 7 s, not 0.6). One copy in C order makes them all fast.
        hu = step("layout", 0.0, lambda: c_order(volume.array))
        target = 3.0 if quality is Quality.FASTEST else 2.0
        grid = WorkGrid.for_volume(volume.shape, volume.spacing, target)
        coarse = step("downsample", 0.0, lambda: (grid.mean(hu), grid.max(hu)))
        mean_hu, max_hu = coarse
        spacing = grid.spacing
        x_mm, y_mm = _axis_positions(volume.affine, grid)
        body = step("body", 0.15, lambda: body_mask(mean_hu, spacing))
        tissue = step("lungs", 0.3, lambda: lung_tissue(mean_hu, body, spacing))
        airway = step("airway", 0.4, lambda: find_airway(mean_hu, body, tissue, spacing, x_mm))
        lungs = step("sides", 0.5, lambda: find_lungs(tissue, body, airway.any, spacing, x_mm))
        body |= lungs[0] | lungs[1]
        sigma = noise_sigma(hu)
        low = low_threshold(soft_tissue_level(mean_hu, body), sigma)
        zone = step("bone", 0.55, lambda: bone_zone(mean_hu, max_hu, body, spacing, low))
        zones = step("tissue zones", 0.6, lambda: tissue_zones(
            mean_hu, body, lungs=lungs[0] | lungs[1] | airway.any, bone=zone, spacing=spacing,
            x_mm=x_mm, y_mm=y_mm))
        labels = step("classify", 0.75, lambda: _classify(hu, grid.up(zones).astype(np.uint8)))

        def refine() -> None:
            def bone(h: npt.NDArray[Any], region: Mask) -> Mask:
                return bone_mask(h, region, low, volume.spacing)

            def lumen(h: npt.NDArray[Any], region: Mask) -> Mask:
                result: Mask = (h < LUMEN_HU) & region
                return result

            _paint(labels, hu, grid, zone, label=labels_.SKELETON, select=bone)
            for side, mask in ((labels_.LUNG_LEFT, lungs[0]), (labels_.LUNG_RIGHT, lungs[1])):
                _paint(labels, hu, grid, mask, label=side, select=_lung)
            for side, mask in ((labels_.TRACHEA, airway.trachea),
                               (labels_.BRONCHUS_LEFT, airway.bronchus_left),
                               (labels_.BRONCHUS_RIGHT, airway.bronchus_right)):
                _paint(labels, hu, grid, mask, label=side, select=lumen)

        step("refine", 0.85, refine)
        progress(1.0, "done")
        table = labels_.tissue_table()
        return SegmentationResult(
            labels=LabelMap(array=labels, affine=volume.affine, table=table),
            engine=self.name,
            engine_version=__version__,
            device="cpu",
            parameters={
                "quality": quality.value,
                "grid_mm": [round(s, 3) for s in spacing],
                "bone_threshold_hu": low,
                "noise_hu": round(sigma, 1),
            },
            timings_s={**timings, "total": round(sum(timings.values()), 3)},
            compartments=dict(COMPARTMENTS),
        )


def _axis_positions(
    affine: npt.NDArray[np.float64], grid: WorkGrid
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """RAS x of each coarse column and RAS y of each coarse row (block centres); the volume is in
    closest-canonical RAS order, so column i runs along x and row j along y."""
    (fx, fy, _), (nx, ny, _) = grid.factors, grid.shape
    i = np.arange(nx) * fx + (fx - 1) / 2
    j = np.arange(ny) * fy + (fy - 1) / 2
    return affine[0, 0] * i + affine[0, 3], affine[1, 1] * j + affine[1, 3]


def _classify(hu: npt.NDArray[Any], zones: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    index = zones * np.uint8(_ZONE_LUT.shape[1])
    for edge in _HU_EDGES:
        index += hu >= edge
    labels: npt.NDArray[np.uint8] = _ZONE_LUT.ravel()[index]
    return labels


def _lung(hu: npt.NDArray[Any], region: Mask) -> Mask:
    """Aerated voxels, with the vessels (and any pure-air pockets) each slice of lung encloses,
    as TotalSegmentator's lungs include them; pure air beside a lung is outside it."""
    result: Mask = fill_holes_2d((hu < LUNG_HU) & (hu > PURE_AIR_HU) & region) & region
    return result


def _paint(
    labels: npt.NDArray[np.uint8],
    hu: npt.NDArray[Any],
    grid: WorkGrid,
    coarse: Mask,
    *,
    label: int,
    select: Callable[[npt.NDArray[Any], Mask], Mask],
) -> None:
    """Redraw ``coarse`` at full resolution: within one coarse voxel of it, ``select`` picks the
    CT voxels that belong, from their own HU."""
    if not coarse.any():
        return
    region = ndimage.binary_dilation(coarse, structure=FACES)
    boxes = ndimage.find_objects(region.astype(np.uint8))
    full = grid.full_box(boxes[0])
    inside = select(hu[full], grid.up(region, full).astype(bool, copy=False))
    labels[full][inside] = label
