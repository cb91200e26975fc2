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
    the caller).
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
    simplified = destination[:kept].reshape(-1, 3).astype(np.int64)
    new_vertices, new_faces = compact(np.asarray(vertices, dtype=np.float64), simplified)
    return np.asarray(new_vertices, dtype=np.float64), new_faces
