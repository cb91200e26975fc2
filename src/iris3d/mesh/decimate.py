"""Error-bounded decimation with meshoptimizer's quadric simplifier."""

from __future__ import annotations

import meshoptimizer
import numpy as np
import numpy.typing as npt

from iris3d.mesh.topology import compact


def decimate(
    vertices: npt.NDArray[np.floating], faces: npt.NDArray[np.integer], max_error: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """As few triangles as keep every vertex within ``max_error`` (vertex units) of the input.

    The simplifier collapses edges in quadric-error order and stops before the error bound;
    topology is preserved, so a closed surface stays closed in all but rare cases (checked by
    the caller). Where it flattens a thin part to nothing (two triangles back to back on the
    same three vertices), the pair is removed: it encloses no volume, and its edges are
    otherwise each shared by four triangles (not manifold).
    """
    v32 = np.ascontiguousarray(vertices, dtype=np.float32)
    indices = np.ascontiguousarray(faces, dtype=np.uint32).ravel()
    if max_error <= 0 or indices.size == 0:
        return np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int32)
    destination = np.empty(indices.size, dtype=np.uint32)
    kept = meshoptimizer.simplify(
        destination,
        indices,
        v32,
        index_count=indices.size,
        vertex_count=len(v32),
        vertex_positions_stride=12,
        target_index_count=0,
        target_error=float(max_error),
        options=meshoptimizer.SIMPLIFY_ERROR_ABSOLUTE,
    )
    simplified = drop_folds(destination[:kept].reshape(-1, 3).astype(np.int64))
    new_vertices, new_faces = compact(np.asarray(vertices, dtype=np.float64), simplified)
    return np.asarray(new_vertices, dtype=np.float64), new_faces


def drop_folds(faces: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``faces`` less every pair of triangles on the same three vertices (a flattened fold)."""
    if len(faces) < 2:
        return faces
    a, b, c = np.sort(faces, axis=1).T
    n = int(faces.max()) + 1
    if n >= 2**21:  # the key below would overflow
        _, inverse, counts = np.unique(np.stack([a, b, c], axis=1), axis=0,
                                       return_inverse=True, return_counts=True)
    else:
        _, inverse, counts = np.unique((a * n + b) * n + c, return_inverse=True,
                                       return_counts=True)
    twice = counts[inverse.ravel()] == 2
    if not twice.any():
        return faces
    kept: npt.NDArray[np.int64] = faces[~twice]
    return kept


