"""Build a synthetic CT and its ground-truth label map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.anatomy import total_table
from iris3d.phantom.shapes import (
    BODY_RADII,
    BODY_WALL,
    FAT_THICKNESS,
    HU_AIR,
    HU_BONE,
    HU_FAT,
    HU_SOFT,
    LUNG_LOBES,
    ORGANS,
    SPINE_CENTRE_UV,
    SPINE_RADII_UV,
    SPINE_SPAN_W,
    VERTEBRAE_BOTTOM_UP,
    Solid,
)
from iris3d.volume import CTVolume, LabelMap, StudyMetadata

TABLE_HU = 300


@dataclass(frozen=True)
class StructureTruth:
    """What a correct pipeline must find for one structure, measured on the phantom's voxels."""

    label: int
    name: str
    voxel_count: int
    volume_ml: float
    centroid_ras: tuple[float, float, float]
    mean_hu: float


@dataclass(frozen=True, eq=False)
class Phantom:
    ct: CTVolume
    labels: LabelMap
    truth: dict[str, StructureTruth]


@dataclass(frozen=True)
class _Grid:
    """Body-relative coordinates (u, v, w) of every voxel, broadcastable."""

    u: npt.NDArray[np.float32]
    v: npt.NDArray[np.float32]
    w: npt.NDArray[np.float32]


def phantom_affine(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    centre_mm: tuple[float, float, float] = (12.0, -30.0, 150.0),
) -> npt.NDArray[np.float64]:
    """RAS+ affine with the volume's centre at ``centre_mm`` (off the origin, so a lost
    translation shows)."""
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = np.asarray(centre_mm) - (np.asarray(shape) - 1) / 2 * np.asarray(spacing)
    return affine


def make_phantom(
    shape: tuple[int, int, int] = (64, 56, 48),
    spacing: tuple[float, float, float] = (6.0, 6.0, 6.0),
    *,
    noise_hu: float = 0.0,
    seed: int = 0,
    with_table: bool = True,
) -> Phantom:
    """A torso-like CT (RAS+ voxel order) with TotalSegmentator's ids and names as labels.

    Structures scale with the field of view, so any size works: a 48x40x24 grid for unit tests,
    512x512x400 for benchmarks. ``noise_hu`` adds Gaussian noise (seeded) to the CT only.
    """
    if min(shape) < 8:
        raise ValueError(f"a phantom needs at least 8 voxels per axis, got {shape}")
    grid = _body_grid(shape)
    names = total_table()
    hu = np.full(shape, HU_AIR, dtype=np.int16)
    labels = np.zeros(shape, dtype=np.uint8)

    body_r = np.sqrt((grid.u / BODY_RADII[0]) ** 2 + (grid.v / BODY_RADII[1]) ** 2)
    body = body_r <= 1.0  # (nx, ny, 1): the body is a cylinder along z
    # Organs stay inside the body wall (fat, then a layer of muscle), as in a real torso.
    cavity = body_r <= 1.0 - FAT_THICKNESS - BODY_WALL
    hu[np.broadcast_to(body, shape)] = HU_FAT
    hu[np.broadcast_to(body_r <= 1.0 - FAT_THICKNESS, shape)] = HU_SOFT
    if with_table:
        table_top = -BODY_RADII[1] - 0.10
        slab = (grid.v < table_top) & (grid.v > table_top - 0.06) & (np.abs(grid.u) < 0.9)
        hu[np.broadcast_to(slab, shape)] = TABLE_HU

    for solid in ORGANS:
        box = _bounding_box(solid, shape)
        sub = _Grid(u=grid.u[box[0]], v=grid.v[:, box[1]], w=grid.w[..., box[2]])
        inside = _inside(solid, sub) & cavity[box[0], box[1]]
        if solid.name in LUNG_LOBES:
            _paint_lobes(solid, inside, sub, hu[box], labels[box])
        else:
            hu[box][inside] = solid.hu
            labels[box][inside] = names.by_name(solid.name).label
    _paint_spine(grid, hu, labels)

    if noise_hu > 0:
        rng = np.random.default_rng(seed)
        hu = np.clip(hu + rng.normal(0, noise_hu, shape), -1024, 3071).astype(np.int16)
    affine = phantom_affine(shape, spacing)
    ct = CTVolume(
        array=hu,
        affine=affine,
        metadata=StudyMetadata(source_format="phantom", modality="CT",
                               series_description="Iris phantom", number_of_slices=shape[2]),
    )
    present = sorted(int(i) for i in np.unique(labels) if i)
    label_map = LabelMap(array=labels, affine=affine, table=names.subset(present))
    return Phantom(ct=ct, labels=label_map, truth=measure_truth(ct, label_map))


