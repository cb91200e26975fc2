"""One binary glTF (GLB) per study, written directly (no glTF library).

Layout: a root node maps RAS+ millimetres to glTF's Y-up metres (x = -R, y = S, z = A, scaled
by 0.001), so three.js's default camera (on +Z, looking down -Z) sees the patient from the
front, head up. Under it, one node per anatomical group, and under those one node per
structure named with the structure's name, carrying its mesh and a material of its colour.
Positions are quantized to 16 bits per structure (KHR_mesh_quantization; the structure node's
scale and translation restore millimetres), normals to 8 bits, and every buffer view is
compressed with EXT_meshopt_compression (three.js: ``GLTFLoader.setMeshoptDecoder``).
``plain=True`` writes the same scene with no extension at all (float positions in millimetres,
float normals, uncompressed), for tools that cannot decode those.

A structure given as an :class:`AnnotatedMesh` may carry a float32 value per vertex, written as
the application attribute ``_SIGNED_DISTANCE`` (millimetres, losslessly meshopt-encoded; three.js
exposes it as ``geometry.attributes._signed_distance``), and more ``extras`` on its node.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meshoptimizer
import numpy as np
import numpy.typing as npt

from iris3d.anatomy import GROUPS
from iris3d.mesh.measure import vertex_normals
from iris3d.mesh.model import StructureMesh

RAS_MM_TO_GLTF: npt.NDArray[np.float64] = np.array(
    [[-0.001, 0, 0, 0], [0, 0, 0.001, 0], [0, 0.001, 0, 0], [0, 0, 0, 1.0]]
)
"""The root node's matrix: glTF (x, y, z) = 0.001 * (-R, S, A). A rotation (determinant > 0):
windings stay as they are."""

_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_UNSIGNED_SHORT, _UNSIGNED_INT, _BYTE = 5123, 5125, 5120
_MESHOPT = "EXT_meshopt_compression"
_QUANTIZATION = "KHR_mesh_quantization"
_FLOAT = 5126
SIGNED_DISTANCE = "_SIGNED_DISTANCE"
"""The vertex attribute holding signed distances in mm (glTF: application attributes start
with an underscore)."""
SCAN_EDGE = "_SCAN_EDGE"
"""1.0 where a vertex lies at a scan's edge (its distance measures the cut, not a change)."""


@dataclass(frozen=True, eq=False)
class AnnotatedMesh:
    """A structure's mesh with per-vertex signed distances (mm, or None) and node extras."""

    mesh: StructureMesh
    signed_distance_mm: npt.NDArray[np.float32] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    scan_edge: npt.NDArray[np.bool_] | None = None  # vertices whose distance is not a change

    def __post_init__(self) -> None:
        values = self.signed_distance_mm
        if values is not None and (values.shape != (len(self.mesh.vertices),)
                                   or not np.isfinite(values).all()):
            raise ValueError("signed distances must be finite, one per vertex")
        if self.scan_edge is not None and (values is None
                                           or self.scan_edge.shape != values.shape):
            raise ValueError("scan-edge flags go with signed distances, one per vertex")


def write_glb(meshes: Sequence[StructureMesh | AnnotatedMesh], path: Path, *,
              compress: bool = True, plain: bool = False) -> int:
    """Write the study's GLB to ``path``; returns its size in bytes."""
    data = encode_glb(meshes, compress=compress, plain=plain)
    Path(path).write_bytes(data)
    return len(data)


def encode_glb(meshes: Sequence[StructureMesh | AnnotatedMesh], *, compress: bool = True,
               plain: bool = False) -> bytes:
    """The GLB bytes for ``meshes`` (meshopt-compressed unless ``compress`` is False).

    ``plain``: no extensions at all (float positions and normals, nothing compressed), for
    tools without a meshopt decoder or quantization support (some Blender versions, Windows
    3D Viewer, many web viewers); about three times the size of the compressed file.
    """
    builder = _Builder(compress=compress and not plain, quantize=not plain)
    root_children: list[int] = []
    items = [m if isinstance(m, AnnotatedMesh) else AnnotatedMesh(m) for m in meshes]
    for group in GROUPS:
        members = [m for m in items if m.mesh.structure.group == group]
        if members:
            children = [builder.add_structure(m) for m in members]
            root_children.append(builder.add_node({"name": group, "children": children}))
    root = builder.add_node({
        "name": "patient",
        "matrix": [float(x) for x in RAS_MM_TO_GLTF.T.ravel()],  # glTF matrices are column-major
        "children": root_children,
        "extras": {"coordinates": "children in RAS+ millimetres; this node maps them to glTF "
                                  "Y-up metres: x = -R, y = S, z = A, x 0.001"},
    })
    return builder.finish(root)


def _srgb_to_linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _pad4(data: bytes, fill: bytes = b"\0") -> bytes:
    return data + fill * (-len(data) % 4)


