"""Mesh + export benchmark: the naive per-label approach against Iris, on one full-size case.

Run: ``.venv/bin/python benchmarks/mesh_bench.py [--naive-labels N] [--skip-naive] [--quick]``

The case is TotalSegmentator's real output (``shared/data/totalseg_example/example_seg.nii.gz``)
upsampled with nearest neighbour to 512x512x400 when present, else a phantom of that size with
>= 40 structures. Printed, from one run on the same data:
(a) naive: per label, a whole-volume mask, skimage marching cubes, trimesh OBJ export;
(b) Iris: Surface Nets + smoothing + decimation (``build_meshes``) + GLB (``encode_glb``);
(c) ratio a / b; (d) read floor: one ``np.bincount`` over the labels; (e) peak memory (max
RSS of the process that ran each stage); (f) GLB bytes against the naive OBJ bytes.
Each stage runs in its own forked process so that its peak memory is its own.

Also printed: (b2) Iris meshing every voxel even where the labels repeat the slices of a
coarser grid (the speed for a label map at its own resolution; the upsampled case's surfaces
are the same set of voxel faces, cut finer), and (g) quality: the p99 distance from the
undecimated surfaces to the decimated ones, and volumes against the voxel volume.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from iris3d.anatomy import total_table
from iris3d.geometry import reorient_to_ras
from iris3d.volume import LabelMap

SHAPE = (512, 512, 400)
EXAMPLE = Path(__file__).resolve().parents[2] / "shared/data/totalseg_example/example_seg.nii.gz"


def full_size_case() -> tuple[LabelMap, str]:
    if EXAMPLE.exists():
        import nibabel as nib

        image = cast("nib.Nifti1Image", nib.load(EXAMPLE))
        array, affine = reorient_to_ras(np.asarray(image.dataobj), image.affine)
        # Voxel centres map to ((n + 0.5) * s / N - 0.5): the same field of view, finer grid.
        index = [np.minimum(((np.arange(n) + 0.5) * s / n).astype(np.intp), s - 1)
                 for n, s in zip(SHAPE, array.shape, strict=True)]
        upsampled = np.ascontiguousarray(array[np.ix_(*index)])
        scaled = affine.copy()
        scaled[:3, :3] = affine[:3, :3] * (np.asarray(array.shape) / np.asarray(SHAPE))
        scaled[:3, 3] = affine[:3, 3] + affine[:3, :3] @ ((np.asarray(array.shape)
                                                          / np.asarray(SHAPE) - 1) / 2)
        source = f"TotalSegmentator example {array.shape} upsampled (nearest) to {SHAPE}"
        return LabelMap(upsampled, scaled, total_table()), source
    from iris3d.phantom import make_phantom

    phantom = make_phantom(shape=SHAPE, spacing=(0.8, 0.8, 1.0))
    return phantom.labels, f"phantom {SHAPE}"


def naive(labels: LabelMap, limit: int | None) -> dict[str, Any]:
    import trimesh
    from skimage import measure

    spacing = tuple(float(s) for s in np.linalg.norm(labels.affine[:3, :3], axis=0))
    present = labels.present_ids()[:limit]
    total_bytes = 0
    for label in present:
        mask = labels.array == label
        vertices, faces, _, _ = measure.marching_cubes(mask, 0.5, spacing=spacing)
        total_bytes += len(trimesh.Trimesh(vertices, faces, process=False).export(file_type="obj"))
    return {"labels": len(present), "obj_bytes": total_bytes}


def iris(labels: LabelMap, merge_repeats: bool = True) -> dict[str, Any]:
    from iris3d.export import encode_glb
    from iris3d.mesh import mesh_detail
    from iris3d.mesh.build import mesh_structures

    meshes = mesh_structures(labels, mesh_detail("normal"), merge_repeats=merge_repeats)
    glb = encode_glb(meshes)
    return {"structures": len(meshes), "triangles": sum(m.triangle_count for m in meshes),
            "not_manifold": sum(not m.closed for m in meshes), "glb_bytes": len(glb)}


def quality(labels: LabelMap) -> dict[str, Any]:
    """How far decimation moved the surfaces, and how close volumes are to the voxels'."""
    from dataclasses import replace

    from iris3d.mesh import build_meshes, mesh_detail
    from iris3d.mesh._vtk import distances_to_surface
    from iris3d.mesh.grid import crop_to_labels, native_grid

    detail = mesh_detail("normal")
    decimated = build_meshes(labels, detail)
    full = {m.structure.label: m for m in build_meshes(labels, replace(detail, max_error_mm=0))}
    distances = np.concatenate([
        distances_to_surface(full[m.structure.label].vertices, m.vertices, m.faces)
        for m in decimated])
    voxel_ml = np.bincount(labels.array.ravel()) * abs(np.linalg.det(labels.affine[:3, :3])) / 1e3
    errors = [abs(m.volume_ml / voxel_ml[m.structure.label] - 1) for m in decimated
              if voxel_ml[m.structure.label] > 10]
    crop = crop_to_labels(labels.array)
    cells = native_grid(crop).array.shape if crop is not None else (0, 0, 0)
    return {"p99_mm": float(np.percentile(distances, 99)), "max_mm": float(distances.max()),
            "undecimated": sum(m.triangle_count for m in full.values()),
            "volume_error": max(errors, default=0.0), "cells": cells}


