"""All structures' surfaces in one Surface Nets pass, grouped by label, with their raw measures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.mesh import _vtk
from iris3d.mesh.grid import LabelCrop

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class _Owners:
    """The quads that one side of the faces belongs to, grouped by label: ``order`` indexes
    the quads, ``spans[label]`` is that label's (start, end) in it."""

    order: Ints
    spans: dict[int, tuple[int, int]]

    def of(self, label: int) -> Ints:
        start, end = self.spans.get(label, (0, 0))
        return self.order[start:end]


@dataclass(frozen=True, eq=False)
class LabelledSurfaces:
    """Shared Surface Nets vertices ([i, j, k] of the full volume) and the quads between labels.

    Every quad is counter-clockwise seen from outside the first label of its pair (in voxel
    index space); the second label gets it reversed. ``volume_ijk`` and ``area_ijk`` (by normal
    axis) are each label's raw, unsmoothed surface measures in voxel units.
    """

    points_ijk: npt.NDArray[np.float32]
    quads: npt.NDArray[np.int32]
    first: _Owners
    second: _Owners
    volume_ijk: dict[int, float]
    area_ijk: dict[int, npt.NDArray[np.float64]]

    def quad_count(self, label: int) -> int:
        return len(self.first.of(label)) + len(self.second.of(label))

    def faces(self, label: int) -> npt.NDArray[np.int32]:
        """``label``'s quads, counter-clockwise seen from outside it."""
        own, other = self.first.of(label), self.second.of(label)
        faces = np.empty((len(own) + len(other), 4), dtype=np.int32)
        faces[:len(own)] = self.quads[own]
        faces[len(own):] = self.quads[other][:, ::-1]
        return faces

    def raw_measures(self, label: int, affine: npt.NDArray[np.float64]) -> tuple[float, float]:
        """Enclosed volume (mm^3, the voxel volume) and area (mm^2) of ``label``'s raw surface
        once mapped through ``affine``: exact, since each face is a parallelogram there."""
        linear = affine[:3, :3]
        # A face normal to index axis a spans the other two axes' columns of the affine.
        face_mm2 = [float(np.linalg.norm(np.cross(linear[:, (a + 1) % 3], linear[:, (a + 2) % 3])))
                    for a in range(3)]
        volume = self.volume_ijk.get(label, 0.0) * abs(float(np.linalg.det(linear)))
        area = float(np.dot(self.area_ijk.get(label, np.zeros(3)), face_mm2))
        return volume, area


def extract_surfaces(
    crop: LabelCrop, labels: list[int], threads: int | None = None
) -> LabelledSurfaces:
    """One Surface Nets pass for every label; each face is given to both labels it separates.

    VTK 9.3 does not orient the quads consistently, so each quad is oriented here to face out
    of its first label, and flipped for the second (the structure on the quad's other side).
    """
    points, quads, pairs = _vtk.surface_nets(crop.array, labels, threads)
    faces = _orient(points, quads, pairs, crop)
    volume, area = _per_label(faces, pairs, labels)
    return LabelledSurfaces(points_ijk=crop.to_volume(points), quads=faces.quads,
                            first=_owners(pairs[:, 0]), second=_owners(pairs[:, 1]),
                            volume_ijk=volume, area_ijk=area)


@dataclass(frozen=True, eq=False)
class _Oriented:
    """Quads wound counter-clockwise seen from outside their first label, each with the index
    axis it is normal to, its area and (position . outward normal) x area in full-volume voxel
    units (the terms of the divergence theorem)."""

    quads: npt.NDArray[np.int32]
    axis: npt.NDArray[np.intp]
    area: npt.NDArray[np.float64]
    flux: npt.NDArray[np.float64]


