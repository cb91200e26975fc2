"""Per-structure downloads: binary STL and OBJ + MTL in LPS millimetres, zipped as one bundle.

LPS (x = patient Left, y = Posterior, z = Superior) is what DICOM and 3D Slicer use, so files
open in place next to the original images; every file says so in its header or comments.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from iris3d.geometry import points_ras_to_lps
from iris3d.mesh.measure import face_normals
from iris3d.mesh.model import StructureMesh

COORDINATES_NOTE = (
    "LPS millimetres (x = patient Left, y = Posterior, z = Superior; DICOM/3D Slicer)"
)

_STL_TRIANGLE = np.dtype([("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def file_stem(mesh: StructureMesh) -> str:
    """``<label>_<name>`` with only safe characters, e.g. ``005_liver``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", mesh.structure.name).strip("._") or "structure"
    return f"{mesh.structure.label:03d}_{name}"


def lps_vertices(mesh: StructureMesh) -> npt.NDArray[np.float64]:
    # RAS -> LPS negates two axes: a rotation, so the winding stays counter-clockwise.
    return np.asarray(points_ras_to_lps(mesh.vertices.astype(np.float64)), dtype=np.float64)


def stl_bytes(mesh: StructureMesh) -> bytes:
    """Binary STL of one structure in LPS mm (normals out of the structure)."""
    vertices = lps_vertices(mesh)
    faces = mesh.faces.astype(np.int64)
    header = f"Iris {mesh.structure.name}: {COORDINATES_NOTE}".encode("ascii", "replace")
    # A header starting with "solid" makes some readers take the file for ASCII STL.
    header = header[:80].ljust(80, b" ")
    records = np.zeros(len(faces), dtype=_STL_TRIANGLE)
    records["normal"] = face_normals(vertices, faces)
    records["corners"] = vertices[faces]
    return header + np.uint32(len(faces)).tobytes() + records.tobytes()


def obj_text(mesh: StructureMesh, material_file: str) -> str:
    """Wavefront OBJ of one structure in LPS mm, using material ``name`` from ``material_file``."""
    s = mesh.structure
    out = io.StringIO()
    out.write(f"# Iris mesh of {s.name} (label {s.label}, group {s.group})\n")
    out.write(f"# Coordinates: {COORDINATES_NOTE}\n")
    out.write(f"mtllib {material_file}\no {s.name}\nusemtl {s.name}\n")
    # One %-format over all rows: the same text as np.savetxt, four times faster (it formats
    # row by row in Python).
    vertices = lps_vertices(mesh)
    out.write(("v %.4f %.4f %.4f\n" * len(vertices)) % tuple(vertices.ravel().tolist()))
    faces = mesh.faces.astype(np.int64) + 1
    out.write(("f %d %d %d\n" * len(faces)) % tuple(faces.ravel().tolist()))
    return out.getvalue()


def mtl_text(mesh: StructureMesh) -> str:
    r, g, b = (c / 255.0 for c in mesh.structure.colour)
    return (f"# Iris material of {mesh.structure.name}\nnewmtl {mesh.structure.name}\n"
            f"Ka 0 0 0\nKd {r:.4f} {g:.4f} {b:.4f}\nKs 0.1 0.1 0.1\nNs 20\nd 1\nillum 2\n")


def _structure_files(mesh: StructureMesh) -> list[tuple[str, bytes | str]]:
    stem = file_stem(mesh)
    return [(f"{stem}.stl", stl_bytes(mesh)), (f"{stem}.obj", obj_text(mesh, f"{stem}.mtl")),
            (f"{stem}.mtl", mtl_text(mesh))]


def write_mesh_bundle(meshes: Sequence[StructureMesh], path: Path) -> int:
    """Zip ``<label>_<name>.stl``, ``.obj`` and ``.mtl`` for every structure, plus a README.

    Pass printable meshes (:func:`iris3d.mesh.printable_meshes`) so that every STL is
    watertight. Returns the archive's size in bytes.
    """
    readme = [
        "Iris mesh bundle: one binary STL and one OBJ (+ MTL colour) per structure.",
        f"Coordinates: {COORDINATES_NOTE}.",
        "Columns: file, structure, label, group, triangles, watertight.",
    ]
    # Level 1: level 6 makes the archive ~11 % smaller in four times the time (meshes of a
    # whole body are 100+ MB of STL and OBJ). The files of the next structure are made on a
    # second thread while this one's are compressed (zlib releases the GIL).
    with (zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
          ThreadPoolExecutor(max_workers=1) as maker):
        upcoming = maker.submit(_structure_files, meshes[0]) if meshes else None
        for n, mesh in enumerate(meshes):
            assert upcoming is not None
            files = upcoming.result()
            # One structure ahead, not all: a whole body's files would all be in memory.
            upcoming = maker.submit(_structure_files, meshes[n + 1]) if n + 1 < len(meshes) \
                else None
            for name, content in files:
                zf.writestr(name, content)
            stem = file_stem(mesh)
            s = mesh.structure
            readme.append(f"{stem}\t{s.name}\t{s.label}\t{s.group}\t{mesh.triangle_count}\t"
                          f"{'yes' if mesh.closed else 'NO'}")
        zf.writestr("README.txt", "\n".join(readme) + "\n")
    return Path(path).stat().st_size
