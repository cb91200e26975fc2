"""Render the rib cage of TotalSegmentator's 3 mm example before and after sub-voxel placement.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/render_ribs.py [OUTDIR]`` (default docs/img)

The example (``shared/data/totalseg_example``: a 3 mm CT and the 3 mm model's labels) is put
on a 1 mm grid the way a 3 mm ``fast`` result sits on a fine scan: the labels with nearest
neighbour, the CT linearly interpolated (a real fine scan holds more detail than that). It is
meshed at the ``fast`` level from the labels alone (before) and with the CT placing the
surfaces (after); the left ribs and the vertebrae are drawn with matplotlib (no display
needed), seen from the patient's left and front, and written as two small PNGs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from scipy.ndimage import map_coordinates

from iris3d.anatomy import total_table
from iris3d.geometry import reorient_to_ras
from iris3d.mesh import FAST, StructureMesh, build_meshes
from iris3d.volume import CTVolume, LabelMap

DATA = Path(__file__).resolve().parents[2] / "shared/data/totalseg_example"
BONES = ("rib_left_", "vertebrae_")


def load(factor: int = 3) -> tuple[LabelMap, CTVolume]:
    ct_image = cast("nib.Nifti1Image", nib.load(DATA / "example_ct_sm.nii.gz"))
    seg_image = cast("nib.Nifti1Image", nib.load(DATA / "example_seg.nii.gz"))
    hu, affine = reorient_to_ras(np.asarray(ct_image.dataobj), ct_image.affine)
    labels, _ = reorient_to_ras(np.asarray(seg_image.dataobj), seg_image.affine)
    # Fine voxel f lies at coarse index (f - 1) / factor (its coarse voxel's middle third
    # centred on the coarse centre); its nearest coarse voxel is f // factor.
    fine = [np.arange(n * factor) for n in labels.shape]
    nearest = np.ix_(*[f // factor for f in fine])
    coordinates = np.stack(np.meshgrid(*[(f - (factor - 1) / 2) / factor for f in fine],
                                       indexing="ij"))
    fine_hu = map_coordinates(hu.astype(np.float32), coordinates, order=1, mode="nearest")
    scale = np.diag([1 / factor] * 3 + [1.0])
    scale[:3, 3] = -(factor - 1) / 2 / factor
    fine_affine = affine @ scale
    return (LabelMap(np.ascontiguousarray(labels[nearest]), fine_affine, total_table()),
            CTVolume(np.rint(fine_hu).astype(np.int16), fine_affine))


def draw(meshes: list[StructureMesh], path: Path, title: str) -> None:
    light = np.array([-0.8, -0.4, 0.45])
    light /= np.linalg.norm(light)
    figure = plt.figure(figsize=(5.0, 3.6), dpi=110)
    axes = figure.add_subplot(projection="3d")
    everything = []
    for mesh in meshes:
        if not mesh.structure.name.startswith(BONES):
            continue
        corners = mesh.vertices[mesh.faces].astype(np.float64)
        normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        shade = 0.35 + 0.65 * np.clip(normal @ light, 0.0, 1.0)
        colour = np.asarray(mesh.structure.colour, dtype=np.float64) / 255.0
        faces = np.clip(shade[:, None] * colour[None, :], 0.0, 1.0)
        axes.add_collection3d(Poly3DCollection(corners, facecolors=faces, linewidths=0))
        everything.append(mesh.vertices)
    points = np.concatenate(everything)
    low, high = points.min(axis=0), points.max(axis=0)
    for setter, a, b in zip((axes.set_xlim, axes.set_ylim, axes.set_zlim), low, high,
                            strict=True):
        setter(a, b)
    axes.set_box_aspect(tuple(high - low), zoom=1.3)
    axes.view_init(elev=15, azim=200)  # from the patient's left (-R), a little from the front
    axes.set_axis_off()
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img")
    out.mkdir(parents=True, exist_ok=True)
    labels, ct = load()
    draw(build_meshes(labels, FAST), out / "ribcage_3mm_before.png",
         "3 mm labels alone (before)")
    draw(build_meshes(labels, FAST, ct=ct), out / "ribcage_3mm_after.png",
         "3 mm labels placed on the CT (after)")
    print(f"wrote {out / 'ribcage_3mm_before.png'} and {out / 'ribcage_3mm_after.png'}")


if __name__ == "__main__":
    main()
