"""Label maps whose surfaces we know, for the mesh, export and statistics tests."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, Structure
from iris3d.mesh import StructureMesh, build_meshes, printable_meshes
from iris3d.phantom import Phantom, make_phantom
from iris3d.volume import CTVolume, LabelMap

PHANTOM_SHAPE = (128, 112, 96)
PHANTOM_SPACING = (3.0, 3.0, 3.0)


@cache
def phantom() -> Phantom:
    """3 mm voxels: organs of 5 to 800 mL, built in a fraction of a second."""
    return make_phantom(shape=PHANTOM_SHAPE, spacing=PHANTOM_SPACING, noise_hu=15.0, seed=1)


@cache
def phantom_meshes() -> tuple[StructureMesh, ...]:
    p = phantom()
    return tuple(printable_meshes(p.labels, build_meshes(p.labels)))


def reoriented(labels: LabelMap, flips: tuple[int, ...], order: tuple[int, int, int]
               ) -> LabelMap:
    """The same patient stored differently: axes flipped, then permuted, affine to match."""
    array = labels.array
    affine = labels.affine.copy()
    for axis in flips:
        array = np.flip(array, axis=axis)
        flip = np.eye(4)
        flip[axis, axis] = -1.0
        flip[axis, 3] = array.shape[axis] - 1  # new index n is old index (size - 1 - n)
        affine = affine @ flip
    array = np.transpose(array, order)
    permute = np.zeros((4, 4))
    permute[3, 3] = 1.0
    for new_axis, old_axis in enumerate(order):
        permute[old_axis, new_axis] = 1.0  # old index = permute @ new index
    return LabelMap(np.ascontiguousarray(array), affine @ permute, labels.table)


def sphere_labels(radius_mm: float = 20.0, spacing: tuple[float, float, float] = (2.0, 2.0, 2.0),
                  centre_mm: tuple[float, float, float] = (30.0, -20.0, 50.0)) -> LabelMap:
    """One ball labelled 5 ('liver') on a grid whose affine has an offset origin."""
    size = [int(2 * radius_mm / s) + 8 for s in spacing]
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = np.asarray(centre_mm) - (np.asarray(size) - 1) / 2 * np.asarray(spacing)
    ijk = np.indices(size, dtype=np.float64)
    xyz = [affine[a, a] * ijk[a] + affine[a, 3] - centre_mm[a] for a in range(3)]
    inside = xyz[0] ** 2 + xyz[1] ** 2 + xyz[2] ** 2 <= radius_mm**2
    table = LabelTable([Structure(5, "liver", "digestive", (221, 130, 101))])
    return LabelMap(inside.astype(np.uint8) * 5, affine, table)


def touching_blocks() -> LabelMap:
    """Two cubes of one label that touch only along a voxel edge: Surface Nets makes that edge
    non-manifold."""
    array = np.zeros((14, 14, 12), dtype=np.uint8)
    array[2:7, 2:7, 2:9] = 1
    array[7:12, 7:12, 2:9] = 1
    table = LabelTable([Structure(1, "spleen", "digestive", (157, 108, 162))])
    return LabelMap(array, np.diag([2.0, 2.0, 2.0, 1.0]), table)


def ct_like(labels: LabelMap, hu: npt.NDArray[np.int16] | None = None) -> CTVolume:
    array = hu if hu is not None else np.where(labels.array > 0, 40, -1000).astype(np.int16)
    return CTVolume(array=array, affine=labels.affine)
