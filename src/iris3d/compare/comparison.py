"""Compare two studies of one patient in memory: register, score, measure, map distances."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from iris3d.compare.alignment import Alignment, assess_alignment
from iris3d.compare.distance import (
    DistanceSummary,
    inside_both_scans,
    structure_boxes,
    summarise,
    surface_samples,
    surface_signed_distance,
)
from iris3d.compare.measure import StructureMeasure, common_names, measure_structures
from iris3d.compare.register import Metric, Registration, register_studies
from iris3d.compare.table import StructureChange, change_table
from iris3d.contracts import Stage
from iris3d.export import AnnotatedMesh
from iris3d.geometry import transform_points
from iris3d.mesh import FAST, MeshDetail, StructureMesh, build_meshes
from iris3d.volume import CTVolume, LabelMap

Phase = Callable[[Stage, float, str], None]
"""Told (stage, fraction, message) as work goes on; the stage is REGISTER or COMPARE."""


def _quiet(phase: Stage, fraction: float, message: str) -> None:
    """A :data:`Phase` that drops everything."""


@dataclass(frozen=True, eq=False)
class Comparison:
    """The follow-up study against the base study, organ by organ.

    ``meshes`` are the follow-up's structures moved into the base's RAS+ frame, each with its
    signed distances to the base's surface (structures in both studies) and node extras.
    """

    registration: Registration
    alignment: Alignment
    changes: list[StructureChange]
    meshes: list[AnnotatedMesh]
    timings_s: dict[Stage, float] = field(default_factory=dict)

    def summary(self, top: int = 5) -> dict[str, object]:
        statuses = [c.status for c in self.changes]
        return {
            "alignment": self.alignment.verdict,
            "message": self.alignment.message,
            "median_dice": round(self.alignment.median_dice, 4),
            "structures": {s: statuses.count(s) for s in ("both", "appeared", "disappeared")},
            "largest_changes": [
                {"name": c.name, "status": c.status, "change_ml": round(c.change_ml, 3),
                 "change_percent": None if c.change_percent is None else
                 round(c.change_percent, 2)}
                for c in self.changes[:top]
            ],
        }


def compare_volumes(
    base_ct: CTVolume,
    base_labels: LabelMap,
    follow_ct: CTVolume,
    follow_labels: LabelMap,
    *,
    affine: bool = False,
    metric: Metric = "mattes",
    detail: MeshDetail = FAST,
    phase: Phase = _quiet,
) -> Comparison:
    """Align the follow-up to the base, then measure every structure's change.

    Each study's labels must lie on its own CT's grid. ``detail`` is the follow-up meshes'
    level (the pipeline's default, ``fast``, unless told otherwise).
    """
    timings: dict[Stage, float] = {}
    started = time.perf_counter()
    base = measure_structures(base_ct, base_labels)
    follow = measure_structures(follow_ct, follow_labels)
    common_names(base, follow)
    phase(Stage.REGISTER, 0.05, f"aligning on {len(set(base) & set(follow))} shared structures")
    registration = register_studies(base_ct, base, follow_ct, follow, affine=affine,
                                    metric=metric)
    phase(Stage.REGISTER, 0.8, "checking the alignment")
    alignment = assess_alignment(base_labels, base, follow_labels, follow, registration.matrix)
    phase(Stage.REGISTER, 1.0, alignment.message)
    timings[Stage.REGISTER] = time.perf_counter() - started

    started = time.perf_counter()
    phase(Stage.COMPARE, 0.0, "building the follow-up's surfaces")
    meshes = build_meshes(follow_labels, detail, progress=lambda done, total: phase(
        Stage.COMPARE, 0.6 * done / max(total, 1), f"surfaces {done}/{total}"))
    moved = [_moved(m, registration.matrix) for m in meshes]
    phase(Stage.COMPARE, 0.6, "measuring surface distances")
    distances, per_vertex, edges = _distances((base_labels, follow_labels), base, moved,
                                              registration.matrix)
    changes = change_table(base, follow, distances, alignment, registration.matrix)
    rows = {c.name: c for c in changes}
    annotated = [AnnotatedMesh(m, per_vertex.get(m.structure.name),
                               _extras(rows[m.structure.name]), edges.get(m.structure.name))
                 for m in moved if m.structure.name in rows]
    phase(Stage.COMPARE, 1.0, f"{len(changes)} structures compared")
    timings[Stage.COMPARE] = time.perf_counter() - started
    return Comparison(registration, alignment, changes, annotated, timings)


def _moved(mesh: StructureMesh, matrix: npt.NDArray[np.float64]) -> StructureMesh:
    """The mesh in the base's frame; windings flipped if the matrix mirrors."""
    faces = mesh.faces if np.linalg.det(matrix[:3, :3]) > 0 else mesh.faces[:, ::-1].copy()
    return StructureMesh(structure=mesh.structure,
                         vertices=transform_points(matrix, mesh.vertices).astype(np.float32),
                         faces=faces, closed=mesh.closed, method=mesh.method)


def _distances(
    grids: tuple[LabelMap, LabelMap],
    base: dict[str, StructureMeasure],
    moved: list[StructureMesh],
    follow_to_base: npt.NDArray[np.float64],
) -> tuple[dict[str, DistanceSummary], dict[str, npt.NDArray[np.float32]],
           dict[str, npt.NDArray[np.bool_]]]:
    """Per structure in both: the distances at every vertex (for the GLB), which vertices lie
    at a scan's edge, and the distances' summary over the surface both scans cover (caps where
    a scan cut a structure are no change)."""
    base_labels = grids[0]
    boxes = structure_boxes(base_labels)
    summaries, per_vertex, edges = {}, {}, {}
    for mesh in moved:
        name = mesh.structure.name
        if name not in base or not len(mesh.vertices):
            continue  # appeared: nothing to measure against
        label = base[name].label
        points, weights = surface_samples(mesh.vertices, mesh.faces)
        values = surface_signed_distance(base_labels, label, np.concatenate([mesh.vertices,
                                                                             points]),
                                         boxes.get(label))
        per_vertex[name] = values[: len(mesh.vertices)]
        edges[name] = ~inside_both_scans(mesh.vertices, grids, follow_to_base)
        covered = inside_both_scans(points, grids, follow_to_base)
        if covered.any():
            summaries[name] = summarise(values[len(mesh.vertices):][covered], weights[covered],
                                        per_vertex[name][~edges[name]])
    return summaries, per_vertex, edges


def _extras(change: StructureChange) -> dict[str, object]:
    """What the viewer shows for a structure node of the comparison GLB."""
    row = change.to_dict()
    return {"status": change.status, "distance_mm": row["distance_mm"],
            "change_ml": row["change_ml"], "change_percent": row["change_percent"]}