def _body_grid(shape: tuple[int, int, int]) -> _Grid:
    def axis(n: int) -> npt.NDArray[np.float32]:
        return np.linspace(-1.0, 1.0, n, dtype=np.float32)

    nx, ny, nz = shape
    return _Grid(
        u=axis(nx).reshape(nx, 1, 1), v=axis(ny).reshape(1, ny, 1), w=axis(nz).reshape(1, 1, nz)
    )


def _bounding_box(solid: Solid, shape: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """Index ranges that contain the solid: painting inside them only keeps large phantoms fast."""
    box = []
    for centre, radius, n in zip(solid.centre, solid.radii, shape, strict=True):
        low = int(np.floor((centre - radius + 1.0) / 2.0 * (n - 1)))
        high = int(np.ceil((centre + radius + 1.0) / 2.0 * (n - 1))) + 1
        box.append(slice(max(low, 0), min(high, n)))
    return (box[0], box[1], box[2])


def _inside(solid: Solid, grid: _Grid) -> npt.NDArray[np.bool_]:
    (cu, cv, cw), (ru, rv, rw) = solid.centre, solid.radii
    radial = ((grid.u - cu) / ru) ** 2 + ((grid.v - cv) / rv) ** 2
    inside: npt.NDArray[np.bool_]
    if solid.cylinder:
        inside = (radial <= 1.0) & (np.abs(grid.w - cw) <= rw)
    else:
        inside = radial + ((grid.w - cw) / rw) ** 2 <= 1.0
    return inside


def _paint_lobes(
    solid: Solid,
    inside: npt.NDArray[np.bool_],
    grid: _Grid,
    hu: npt.NDArray[np.int16],
    labels: npt.NDArray[np.uint8],
) -> None:
    lobes, boundaries = LUNG_LOBES[solid.name]
    edges = (-np.inf, *boundaries, np.inf)
    table = total_table()
    hu[inside] = solid.hu
    for lobe, low, high in zip(lobes, edges[:-1], edges[1:], strict=True):
        in_lobe = inside & (grid.w >= low) & (grid.w < high)
        labels[in_lobe] = table.by_name(lobe).label


def _paint_spine(grid: _Grid, hu: npt.NDArray[np.int16], labels: npt.NDArray[np.uint8]) -> None:
    """Vertebrae stacked along z with a soft-tissue disc between each; as many as the slices allow
    (at least two slices of bone each), from the sacrum upwards."""
    w = grid.w.ravel()
    in_span = np.flatnonzero((w >= SPINE_SPAN_W[0]) & (w <= SPINE_SPAN_W[1]))
    count = max(1, min(len(VERTEBRAE_BOTTOM_UP), len(in_span) // 3))
    blocks = np.array_split(in_span, count)
    column = Solid("spine", (*SPINE_CENTRE_UV, 0.0), (*SPINE_RADII_UV, 1.0), HU_BONE, True)
    bx, by, _ = _bounding_box(column, hu.shape)
    disc = _inside(column, _Grid(u=grid.u[bx], v=grid.v[:, by], w=grid.w[..., :1]))[..., 0]
    table = total_table()
    for name, block in zip(VERTEBRAE_BOTTOM_UP, blocks, strict=False):
        bone = block[:-1] if len(block) > 2 else block  # the block's last slice is the disc
        bz = slice(int(bone[0]), int(bone[-1]) + 1)
        hu[bx, by, bz][disc] = HU_BONE
        labels[bx, by, bz][disc] = table.by_name(name).label


def measure_truth(ct: CTVolume, labels: LabelMap) -> dict[str, StructureTruth]:
    """Voxel counts, centroids and mean HU, each computed inside the structure's bounding box."""
    truth = {}
    boxes = ndimage.find_objects(labels.array)
    for label in labels.present_ids():
        box = boxes[label - 1]
        assert box is not None
        inside = labels.array[box] == label
        count = int(np.count_nonzero(inside))
        centroid_ijk = [
            start + float(np.dot(np.arange(inside.shape[axis]), inside.sum(axis=others)) / count)
            for axis, start, others in (
                (0, box[0].start, (1, 2)), (1, box[1].start, (0, 2)), (2, box[2].start, (0, 1))
            )
        ]
        x, y, z = labels.affine[:3, :3] @ np.asarray(centroid_ijk) + labels.affine[:3, 3]
        structure = labels.table[label]
        truth[structure.name] = StructureTruth(
            label=label,
            name=structure.name,
            voxel_count=count,
            volume_ml=count * ct.voxel_volume_ml,
            centroid_ras=(float(x), float(y), float(z)),
            mean_hu=float(ct.array[box][inside].mean()),
        )
    return truth
