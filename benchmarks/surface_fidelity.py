"""Surface fidelity: Iris's surfaces against analytic shapes, 3D Slicer's default export and raw
marching cubes, from one run.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/surface_fidelity.py [--shapes rib,plate]``

Shapes (``fidelity_shapes.py``): a rib-like ring (torus, tube radius 4 mm), a 5 mm curved plate,
an oblique 2 mm vessel, a 15 mm sphere and a low-contrast organ (20 HU above its surroundings)
2 mm from a neighbour. Each is put on a CT with partial-volume intensities and 10 HU noise at
1.5 mm isotropic, 0.75 x 0.75 x 3 mm and 0.75 x 0.75 x 5 mm; the label map is the truth at the
voxel centres. A fourth case (``0.75x0.75x1.5/L3``) takes the labels from a 3 mm grid resampled
onto the CT's with nearest neighbour, as the 3 mm ``fast`` model's output is. Methods:

- ``iris-fast`` / ``iris-high``: what ``iris process`` writes (the STL of ``printable_meshes``),
  given the label map and the CT;
- ``labels``: ``iris-high`` from the label map alone (Iris before sub-voxel placement);
- ``slicer``: 3D Slicer's default closed surface (vtkBinaryLabelmapToClosedSurfaceConversionRule:
  discrete flying edges in voxel index space, windowed sinc 20 iterations, pass band 0.01 =
  smoothing factor 0.5, normalised coordinates, non-manifold smoothing, no boundary or feature
  edge smoothing, no decimation, then mapped to patient space);
- ``mc``: the same flying-edges surface unsmoothed.

Printed per shape, spacing and method: area-weighted RMS and p99 distance to the true surface
(mm), volume error against the true volume (%), mean normal error (degrees), components, genus,
open edges, self-intersections, and for the organ the triangles crossing its neighbour's surface;
then the RMS ratio Iris / Slicer per shape and spacing, and the time each method took.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkWindowedSincPolyDataFilter

from fidelity_metrics import Fidelity, cross_intersections, measure
from fidelity_shapes import Scene, extra_shapes, make_scene, shapes
from iris3d.mesh import FAST, HIGH, MeshDetail, _vtk, build_meshes, printable_meshes
from iris3d.mesh.finish import to_patient

# (CT spacing, label spacing): None = the labels on the CT's grid; 3.0 = labels from a 3 mm
# grid resampled with nearest neighbour, as the `fast` model's output.
SPACINGS: tuple[tuple[tuple[float, float, float], float | None], ...] = (
    ((1.5, 1.5, 1.5), None), ((0.75, 0.75, 3.0), None), ((0.75, 0.75, 5.0), None),
    ((0.75, 0.75, 1.5), 3.0))
Surface = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]
Method = Callable[[Scene], dict[int, Surface]]


def iris(detail: MeshDetail, use_ct: bool = True, rebuilt: bool = False) -> Method:
    """Iris at ``detail``; ``rebuilt``: every Surface Nets surface taken through the
    marching-cubes rebuild that ``printable_meshes`` gives a non-manifold one (on real labels
    most of them are: their voxels touch along edges; the analytic shapes here seldom do).
    Redrawn and interpolated surfaces are closed by construction and stay as they are."""
    def run(scene: Scene) -> dict[int, Surface]:
        given = _ct_argument(scene) if use_ct else {}
        meshes = build_meshes(scene.labels, detail, workers=2, **given)
        if rebuilt:
            meshes = [replace(m, closed=False) if m.method == "surface_nets" else m
                      for m in meshes]
        printable = printable_meshes(scene.labels, meshes, detail, workers=2, **given)
        return {m.structure.label: (m.vertices.astype(np.float64), m.faces.astype(np.int64))
                for m in printable}
    return run


def _ct_argument(scene: Scene) -> dict[str, object]:
    """Pass the CT where this version of ``build_meshes`` takes it."""
    import inspect

    return {"ct": scene.ct} if "ct" in inspect.signature(printable_meshes).parameters else {}


def flying_edges(smooth: bool) -> Method:
    def run(scene: Scene) -> dict[int, Surface]:
        out = {}
        for label in range(1, len(scene.shape.parts) + 1):
            mask = np.pad(scene.labels.array == label, 1).astype(np.uint8)
            points, triangles = _vtk.flying_edges(mask)
            if smooth:
                points = _slicer_smoothing(points, triangles)
            out[label] = (to_patient(points - 1.0, scene.labels.affine), triangles)
        return out
    return run


def _slicer_smoothing(points: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64]
                      ) -> npt.NDArray[np.float64]:
    """3D Slicer's smoothing of a closed surface (smoothing factor 0.5), in voxel index space."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

    poly = vtkPolyData()
    corners = vtkPoints()
    corners.SetData(numpy_to_vtk(np.ascontiguousarray(points), deep=True))
    poly.SetPoints(corners)
    cells = vtkCellArray()
    cells.SetData(3, numpy_to_vtkIdTypeArray(np.ascontiguousarray(triangles.ravel()), deep=True))
    poly.SetPolys(cells)
    smoother = vtkWindowedSincPolyDataFilter()
    smoother.SetInputData(poly)
    smoother.SetNumberOfIterations(20)
    smoother.SetPassBand(10.0 ** (-4.0 * 0.5))
    smoother.BoundarySmoothingOff()
    smoother.FeatureEdgeSmoothingOff()
    smoother.NonManifoldSmoothingOn()
    smoother.NormalizeCoordinatesOn()
    smoother.Update()
    return np.asarray(vtk_to_numpy(smoother.GetOutput().GetPoints().GetData()), dtype=np.float64)


