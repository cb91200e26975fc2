"""Read back the GLBs Iris writes (meshopt-compressed or not): for tests and sanity checks."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meshoptimizer
import numpy as np
import numpy.typing as npt

from iris3d.errors import IrisError


class GlbError(IrisError):
    """The file is not a GLB that Iris can read."""


@dataclass(frozen=True)
class GlbStructure:
    """One structure node: its mesh in RAS+ mm (node transform applied, root's not)."""

    name: str
    group: str
    extras: dict[str, Any]
    vertices_ras: npt.NDArray[np.float64]
    normals: npt.NDArray[np.float32]
    faces: npt.NDArray[np.int64]
    base_colour: tuple[float, float, float, float]
    signed_distance: npt.NDArray[np.float32] | None = None  # the ``_SIGNED_DISTANCE`` attribute
    scan_edge: npt.NDArray[np.bool_] | None = None  # the ``_SCAN_EDGE`` attribute


@dataclass(frozen=True)
class GlbStudy:
    document: dict[str, Any]
    root_matrix: npt.NDArray[np.float64]  # row-major 4x4
    structures: list[GlbStructure]


_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
           5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def read_glb(source: Path | bytes) -> GlbStudy:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data)
    if magic != b"glTF" or version != 2 or length != len(data):
        raise GlbError("not a glTF 2.0 binary file (bad header)")
    offset, doc, binary = 12, None, b""
    while offset < length:
        size, kind = struct.unpack_from("<I4s", data, offset)
        body = data[offset + 8: offset + 8 + size]
        if kind == b"JSON":
            doc = json.loads(body)
        elif kind == b"BIN\0":
            binary = body
        offset += 8 + size
    if doc is None:
        raise GlbError("the GLB has no JSON chunk")
    nodes = doc["nodes"]
    root = nodes[doc["scenes"][doc.get("scene", 0)]["nodes"][0]]
    matrix = np.asarray(root.get("matrix", np.eye(4).ravel()), dtype=np.float64).reshape(4, 4).T
    structures = []
    for group_index in root.get("children", []):
        group = nodes[group_index]
        for child in group.get("children", []):
            structures.append(_structure(doc, binary, nodes[child], group["name"]))
    return GlbStudy(document=doc, root_matrix=matrix, structures=structures)


def _structure(doc: dict[str, Any], binary: bytes, node: dict[str, Any], group: str
               ) -> GlbStructure:
    primitive = doc["meshes"][node["mesh"]]["primitives"][0]
    position = _accessor(doc, binary, primitive["attributes"]["POSITION"]).astype(np.float64)
    normal = _accessor(doc, binary, primitive["attributes"]["NORMAL"])
    if np.issubdtype(normal.dtype, np.integer):
        normal = np.maximum(normal / 127.0, -1.0)
    faces = _accessor(doc, binary, primitive["indices"]).astype(np.int64).reshape(-1, 3)
    distance_index = primitive["attributes"].get("_SIGNED_DISTANCE")
    distance = None if distance_index is None else _accessor(doc, binary, distance_index)
    edge_index = primitive["attributes"].get("_SCAN_EDGE")
    edge = None if edge_index is None else _accessor(doc, binary, edge_index) > 0.5
    scale = np.asarray(node.get("scale", [1, 1, 1]), dtype=np.float64)
    translation = np.asarray(node.get("translation", [0, 0, 0]), dtype=np.float64)
    colour = doc["materials"][primitive["material"]]["pbrMetallicRoughness"]["baseColorFactor"]
    return GlbStructure(
        name=node["name"], group=group, extras=node.get("extras", {}),
        vertices_ras=position * scale + translation, normals=normal.astype(np.float32),
        faces=faces, base_colour=tuple(colour),
        signed_distance=None if distance is None else distance.astype(np.float32),
        scan_edge=edge,
    )


def _accessor(doc: dict[str, Any], binary: bytes, index: int) -> npt.NDArray[Any]:
    accessor = doc["accessors"][index]
    view = doc["bufferViews"][accessor["bufferView"]]
    dtype = np.dtype(_DTYPES[accessor["componentType"]])
    width, count = _WIDTH[accessor["type"]], accessor["count"]
    stride = view.get("byteStride", dtype.itemsize * width)
    meshopt = view.get("extensions", {}).get("EXT_meshopt_compression")
    if meshopt is not None:
        start = meshopt.get("byteOffset", 0)
        encoded = np.frombuffer(binary[start: start + meshopt["byteLength"]], dtype=np.uint8)
        if meshopt["mode"] == "ATTRIBUTES":
            # The wrapper's ``dtype=`` mode under-allocates: take the float32 view's bytes.
            raw = meshoptimizer.decode_vertex_buffer(count, meshopt["byteStride"],
                                                     encoded).tobytes()
        else:
            # The wrapper always returns uint32: decode as 4-byte indices (same stream format).
            decoded = meshoptimizer.decode_index_buffer(count, 4, encoded)
            raw = decoded.astype(dtype).tobytes()
            stride = dtype.itemsize
    else:
        start = view.get("byteOffset", 0)
        raw = binary[start: start + view["byteLength"]]
    rows = np.frombuffer(raw, dtype=np.uint8)[: count * stride].reshape(count, stride)
    item = accessor.get("byteOffset", 0)
    values = rows[:, item: item + dtype.itemsize * width].copy().view(dtype)
    return values.reshape(count, width) if width > 1 else values.reshape(count)
