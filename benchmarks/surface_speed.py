"""Mesh-stage time on a full-size case, with the CT placing the surfaces and without (baseline).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/surface_speed.py [--quality fast|high]``

The case is ``mesh_bench.py``'s: TotalSegmentator's example segmentation (41 structures, 3 mm)
resampled with nearest neighbour onto a 512 x 512 x 400 grid, and its CT resampled linearly
onto the same grid (the way a 3 mm ``fast`` result sits on a fine CT). Printed: the time of
``build_meshes`` + ``printable_meshes`` (what the pipeline's mesh stage runs) without the CT
(the label surfaces, as before sub-voxel placement) and with it, each the best of ``--repeat``
runs in this process, and their ratio.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
from scipy.ndimage import map_coordinates

from iris3d.geometry import reorient_to_ras
from iris3d.mesh import build_meshes, mesh_detail, printable_meshes
from iris3d.volume import CTVolume, LabelMap
from mesh_bench import SHAPE, full_size_case

CT = Path(__file__).resolve().parents[2] / "shared/data/totalseg_example/example_ct_sm.nii.gz"


def full_size_ct(labels: LabelMap) -> CTVolume:
    image = cast("nib.Nifti1Image", nib.load(CT))
    array, affine = reorient_to_ras(np.asarray(image.dataobj), image.affine)
    # Each fine voxel centre in the coarse grid's index space, interpolated linearly.
    to_coarse = np.linalg.inv(affine) @ labels.affine
    out = np.empty(SHAPE, dtype=np.int16)
    j, k = np.meshgrid(np.arange(SHAPE[1]), np.arange(SHAPE[2]), indexing="ij")
    for i in range(SHAPE[0]):
        fine = np.stack([np.full(j.size, i), j.ravel(), k.ravel(), np.ones(j.size)])
        coarse = (to_coarse @ fine)[:3]
        out[i] = map_coordinates(array.astype(np.float32), coarse, order=1,
                                 mode="nearest").reshape(j.shape)
    return CTVolume(out, labels.affine)


def mesh_stage(labels: LabelMap, quality: str, ct: CTVolume | None) -> tuple[float, int]:
    detail = mesh_detail(quality)
    started = time.perf_counter()
    meshes = printable_meshes(labels, build_meshes(labels, detail, ct=ct), detail, ct=ct)
    return time.perf_counter() - started, sum(m.triangle_count for m in meshes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", default="fast", choices=["fast", "normal", "high"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not CT.exists():
        raise SystemExit(f"needs {CT}")
    labels, source = full_size_case()
    ct = full_size_ct(labels)
    print(f"case: {source}, CT resampled linearly; quality {args.quality}")
    best: dict[str, float] = {}
    for name, scan in (("labels only (before)", None), ("with the CT (after)", ct)):
        runs = [mesh_stage(labels, args.quality, scan) for _ in range(args.repeat)]
        best[name] = min(seconds for seconds, _ in runs)
        print(f"{name:<22} {best[name]:7.2f} s  {runs[0][1]:>9,} triangles")
    before, after = best.values()
    print(f"ratio after / before: {after / before:.2f}")


if __name__ == "__main__":
    main()