def read_floor(labels: LabelMap) -> dict[str, Any]:
    counts = np.bincount(labels.array.ravel())
    return {"labels": int(np.count_nonzero(counts[1:]))}


def _child(work: Callable[[], dict[str, Any]], pipe: Any) -> None:
    start = time.perf_counter()
    result = work()
    result["seconds"] = time.perf_counter() - start
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipe.send(result)


def measure(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    context = mp.get_context("fork")  # children share the case without pickling 100 MB
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, send))
    process.start()
    result: dict[str, Any] = receive.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-labels", type=int, default=None,
                        help="run the naive approach on the first N labels only and scale its "
                             "time and bytes to all labels (it takes minutes)")
    parser.add_argument("--skip-naive", action="store_true",
                        help="leave out (a) and the ratios that need it (quick iterations)")
    parser.add_argument("--quick", action="store_true",
                        help="leave out (b2) and (g) as well: floor and Iris only")
    args = parser.parse_args()
    labels, source = full_size_case()
    spacing = tuple(round(float(s), 3) for s in np.linalg.norm(labels.affine[:3, :3], axis=0))
    print(f"case: {source}, {len(labels.present_ids())} structures, spacing {spacing} mm")
    floor = measure(lambda: read_floor(labels))
    fast = measure(lambda: iris(labels))
    print(f"(b) Iris Surface Nets+smooth+decimate+GLB: {fast['seconds']:8.2f} s, "
          f"{fast['structures']} structures, {fast['triangles']} triangles, "
          f"{fast['not_manifold']} not manifold (rebuilt for STL), peak {fast['peak_mib']:.0f} MiB")
    every = None if args.quick else measure(lambda: iris(labels, merge_repeats=False))
    if every is not None:
        print(f"(b2) Iris meshing every voxel (no merged repeats): {every['seconds']:8.2f} s, "
              f"{every['triangles']} triangles, peak {every['peak_mib']:.0f} MiB")
    print(f"(d) read floor (np.bincount): {floor['seconds']:.2f} s; Iris = "
          f"{fast['seconds'] / floor['seconds']:.1f}x the floor  (goal <= 10x)"
          + ("" if every is None else f"; every voxel: {every['seconds'] / floor['seconds']:.1f}x"))
    if not args.quick:
        good = measure(lambda: quality(labels))
        print(f"(g) decimation: {good['undecimated']} -> {fast['triangles']} triangles, distance "
              f"undecimated->decimated p99 {good['p99_mm']:.3f} mm (goal < 0.3), max "
              f"{good['max_mm']:.2f} mm; labels meshed on {good['cells']} cells; worst volume "
              f"error vs voxels (> 10 mL) {100 * good['volume_error']:.2f} %")
    if args.skip_naive:
        print(f"(e) peak memory: Iris {fast['peak_mib']:.0f} MiB, floor "
              f"{floor['peak_mib']:.0f} MiB; (f) GLB {fast['glb_bytes'] / 1e6:.2f} MB")
        return
    slow = measure(lambda: naive(labels, args.naive_labels))
    scale = floor["labels"] / slow["labels"]
    naive_seconds, naive_bytes = slow["seconds"] * scale, slow["obj_bytes"] * scale
    note = "" if scale == 1 else f" (measured on {slow['labels']} labels, scaled x{scale:.2f})"
    print(f"(a) naive mask+marching cubes+OBJ: {naive_seconds:8.2f} s{note}, "
          f"peak {slow['peak_mib']:.0f} MiB")
    print(f"(c) ratio a/b: {naive_seconds / fast['seconds']:.1f}x  (goal >= 40x)"
          + ("" if every is None else f"; every voxel: {naive_seconds / every['seconds']:.1f}x"))
    print(f"(e) peak memory: Iris {fast['peak_mib']:.0f} MiB, naive {slow['peak_mib']:.0f} MiB, "
          f"floor {floor['peak_mib']:.0f} MiB")
    print(f"(f) GLB {fast['glb_bytes'] / 1e6:.2f} MB vs naive OBJ {naive_bytes / 1e6:.1f} MB: "
          f"1/{naive_bytes / fast['glb_bytes']:.0f}  (goal <= 5 MB and <= 1/40)")


if __name__ == "__main__":
    main()
