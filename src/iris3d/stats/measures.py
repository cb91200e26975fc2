"""Per-structure statistics: volumes, surface, Hounsfield units, position."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from iris3d.census import Box
from iris3d.errors import IrisError
from iris3d.histogram import IntegerCounts
from iris3d.mesh.model import StructureMesh
from iris3d.volume import CTVolume, LabelMap

Triple = tuple[float, float, float]


class GridMismatchError(IrisError):
    """The label map and the CT are not on the same voxel grid: resample the labels first."""


@dataclass(frozen=True)
class StructureStats:
    """What Iris reports for one structure. Units are in the names: mm, mL, HU, RAS mm.

    Voxel measures come from the label map; ``mesh_*``, ``triangle_count`` and ``watertight``
    from the structure's mesh (None when it has none). The centroid and bounding box are of the
    voxel centres, in RAS+ millimetres (x Right, y Anterior, z Superior).
    """

    label: int
    name: str
    group: str
    colour: str
    voxel_count: int
    voxel_volume_ml: float
    mesh_volume_ml: float | None
    surface_area_mm2: float | None
    hu_mean: float
    hu_std: float
    hu_median: float
    hu_p5: float
    hu_p95: float
    centroid_ras_mm: Triple
    bbox_min_ras_mm: Triple
    bbox_max_ras_mm: Triple
    triangle_count: int | None
    watertight: bool | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def compute_statistics(
    ct: CTVolume,
    labels: LabelMap,
    meshes: Sequence[StructureMesh] = (),
    *,
    workers: int | None = None,
) -> list[StructureStats]:
    """Statistics of every structure present in ``labels`` (in label-id order).

    HU are read from ``ct`` under each structure's voxels, so both must share one grid. Each
    structure is measured inside its own bounding box (from the label map's census), never over
    the whole volume; structures are measured on ``workers`` threads (numpy releases the GIL).
    """
    if not labels.matches(ct):
        raise GridMismatchError(
            f"the label map ({labels.shape}) and the CT ({ct.shape}) are not on the same voxel "
            "grid: resample the labels to the CT with nearest neighbour first"
        )
    boxes = labels.census.boxes
    by_label = {m.structure.label: m for m in meshes}
    voxel_ml = ct.voxel_volume_ml

    def one(label: int) -> StructureStats:
        box = boxes[label]
        inside = labels.array[box] == label
        hu = hu_summary(ct.array[box][inside])
        return _one(label, labels, hu=hu, centre=_centre(inside, box), box=box,
                    voxel_ml=voxel_ml, mesh=by_label.get(label))

    threads = max(workers or os.cpu_count() or 1, 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, labels.census.present()))


@dataclass(frozen=True)
class HUSummary:
    count: int
    mean: float
    std: float
    median: float
    p5: float
    p95: float


def hu_summary(values: npt.NDArray[np.generic]) -> HUSummary:
    """Count, mean, standard deviation and the 5th, 50th and 95th percentiles (numpy's linear
    interpolation) of a structure's HU. Integer CTs (the usual int16) are summarised from a
    histogram of their values: the same figures without sorting a copy of every voxel (a
    100 M-voxel study's body: 0.5 s of its 2.4 s of statistics)."""
    counted = (IntegerCounts.of(values)
               if values.dtype.kind in "iu" and values.dtype.itemsize <= 2 else None)
    if counted is None:
        hu = np.asarray(values, dtype=np.float64)
        p5, median, p95 = (float(v) for v in np.percentile(hu, [5, 50, 95]))
        return HUSummary(len(values), float(hu.mean()), float(hu.std()), median, p5, p95)
    return HUSummary(counted.n, counted.mean(), counted.std(), counted.percentile(50),
                     counted.percentile(5), counted.percentile(95))


def _centre(inside: npt.NDArray[np.bool_], box: Box) -> npt.NDArray[np.float64]:
    """Mean [i, j, k] of the voxels in ``inside`` (a box at ``box``'s place in the volume), from
    its projections: no index arrays as long as the structure."""
    plane = np.count_nonzero(inside, axis=2)
    along = [plane.sum(axis=1), plane.sum(axis=0), np.count_nonzero(inside, axis=(0, 1))]
    total = max(int(along[0].sum()), 1)
    return np.array([float(np.dot(counts, np.arange(len(counts)))) / total + float(b.start)
                     for counts, b in zip(along, box, strict=True)])


def _one(
    label: int,
    labels: LabelMap,
    *,
    hu: HUSummary,
    centre: npt.NDArray[np.float64],
    box: Box,
    voxel_ml: float,
    mesh: StructureMesh | None,
) -> StructureStats:
    structure = labels.table.get(label)
    last = np.array([[b.start for b in box], [b.stop - 1 for b in box]], dtype=np.float64)
    corners = _ras(labels.affine, last)
    return StructureStats(
        label=label,
        name=structure.name if structure else f"label_{label}",
        group=structure.group if structure else "other",
        colour=structure.colour_hex if structure else "#c8c8c8",
        voxel_count=hu.count,
        voxel_volume_ml=hu.count * voxel_ml,
        mesh_volume_ml=mesh.volume_ml if mesh else None,
        surface_area_mm2=mesh.surface_area_mm2 if mesh else None,
        hu_mean=hu.mean,
        hu_std=hu.std,
        hu_median=hu.median,
        hu_p5=hu.p5,
        hu_p95=hu.p95,
        centroid_ras_mm=_triple(_ras(labels.affine, centre[None, :])[0]),
        bbox_min_ras_mm=_triple(corners.min(axis=0)),
        bbox_max_ras_mm=_triple(corners.max(axis=0)),
        triangle_count=mesh.triangle_count if mesh else None,
        watertight=mesh.closed if mesh else None,
    )


def _ras(affine: npt.NDArray[np.float64], ijk: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    points = np.asarray(ijk, dtype=np.float64)
    if len(points) == 2:  # a box: all eight corners, since the affine may rotate or flip
        lo, hi = points
        points = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1])
                           for c in (lo[2], hi[2])])
    result: npt.NDArray[np.float64] = points @ affine[:3, :3].T + affine[:3, 3]
    return result


def _triple(values: npt.NDArray[np.float64]) -> Triple:
    x, y, z = (round(float(v), 3) for v in values)
    return (x, y, z)