@dataclass
class _Builder:
    compress: bool
    quantize: bool = True
    doc: dict[str, Any] = field(default_factory=lambda: {
        "asset": {"version": "2.0", "generator": "Iris"},
        "nodes": [], "meshes": [], "materials": [], "accessors": [], "bufferViews": [],
    })
    payload: bytearray = field(default_factory=bytearray)  # buffer 0: the GLB's BIN chunk
    fallback_length: int = 0  # buffer 1: the decompressed size, never stored

    def add_node(self, node: dict[str, Any]) -> int:
        self.doc["nodes"].append(node)
        return len(self.doc["nodes"]) - 1

    def add_structure(self, item: AnnotatedMesh) -> int:
        mesh = item.mesh
        s = mesh.structure
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        faces = np.asarray(mesh.faces, dtype=np.uint32)
        faces, vertices, normals, kept = _optimise(faces, vertices)
        if self.quantize:
            position, normal, placement = self._quantized(vertices, normals)
        else:
            position, normal, placement = self._floats(vertices, normals)
        index_type = np.uint16 if len(vertices) <= 65535 else np.uint32
        indices = self._accessor(
            faces.astype(index_type).ravel(), stride=np.dtype(index_type).itemsize,
            component=_UNSIGNED_SHORT if index_type is np.uint16 else _UNSIGNED_INT,
            kind="SCALAR", target=_ELEMENT_ARRAY_BUFFER, extra={})
        attributes = {"POSITION": position, "NORMAL": normal}
        if item.signed_distance_mm is not None:
            values = np.asarray(item.signed_distance_mm, dtype=np.float32)[kept]
            attributes[SIGNED_DISTANCE] = self._accessor(
                values, stride=4, component=_FLOAT, kind="SCALAR", target=_ARRAY_BUFFER,
                extra={})
        if item.scan_edge is not None and item.scan_edge.any():
            flags = np.asarray(item.scan_edge, dtype=np.float32)[kept]
            attributes[SCAN_EDGE] = self._accessor(
                flags, stride=4, component=_FLOAT, kind="SCALAR", target=_ARRAY_BUFFER, extra={})
        r, g, b = (_srgb_to_linear(c) for c in s.colour)
        self.doc["materials"].append({
            "name": s.name,
            "pbrMetallicRoughness": {"baseColorFactor": [r, g, b, 1.0], "metallicFactor": 0.0,
                                     "roughnessFactor": 0.6},
        })
        self.doc["meshes"].append({"name": s.name, "primitives": [{
            "attributes": attributes,
            "indices": indices, "material": len(self.doc["materials"]) - 1, "mode": 4,
        }]})
        return self.add_node({
            "name": s.name,
            "mesh": len(self.doc["meshes"]) - 1,
            **placement,
            "extras": {"label": s.label, "group": s.group, "colour": s.colour_hex,
                       "display_name": s.display_name, **item.extras},
        })

    def _quantized(self, vertices: npt.NDArray[np.float64], normals: npt.NDArray[np.float32]
                   ) -> tuple[int, int, dict[str, Any]]:
        """16-bit positions (the node's scale and translation restore millimetres) and 8-bit
        normals (KHR_mesh_quantization)."""
        low = vertices.min(axis=0) if len(vertices) else np.zeros(3)
        extent = float((vertices.max(axis=0) - low).max()) if len(vertices) else 0.0
        step = max(extent / 65535.0, 1e-6)
        quantized = np.zeros((len(vertices), 4), dtype=np.uint16)  # 4th: padding to 8 bytes
        quantized[:, :3] = np.clip(np.rint((vertices - low) / step), 0, 65535)
        packed_normals = np.zeros((len(vertices), 4), dtype=np.int8)
        packed_normals[:, :3] = np.clip(np.rint(normals * 127.0), -127, 127)
        position = self._accessor(quantized, stride=8, component=_UNSIGNED_SHORT, kind="VEC3",
                                  target=_ARRAY_BUFFER, extra={
            "min": [int(v) for v in quantized[:, :3].min(axis=0)] if len(vertices) else [0] * 3,
            "max": [int(v) for v in quantized[:, :3].max(axis=0)] if len(vertices) else [0] * 3,
        })
        normal = self._accessor(packed_normals, stride=4, component=_BYTE, kind="VEC3",
                                target=_ARRAY_BUFFER, extra={"normalized": True})
        return position, normal, {"translation": [float(v) for v in low],
                                  "scale": [step, step, step]}

    def _floats(self, vertices: npt.NDArray[np.float64], normals: npt.NDArray[np.float32]
                ) -> tuple[int, int, dict[str, Any]]:
        """Float millimetre positions and float unit normals: core glTF, no extension."""
        position = np.ascontiguousarray(vertices, dtype=np.float32)
        unit = np.asarray(normals, dtype=np.float64)
        # The validator checks that float normals have unit length.
        unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
        bounds = {"min": [float(v) for v in position.min(axis=0)],
                  "max": [float(v) for v in position.max(axis=0)]} if len(position) else {
                      "min": [0.0] * 3, "max": [0.0] * 3}
        accessor = self._accessor(position, stride=12, component=_FLOAT, kind="VEC3",
                                  target=_ARRAY_BUFFER, extra=bounds)
        normal = self._accessor(np.ascontiguousarray(unit, dtype=np.float32), stride=12,
                                component=_FLOAT, kind="VEC3", target=_ARRAY_BUFFER, extra={})
        return accessor, normal, {}

    def _accessor(self, array: npt.NDArray[Any], *, stride: int, component: int, kind: str,
                  target: int, extra: dict[str, Any]) -> int:
        count = len(array)
        raw = np.ascontiguousarray(array).tobytes()
        view: dict[str, Any] = {"byteLength": len(raw), "target": target}
        if target == _ARRAY_BUFFER:
            view["byteStride"] = stride
        if self.compress and count:
            if target == _ARRAY_BUFFER:
                meshoptimizer.encode_vertex_version(0)  # the version EXT_meshopt reads
                encoded = meshoptimizer.encode_vertex_buffer(
                    np.ascontiguousarray(array), count, stride)
                mode = "ATTRIBUTES"
            else:
                meshoptimizer.encode_index_version(1)
                encoded = meshoptimizer.encode_index_buffer(
                    np.ascontiguousarray(array, dtype=np.uint32), count, int(array.max()) + 1)
                mode = "TRIANGLES"
            view.update(buffer=1, byteOffset=self.fallback_length)
            view["extensions"] = {_MESHOPT: {
                "buffer": 0, "byteOffset": len(self.payload), "byteLength": len(encoded),
                "byteStride": stride, "count": count, "mode": mode}}
            self.payload += _pad4(encoded)
            self.fallback_length += len(_pad4(raw))
        else:
            view.update(buffer=0, byteOffset=len(self.payload))
            self.payload += _pad4(raw)
        self.doc["bufferViews"].append(view)
        accessor = {"bufferView": len(self.doc["bufferViews"]) - 1, "componentType": component,
                    "count": count, "type": kind, **extra}
        self.doc["accessors"].append(accessor)
        return len(self.doc["accessors"]) - 1

    def finish(self, root: int) -> bytes:
        doc = self.doc
        doc["scene"] = 0
        doc["scenes"] = [{"name": "study", "nodes": [root]}]
        doc["buffers"] = [{"byteLength": len(self.payload)}]
        used = [_QUANTIZATION] if self.quantize else []
        if self.fallback_length:
            doc["buffers"].append({"byteLength": self.fallback_length,
                                   "extensions": {_MESHOPT: {"fallback": True}}})
            used.append(_MESHOPT)
        if not doc["meshes"]:
            used = []
            for key in ("meshes", "materials", "accessors", "bufferViews"):
                del doc[key]
            if not self.payload:
                del doc["buffers"]
        if used:
            doc["extensionsUsed"] = used
            doc["extensionsRequired"] = used
        text = _pad4(json.dumps(doc, separators=(",", ":")).encode(), b" ")
        chunks = struct.pack("<I4s", len(text), b"JSON") + text
        if self.payload:
            chunks += struct.pack("<I4s", len(self.payload), b"BIN\0") + bytes(self.payload)
        return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def _optimise(faces: npt.NDArray[np.uint32], vertices: npt.NDArray[np.float64]) -> tuple[
    npt.NDArray[np.uint32], npt.NDArray[np.float64], npt.NDArray[np.float32],
    npt.NDArray[np.intp]
]:
    """Reorder triangles for the GPU's vertex cache and vertices by first use: faster drawing
    and much better compression. Returns (faces, vertices, unit normals, and for each new
    vertex the index of the old one)."""
    if len(faces) == 0:
        return (faces.reshape(-1, 3), vertices, np.zeros((len(vertices), 3), dtype=np.float32),
                np.arange(len(vertices)))
    flat = np.ascontiguousarray(faces.ravel(), dtype=np.uint32)
    cached = np.empty_like(flat)
    meshoptimizer.optimize_vertex_cache(cached, flat, flat.size, len(vertices))
    order = np.full(len(vertices), -1, dtype=np.int64)
    first_use = cached[np.sort(np.unique(cached, return_index=True)[1])]
    order[first_use] = np.arange(len(first_use))
    new_faces = order[cached].astype(np.uint32).reshape(-1, 3)
    new_vertices = vertices[first_use]
    return new_faces, new_vertices, vertex_normals(new_vertices, new_faces), \
        first_use.astype(np.intp)
