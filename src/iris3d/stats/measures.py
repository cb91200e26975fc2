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
        return _one(label, labels, hu=_HU(ct.array[box][inside]), centre=_centre(inside, box),
                    box=box, voxel_ml=voxel_ml, mesh=by_label.get(label))

    threads = max(workers or os.cpu_count() or 1, 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, labels.census.present()))


class _HU:
    """One structure's HU values and their mean, standard deviation and percentiles. An integer
    CT's are kept as integers (no float copy): the sums are exact and the percentiles are
    numpy's (the same order statistics, interpolated the same way)."""

    def __init__(self, values: npt.NDArray[np.generic]) -> None:
        # A gathered copy of the CT's values, the structure's own: sorted in place below.
        self.count = len(values)
        # int32 holds any int16 or uint16 HU and their differences (numpy's interpolation).
        self._integral = values.dtype.kind in "iu" and values.dtype.itemsize <= 2
        self.values: npt.NDArray[np.int32] | npt.NDArray[np.float64] = (
            values.astype(np.int32) if self._integral else values.astype(np.float64))

    def mean_and_std(self) -> tuple[float, float]:
        if not self._integral:
            return float(self.values.mean()), float(self.values.std())
        n = self.count
        total = int(self.values.sum(dtype=np.int64))
        as_int = np.asarray(self.values, dtype=np.int32)
        squares = int(np.einsum("i,i->", as_int, as_int, dtype=np.int64))
        # Python's integers and true division: exact sums, one rounding.
        return total / n, float(np.sqrt((squares * n - total * total) / (n * n)))

    def percentiles(self, q: list[float]) -> list[float]:
        found = np.percentile(self.values, q, overwrite_input=True)
        return [float(v) for v in found]


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
    hu: _HU,
    centre: npt.NDArray[np.float64],
    box: Box,
    voxel_ml: float,
    mesh: StructureMesh | None,
) -> StructureStats:
    structure = labels.table.get(label)
    mean, std = hu.mean_and_std()
    p5, median, p95 = hu.percentiles([5, 50, 95])
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
        hu_mean=mean,
        hu_std=std,
        hu_median=median,
        hu_p5=p5,
        hu_p95=p95,
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
