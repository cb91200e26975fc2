"""Per-structure volume, mean HU and centroid of one study, each on its own voxel grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.compare.errors import EmptyStudyError, NoCommonStructuresError
from iris3d.mesh.build import structure_of
from iris3d.stats import GridMismatchError
from iris3d.volume import CTVolume, LabelMap


@dataclass(frozen=True)
class StructureMeasure:
    """One structure of one study: volume = voxel count x voxel volume; centroid in RAS+ mm."""

    label: int
    name: str
    group: str
    colour: str
    voxel_count: int
    volume_ml: float
    hu_mean: float
    centroid_ras: npt.NDArray[np.float64]
    # Cut by the scan's field of view: its centroid moves with the scan's coverage, so it says
    # nothing about alignment (follow-ups rarely cover exactly the same range).
    at_scan_edge: bool = False


def measure_structures(ct: CTVolume, labels: LabelMap) -> dict[str, StructureMeasure]:
    """Every structure present in ``labels``, by name (structures are matched across studies
    by name, not id: two engines may number them differently)."""
    if not labels.matches(ct):
        raise GridMismatchError(
            f"the label map ({labels.shape}) and the CT ({ct.shape}) are not on the same voxel "
            "grid: give each study's own labels"
        )
    size = int(labels.array.max(initial=0)) + 1
    counts, hu_sums = np.zeros(size), np.zeros(size)
    ijk_sums = np.zeros((3, size))
    for start, stop in slabs(labels.shape):
        flat = labels.array[start:stop].ravel()
        counts += np.bincount(flat, minlength=size)
        hu_sums += np.bincount(flat, weights=np.asarray(ct.array[start:stop],
                                                        dtype=np.float64).ravel(), minlength=size)
        # Centroids from per-axis sums of indices, one thin slab at a time.
        for axis, (first, n) in enumerate(((start, stop - start), (0, labels.shape[1]),
                                           (0, labels.shape[2]))):
            shape = [1, 1, 1]
            shape[axis] = n
            index = np.arange(first, first + n, dtype=np.float64).reshape(shape)
            ijk_sums[axis] += np.bincount(
                flat, weights=np.broadcast_to(index, (stop - start, *labels.shape[1:])).ravel(),
                minlength=size)
    voxel_ml = ct.voxel_volume_ml
    at_edge = _labels_at_edges(labels.array)
    result: dict[str, StructureMeasure] = {}
    for label in np.flatnonzero(counts[1:]) + 1:
        count = int(counts[label])
        ijk = ijk_sums[:, label] / count
        structure = structure_of(labels, int(label))
        result[structure.name] = StructureMeasure(
            label=int(label),
            name=structure.name,
            group=structure.group,
            colour=structure.colour_hex,
            voxel_count=count,
            volume_ml=count * voxel_ml,
            hu_mean=float(hu_sums[label] / count),
            centroid_ras=labels.affine[:3, :3] @ ijk + labels.affine[:3, 3],
            at_scan_edge=int(label) in at_edge,
        )
    if not result:
        raise EmptyStudyError()
    return result


def _labels_at_edges(array: npt.NDArray[np.integer]) -> set[int]:
    """Labels with a voxel on any of the volume's six faces."""
    faces = [array[0], array[-1], array[:, 0], array[:, -1], array[:, :, 0], array[:, :, -1]]
    return {int(v) for face in faces for v in np.unique(face) if v}


def slabs(shape: tuple[int, int, int], voxels: int = 2**22) -> list[tuple[int, int]]:
    """(start, stop) ranges along the first axis holding about ``voxels`` each: whole-volume
    temporaries of a 512x512x900 scan would take gigabytes."""
    step = max(1, voxels // max(shape[1] * shape[2], 1))
    return [(i, min(i + step, shape[0])) for i in range(0, shape[0], step)]


def common_names(base: dict[str, StructureMeasure], follow: dict[str, StructureMeasure]
                 ) -> list[str]:
    """Names present in both studies, sorted; :class:`NoCommonStructuresError` when none."""
    common = sorted(set(base) & set(follow))
    if not common:
        raise NoCommonStructuresError(
            f"the studies share no structure (base: {', '.join(sorted(base)[:5])}...; "
            f"follow-up: {', '.join(sorted(follow)[:5])}...): were they segmented with the "
            "same label names?"
        )
    return common
