"""Shapes on a 0.75 x 0.75 x 1.5 mm CT whose labels come from a 3 mm grid (the ``fast``
model's output resampled with nearest neighbour), and what the mesh tests measure on them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, Structure
from iris3d.mesh import HIGH, build_meshes, printable_meshes
from iris3d.mesh.model import StructureMesh
from iris3d.volume import CTVolume, LabelMap

Points = npt.NDArray[np.float64]
SPACING = np.array([0.75, 0.75, 1.5])
LABEL_MM = 3.0
START, END, RADIUS = np.array([-20.0, -14.0, -16.0]), np.array([20.0, 13.0, 15.0]), 1.5


def tube(points: Points, radius: float = RADIUS) -> npt.NDArray[np.float64]:
    """Signed distance (mm) to an oblique tube (3 mm wide) with round ends."""
    axis = END - START
    t = np.clip((points - START) @ axis / (axis @ axis), 0.0, 1.0)
    return np.asarray(np.linalg.norm(points - START - t[:, None] * axis, axis=1) - radius)


def beads(points: Points) -> npt.NDArray[np.float64]:
    """A 5 mm tube cut by 4 mm gaps every 10 mm along it: how a thin bone thresholded on a
    scan that blurs it can look."""
    axis = (END - START) / np.linalg.norm(END - START)
    along = (points - START) @ axis
    gap = 2.0 - np.abs(np.mod(along, 10.0) - 5.0)  # > 0 within 2 mm of a gap's middle
    return np.maximum(tube(points, 2.5), gap)


def scene(contrast_hu: float, affine_signs: tuple[float, float, float] = (1.0, 1.0, 1.0),
          shown: Callable[[Points], npt.NDArray[np.float64]] = tube,
          labelled: Callable[[Points], npt.NDArray[np.float64]] = tube,
          ) -> tuple[LabelMap, CTVolume]:
    """A shape on a 0.75 x 0.75 x 1.5 mm CT (partial volumes, 10 HU noise) whose labels come
    from a 3 mm grid resampled with nearest neighbour (the ``fast`` model's output).
    ``affine_signs``: flip index axes (the patient's geometry stays the same); ``shown``:
    the shape the CT shows, ``labelled`` the one the labels hold."""
    counts = np.ceil(60.0 / SPACING).astype(int)
    signs = np.asarray(affine_signs)
    affine = np.diag([*(SPACING * signs), 1.0])
    affine[:3, 3] = -signs * (counts - 1) / 2 * SPACING + np.array([0.13, -0.21, 0.37])
    index = np.indices(tuple(counts), dtype=np.float64).reshape(3, -1).T
    centres = index @ affine[:3, :3].T + affine[:3, 3]
    fraction = _fraction(shown, centres, SPACING)
    rng = np.random.default_rng(11)
    hu = 40.0 + contrast_hu * fraction + rng.normal(0.0, 10.0, len(centres))
    coarse = np.floor(centres / LABEL_MM + 0.5) * LABEL_MM  # each voxel's 3 mm cell centre
    labels = (labelled(coarse) < 0).astype(np.uint8).reshape(tuple(counts))
    table = LabelTable([Structure(1, "rib_left_5", "skeleton", (220, 210, 190))])
    return (LabelMap(labels, affine, table),
            CTVolume(hu.reshape(tuple(counts)).astype(np.float32), affine))


def _fraction(sdf: Callable[[Points], npt.NDArray[np.float64]], centres: Points,
              step: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    sub = np.stack(np.meshgrid(*[((np.arange(4) + 0.5) / 4 - 0.5) * s for s in step],
                               indexing="ij"), -1).reshape(-1, 3)
    out = np.empty(len(centres))
    for start in range(0, len(centres), 20000):
        chunk = centres[start:start + 20000]
        out[start:start + 20000] = (sdf((chunk[:, None] + sub[None]).reshape(-1, 3)) < 0
                                    ).reshape(len(chunk), -1).mean(axis=1)
    return out


def meshed(labels: LabelMap, ct: CTVolume | None) -> StructureMesh:
    given = {} if ct is None else {"ct": ct}
    meshes = printable_meshes(labels, build_meshes(labels, HIGH, **given), HIGH, **given)
    assert len(meshes) == 1
    return meshes[0]


def rms_mm(mesh: StructureMesh) -> float:
    return float(np.sqrt(np.mean(tube(mesh.vertices.astype(np.float64)) ** 2)))


def components(mesh: StructureMesh) -> int:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    f = mesh.faces.astype(np.int64)
    n = len(mesh.vertices)
    graph = coo_matrix((np.ones(f.size), (f.ravel(), np.roll(f, -1, axis=1).ravel())),
                       shape=(n, n))
    return int(connected_components(graph, directed=False)[0])
