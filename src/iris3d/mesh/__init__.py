"""Surfaces: one closed, smoothed, decimated triangle mesh per structure, in RAS+ millimetres.

``build_meshes(labels, detail)`` makes them (for the viewer and statistics);
``printable_meshes(labels, meshes, detail)`` makes every one watertight and manifold (for STL);
``mesh_detail(Quality.NORMAL)`` picks the parameters of a quality level.
"""

from iris3d.mesh.build import Progress, build_meshes
from iris3d.mesh.closed import printable_meshes
from iris3d.mesh.detail import (
    FAST,
    HIGH,
    NORMAL,
    QUALITY_LEVELS,
    MeshDetail,
    UnknownQualityError,
    mesh_detail,
)
from iris3d.mesh.model import StructureMesh

__all__ = [
    "FAST",
    "HIGH",
    "NORMAL",
    "QUALITY_LEVELS",
    "MeshDetail",
    "Progress",
    "StructureMesh",
    "UnknownQualityError",
    "build_meshes",
    "mesh_detail",
    "printable_meshes",
]
