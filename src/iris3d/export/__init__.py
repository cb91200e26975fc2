"""Files a user downloads or the viewer loads: the study GLB, the STL/OBJ bundle, a thumbnail."""

from iris3d.export.bundle import COORDINATES_NOTE, write_mesh_bundle
from iris3d.export.glb import (
    RAS_MM_TO_GLTF,
    SCAN_EDGE,
    SIGNED_DISTANCE,
    AnnotatedMesh,
    encode_glb,
    write_glb,
)
from iris3d.export.glb_read import GlbError, GlbStructure, GlbStudy, read_glb
from iris3d.export.thumbnail import thumbnail_image, write_thumbnail

__all__ = [
    "COORDINATES_NOTE",
    "RAS_MM_TO_GLTF",
    "SCAN_EDGE",
    "SIGNED_DISTANCE",
    "AnnotatedMesh",
    "GlbError",
    "GlbStructure",
    "GlbStudy",
    "encode_glb",
    "read_glb",
    "thumbnail_image",
    "write_glb",
    "write_mesh_bundle",
    "write_thumbnail",
]
