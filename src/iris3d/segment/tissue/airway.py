"""Trachea and main bronchi: the tube of pure air that runs down the midline into the chest.

Found as a component of air below ``LUMEN_HU`` whose top part is a small, roughly round
cross-section near the body's midline; it splits at the carina, and the two branches are the
main bronchi, named by the patient's side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.segment.tissue.morphology import FACES, SLICE_SQUARE, Mask, Spacing

LUMEN_HU = -900.0  # the lumen is air; lung parenchyma sits around -850 and stays out
TOP_MM = 20.0  # how much of the candidate's top is measured
MIN_AREA_MM2, MAX_AREA_MM2 = 40.0, 700.0  # tracheal cross-sections, child to adult
MAX_OFF_MIDLINE_MM = 30.0
MIN_LENGTH_MM = 20.0
MIN_BRANCH_MM2 = 10.0
BRONCHI_MM = 30.0  # how far below the carina the main bronchi are followed
LEAK_FACTOR = 4.0
ABOVE_LUNGS_MM = 10.0  # a cross-section this many times the trachea's means the lumen reached lung


@dataclass(frozen=True)
class Airway:
    trachea: Mask
    bronchus_left: Mask
    bronchus_right: Mask

    @property
    def any(self) -> Mask:
        result: Mask = self.trachea | self.bronchus_left | self.bronchus_right
        return result


def find_airway(
    hu: npt.NDArray[np.float32],
    body: Mask,
    lungs: Mask,
    spacing: Spacing,
    x_mm: npt.NDArray[np.float64],
) -> Airway:
    """``lungs``: lung tissue (either side); ``x_mm[i]``: RAS x (mm, + = patient's right) of
    column i. No lungs in view, no airway: a tube of gas in the abdomen is bowel."""
    empty = np.zeros_like(body)
    if not lungs.any():
        return Airway(empty, empty, empty.copy())
    lumen = (hu < LUMEN_HU) & body
    labels, count = ndimage.label(lumen, structure=FACES)
    if count == 0:
        return Airway(empty, empty, empty.copy())
    pixel_mm2 = spacing[0] * spacing[1]
    # The carina lies above the lungs' widest slice: a tube that starts no higher than that (in an
    # abdominal study, the lung bases are the top slices) is bowel gas, not an airway.
    lung_slices = lungs.sum(axis=(0, 1))
    lowest_top = int(np.argmax(lung_slices)) + max(1, round(ABOVE_LUNGS_MM / spacing[2]))
    lungs_top = int(np.flatnonzero(lung_slices).max())
    best: tuple[int, int] | None = None  # (top slice, label)
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None or box[2].stop <= lowest_top or box[2].start > lungs_top:
            continue  # a trachea starts above the lungs' widest part and reaches down to them
        component = labels[box] == label
        if _looks_like_trachea(component, box, body, spacing=spacing, x_mm=x_mm,
                               pixel_mm2=pixel_mm2):
            top = box[2].stop
            if best is None or top > best[0]:
                best = (top, label)
    if best is None:
        return Airway(empty, empty, empty.copy())
    return _split_at_carina(labels == best[1], spacing, x_mm, pixel_mm2)


def _looks_like_trachea(
    component: Mask,
    box: tuple[slice, ...],
    body: Mask,
    *,
    spacing: Spacing,
    x_mm: npt.NDArray[np.float64],
    pixel_mm2: float,
) -> bool:
    depth = component.shape[2]
    if depth * spacing[2] < MIN_LENGTH_MM:
        return False
    top = max(1, round(TOP_MM / spacing[2]))
    areas = component[:, :, -top:].sum(axis=(0, 1)) * pixel_mm2
    if not (MIN_AREA_MM2 <= float(np.median(areas)) <= MAX_AREA_MM2):
        return False
    ii = np.nonzero(component[:, :, -top:])[0] + box[0].start
    centre_x = float(np.mean(x_mm[ii]))
    body_top = body[:, :, box[2].stop - top: box[2].stop]
    body_x = float(np.mean(x_mm[np.nonzero(body_top)[0]]))
    return abs(centre_x - body_x) <= MAX_OFF_MIDLINE_MM


def _split_at_carina(
    tube: Mask, spacing: Spacing, x_mm: npt.NDArray[np.float64], pixel_mm2: float
) -> Airway:
    """Walk down the tube: one cross-section is trachea; from the first slice with two branches
    (the carina) on, each branch is a main bronchus, on the side of the trachea it lies."""
    pieces, _ = ndimage.label(tube, structure=SLICE_SQUARE)
    trachea = np.zeros_like(tube)
    left, right = np.zeros_like(tube), np.zeros_like(tube)
    trachea_areas: list[float] = []
    midline_x: float | None = None
    carina_k: int | None = None
    for k in np.flatnonzero(tube.any(axis=(0, 1)))[::-1]:
        ids, sizes = np.unique(pieces[:, :, k], return_counts=True)
        branches = [int(i) for i, n in zip(ids, sizes, strict=True)
                    if i and n * pixel_mm2 >= MIN_BRANCH_MM2]
        area = float(np.count_nonzero(tube[:, :, k])) * pixel_mm2
        if not branches:
            continue
        if trachea_areas and area > LEAK_FACTOR * float(np.median(trachea_areas)):
            break  # the lumen threshold reached lung parenchyma: stop before it
        if carina_k is None and len(branches) == 1:
            trachea[:, :, k] = tube[:, :, k]
            trachea_areas.append(area)
            midline_x = float(np.mean(x_mm[np.nonzero(tube[:, :, k])[0]]))
            continue
        if carina_k is None:
            carina_k = int(k)
            if midline_x is None:
                midline_x = float(np.mean(x_mm[np.nonzero(tube[:, :, k])[0]]))
        if (carina_k - k) * spacing[2] > BRONCHI_MM:
            break
        for piece in branches:
            branch = pieces[:, :, k] == piece
            on_right = float(np.mean(x_mm[np.nonzero(branch)[0]])) > (midline_x or 0.0)
            (right if on_right else left)[:, :, k] |= branch
    return Airway(trachea, left, right)
