"""The mesh of one structure in patient space: what export and statistics consume."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import Structure
from iris3d.mesh.measure import signed_volume, surface_area, volume_centroid


@dataclass(frozen=True, eq=False)
class StructureMesh:
    """A closed triangle surface of one labelled structure.

    ``vertices`` are (N, 3) float32 RAS+ millimetres (x Right, y Anterior, z Superior);
    ``faces`` are (M, 3) int32 indices, counter-clockwise seen from outside (normals point out
    of the structure). ``closed`` says the surface is watertight and manifold (printable);
    ``method`` says how it was made: ``surface_nets``, ``interpolated`` (thick slices: marching
    cubes on distances interpolated across them), ``smoothed_field`` for a tissue compartment
    (see :mod:`iris3d.mesh.compartment`), ``redrawn`` for coarse labels redrawn on the CT
    (see :mod:`iris3d.mesh.redraw`) or, where the surface was not manifold,
    ``flying_edges`` (per-structure marching cubes).
    """

    structure: Structure
    vertices: npt.NDArray[np.float32]
    faces: npt.NDArray[np.int32]
    closed: bool
    method: str

    @property
    def triangle_count(self) -> int:
        return len(self.faces)

    @cached_property
    def volume_mm3(self) -> float:
        return signed_volume(self.vertices, self.faces)

    @property
    def volume_ml(self) -> float:
        return self.volume_mm3 / 1000.0

    @cached_property
    def surface_area_mm2(self) -> float:
        return surface_area(self.vertices, self.faces)

    @cached_property
    def centroid_ras(self) -> npt.NDArray[np.float64]:
        """Centre of the enclosed solid, RAS+ mm."""
        return volume_centroid(self.vertices, self.faces)