METHODS: dict[str, Method] = {
    "iris-fast": iris(FAST),
    "iris-high": iris(HIGH),
    "labels": iris(HIGH, use_ct=False),  # Iris high from the labels alone: before the CT
    "rebuilt": iris(HIGH, rebuilt=True),  # Iris high, Surface Nets' surfaces all rebuilt
    "slicer": flying_edges(smooth=True),
    "mc": flying_edges(smooth=False),
}


def evaluate(scene: Scene, surfaces: dict[int, Surface]) -> tuple[Fidelity, int]:
    vertices, faces = surfaces[1]
    result = measure(vertices, faces, scene.shape.parts[0].sdf)
    crossing = 0
    if 2 in surfaces:
        crossing = cross_intersections(vertices, faces, *surfaces[2])
    return result, crossing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="", help="comma-separated name prefixes (default all)")
    parser.add_argument("--extra", action="store_true",
                        help="also the shapes the goals were not tuned on (fidelity_shapes.py)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the CT's noise and the grid's sub-voxel shift (default 0, the docs')")
    args = parser.parse_args()
    wanted = [s for s in args.shapes.split(",") if s]
    header = (f"{'shape':<12} {'spacing mm':<16} {'method':<10} {'RMS':>6} {'p99':>6} "
              f"{'vol%':>7} {'nrm°':>6} {'comp':>4} {'genus':>5} {'open':>5} {'selfX':>5} "
              f"{'nbrX':>5} {'time s':>7}")
    print(header)
    print("-" * len(header))
    ratios: list[tuple[str, str, dict[str, float]]] = []
    totals = dict.fromkeys(METHODS, 0.0)
    for shape in shapes() + (extra_shapes() if args.extra else []):
        if wanted and not any(shape.name.startswith(w) for w in wanted):
            continue
        for spacing, label_mm in SPACINGS:
            scene = make_scene(shape, spacing, seed=args.seed, label_mm=label_mm)
            grid = "x".join(f"{s:g}" for s in spacing) + ("" if label_mm is None else
                                                          f"/L{label_mm:g}")
            rms: dict[str, float] = {}
            for name, method in METHODS.items():
                started = time.perf_counter()
                surfaces = method(scene)
                elapsed = time.perf_counter() - started
                totals[name] += elapsed
                fid, crossing = evaluate(scene, surfaces)
                rms[name] = fid.rms_mm
                volume_error = 100.0 * (fid.volume_mm3 / scene.true_volume_mm3 - 1.0)
                print(f"{shape.name:<12} {grid:<16} {name:<10} "
                      f"{fid.rms_mm:6.3f} {fid.p99_mm:6.3f} {volume_error:+7.2f} "
                      f"{fid.normal_deg:6.2f} {fid.components:4d} {fid.genus:5d} "
                      f"{fid.open_edges:5d} {fid.self_intersections:5d} {crossing:5d} "
                      f"{elapsed:7.2f}")
            ratios.append((shape.name, grid, rms))
    print("\nRMS ratio against 3D Slicer's default (goal: iris <= 0.5)")
    print(f"{'shape':<12} {'spacing mm':<16} {'iris-fast':>9} {'iris-high':>9} {'labels':>6} "
          f"{'rebuilt':>7} {'mc':>6}")
    for name, spacing_text, rms in ratios:
        print(f"{name:<12} {spacing_text:<16} {rms['iris-fast'] / rms['slicer']:9.2f} "
              f"{rms['iris-high'] / rms['slicer']:9.2f} {rms['labels'] / rms['slicer']:6.2f} "
              f"{rms['rebuilt'] / rms['slicer']:7.2f} {rms['mc'] / rms['slicer']:6.2f}")
    print("\nmeshing time, all cases (s): "
          + ", ".join(f"{name} {seconds:.2f}" for name, seconds in totals.items()))


if __name__ == "__main__":
    main()