def _orient(
    points: npt.NDArray[np.float32],
    quads: npt.NDArray[np.int32],
    pairs: npt.NDArray[np.int32],
    crop: LabelCrop,
) -> _Oriented:
    # Unsmoothed Surface Nets points sit on voxel corners, so twice their coordinates are
    # integers, and every quad is a unit square between two voxels: (p1 - p0) x (p2 - p0) is
    # the unit normal of its winding (in doubled coordinates, four times it). Step half a voxel
    # against it and read which label is there.
    twice = np.rint(points * 2.0).astype(np.int32)
    p0 = np.take(twice, quads[:, 0], axis=0)
    d01 = np.take(twice, quads[:, 1], axis=0) - p0
    p2 = np.take(twice, quads[:, 2], axis=0)
    d02 = p2 - p0
    normal = np.empty_like(p0)
    for a in range(3):
        b, c = (a + 1) % 3, (a + 2) % 3
        np.subtract(d01[:, b] * d02[:, c], d01[:, c] * d02[:, b], out=normal[:, a])
    normal //= 4
    # Doubled centre minus the normal is the doubled centre of the voxel behind.
    voxel = p0 + p2
    voxel //= 2
    voxel -= normal
    voxel //= 2
    shape = crop.array.shape
    behind = np.take(crop.array.ravel(), (voxel[:, 0] * shape[1] + voxel[:, 1]) * shape[2]
                     + voxel[:, 2])
    flip = behind != pairs[:, 0]
    axis = np.abs(normal).argmax(axis=1)
    if all(knots is None for knots in crop.knots):
        area = np.ones(len(quads))
        along = (p0 * normal).sum(axis=1) * 0.5 + normal @ crop.offset.astype(np.float64)
    else:
        # Where runs were merged, faces are rectangles in the full volume: map two opposite
        # corners there and take the area and the position along the normal from them.
        low = crop.to_volume(p0 * 0.5)
        diagonal = crop.to_volume(p2 * 0.5) - low
        area = np.abs(diagonal[:, 0] * diagonal[:, 1] + diagonal[:, 1] * diagonal[:, 2]
                      + diagonal[:, 2] * diagonal[:, 0]).astype(np.float64)
        along = np.einsum("ij,ij->i", low, normal.astype(np.float32)).astype(np.float64)
    flux = along * area
    flux[flip] *= -1.0  # out of the first label: against the winding's normal where flipped
    return _Oriented(quads=np.where(flip[:, None], quads[:, ::-1], quads), axis=axis,
                     area=area, flux=flux)


def _per_label(
    faces: _Oriented, pairs: npt.NDArray[np.int32], labels: list[int]
) -> tuple[dict[int, float], dict[int, npt.NDArray[np.float64]]]:
    """Per label: enclosed volume and area by normal axis of its raw surface, in voxel units.

    By the divergence theorem, the volume is a third of the sum of the faces' ``flux``
    (counted negatively for the second label, which the face points into).
    """
    ids, dense = _dense(pairs)
    size = len(ids)
    flux = np.bincount(dense[:, 0], faces.flux, size) - np.bincount(dense[:, 1], faces.flux, size)
    key = dense * 3 + faces.axis[:, None]
    by_axis = (np.bincount(key[:, 0], faces.area, 3 * size)
               + np.bincount(key[:, 1], faces.area, 3 * size)).reshape(size, 3)
    where = {int(label): n for n, label in enumerate(ids)}
    wanted = [label for label in labels if label in where]
    return ({label: float(flux[where[label]]) / 3.0 for label in wanted},
            {label: by_axis[where[label]] for label in wanted})


def _dense(pairs: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.intp]]:
    """The label ids present in ``pairs`` (or a range holding them) and ``pairs`` as indices
    into them."""
    top = int(pairs.max(initial=0))
    if top < 2**16:
        return np.arange(top + 1), pairs.astype(np.intp)
    ids, inverse = np.unique(pairs, return_inverse=True)
    return ids, np.asarray(inverse, dtype=np.intp).reshape(pairs.shape)


def _owners(owner: npt.NDArray[np.int32]) -> _Owners:
    if len(owner) == 0:
        return _Owners(order=np.zeros(0, dtype=np.int64), spans={})
    # Small integer keys sort by radix in numpy: linear time for millions of faces.
    top = int(owner.max(initial=0))
    key = owner.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int64)
    order = np.argsort(key, kind="stable")
    grouped = key[order]
    starts = np.concatenate([[0], np.flatnonzero(grouped[1:] != grouped[:-1]) + 1])
    ends = np.append(starts[1:], len(grouped))
    spans = {int(grouped[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}
    return _Owners(order=order, spans=spans)
