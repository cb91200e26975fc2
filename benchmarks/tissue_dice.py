"""How well and how fast the built-in tissue engine segments, against references and a baseline.

Prints Dice per structure for:
  1. TotalSegmentator's example CT against TotalSegmentator's own output for it (lungs = union of
     the lobes per side, bone = every skeleton class; fat and muscle against its tissue_types);
  2. the same CT stored in another voxel order (LPS), resampled to 0.8 mm with noise, and cropped:
     the result must not depend on how the study was stored or cut;
  3. the real DICOM sample, which has no reference: volumes found, said as such;
  4. phantoms (known truth), at 4 mm and at 512x512x400;
and the runtime on a 512x512x400 study (wall and CPU seconds), against the 10 s goal.
Baseline, in the same process: a plain threshold (lung < -400 HU inside the largest body
component filled slice by slice, split at the body's midline; bone > 200 HU).

    .venv/bin/python benchmarks/tissue_dice.py [--data ../shared/data/totalseg_example] [--no-large]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.anatomy import LabelTable
from iris3d.contracts import Quality
from iris3d.geometry import reorient_to_ras
from iris3d.ingest import load_study
from iris3d.labelio import read_label_map
from iris3d.phantom import make_phantom
from iris3d.phantom.files import reorient
from iris3d.segment.tissue import TissueEngine, tissue_table
from iris3d.volume import CTVolume

Mask = npt.NDArray[np.bool_]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example"
GOALS = {"lung_left": 0.95, "lung_right": 0.95, "bone": 0.85}


def dice(a: Mask, b: Mask) -> float:
    return 2.0 * np.count_nonzero(a & b) / max(1, np.count_nonzero(a) + np.count_nonzero(b))


def reference_masks(array: npt.NDArray[np.integer], table: LabelTable) -> dict[str, Mask]:
    def union(keep: Callable[[str, str], bool]) -> Mask:
        return np.isin(array, [s.label for s in table.values() if keep(s.name, s.group)])

    return {
        "lung_left": union(lambda n, g: n.startswith("lung_") and n.endswith("_left")),
        "lung_right": union(lambda n, g: n.startswith("lung_") and n.endswith("_right")),
        "bone": union(lambda n, g: g == "skeleton"),
    }


def engine_masks(volume: CTVolume) -> tuple[dict[str, Mask], npt.NDArray[np.uint8], float]:
    start = time.perf_counter()
    labels = TissueEngine().segment(volume, Quality.FAST).labels.array
    seconds = time.perf_counter() - start
    table = tissue_table()
    masks = {name: labels == table.by_name(name).label for name in
             ("lung_left", "lung_right", "subcutaneous_fat", "torso_fat", "skeletal_muscle",
              "trachea", "body")}
    masks["bone"] = labels == table.by_name("skeleton").label
    return masks, np.asarray(labels, dtype=np.uint8), seconds


def baseline_masks(volume: CTVolume) -> dict[str, Mask]:
    hu = volume.array
    labels, _ = ndimage.label(hu > -500)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    largest = labels == int(np.argmax(sizes))
    body = np.stack([ndimage.binary_fill_holes(largest[:, :, k])
                     for k in range(hu.shape[2])], axis=-1)
    lungs = (hu < -400) & body
    x = volume.affine[0, 0] * np.arange(hu.shape[0]) + volume.affine[0, 3]
    midline = float(np.mean(x[np.nonzero(body)[0]]))
    right = lungs & (x > midline)[:, None, None]
    return {"lung_left": lungs & ~right, "lung_right": right, "bone": (hu > 200) & body}


def report(title: str, ours: dict[str, Mask], truth: dict[str, Mask],
           baseline: dict[str, Mask] | None = None) -> None:
    print(f"\n{title}")
    for name, reference in truth.items():
        score = dice(ours[name], reference)
        line = f"  {name:<17} Dice {score:.3f}"
        if name in GOALS:
            line += f"  (goal {GOALS[name]:.2f}: {'met' if score >= GOALS[name] else 'MISSED'})"
        if baseline is not None and name in baseline:
            base = dice(baseline[name], reference)
            ratio = f"{score / base:.2f}" if base >= 0.01 else "n/a"
            line += f"  baseline {base:.3f}, ratio {ratio}"
        print(line)


def real_sample(data: Path) -> None:
    ct_path = data / "example_ct_sm.nii.gz"
    volume = load_study(ct_path)
    reference = read_label_map(data / "example_seg.nii.gz")
    truth = reference_masks(reference.array, reference.table)
    for name in ("subcutaneous_fat", "torso_fat", "skeletal_muscle"):
        path = data / "example_seg_tissue_types" / f"{name}.nii.gz"
        if path.is_file():
            truth[name] = read_label_map(path, table=LabelTable.from_names({1: name})).array > 0
    ours, labels, seconds = engine_masks(volume)
    report(f"TotalSegmentator example CT {volume.shape} at {volume.spacing[0]:.1f} mm "
           f"({seconds:.2f} s), against TotalSegmentator's output", ours, truth,
           baseline_masks(volume))
    print(f"  trachea voxels: {np.count_nonzero(ours['trachea'])} (abdominal study: expected 0)")
    robustness(volume, labels, truth)


def robustness(volume: CTVolume, labels: npt.NDArray[np.uint8], truth: dict[str, Mask]) -> None:
    lps_array, lps_affine = reorient(volume.array, volume.affine, "LPI")
    back, _ = reorient_to_ras(lps_array, lps_affine)
    again = engine_masks(CTVolume(array=np.ascontiguousarray(back), affine=volume.affine))[1]
    print(f"\nSame CT stored as LPI: {np.count_nonzero(again != labels)} voxels differ")

    zoom = (3.75, 3.75, 3.0)  # 3 mm -> 0.8 x 0.8 x 1 mm
    fine = ndimage.zoom(volume.array.astype(np.float32), zoom, order=1)
    fine += np.random.default_rng(0).normal(0.0, 15.0, fine.shape).astype(np.float32)
    affine = volume.affine.copy()
    affine[:3, :3] = np.diag([0.8, 0.8, 1.0])
    affine[:3, 3] += (np.array([0.8, 0.8, 1.0]) - np.array(volume.spacing)) / 2
    index = [np.minimum(((np.arange(n) + 0.5) / z).astype(int), s - 1)
             for n, z, s in zip(fine.shape, zoom, volume.shape, strict=True)]
    fine_truth = {k: v[np.ix_(*index)] for k, v in truth.items() if k in GOALS}
    fine_volume = CTVolume(array=fine.astype(np.int16), affine=affine)
    ours, _, seconds = engine_masks(fine_volume)
    # The reference is 3 mm blocks: even a perfect threshold cannot match its staircase edges.
    ceiling = {k: (fine < -400) & ndimage.binary_dilation(v, iterations=3)
               for k, v in fine_truth.items() if k.startswith("lung")}
    print(f"\nSame CT resampled to 0.8 x 0.8 x 1 mm {fine.shape} + 15 HU noise ({seconds:.1f} s):")
    for name, reference in fine_truth.items():
        voxel_ml = 0.8 * 0.8 * 1.0 / 1000
        line = (f"  {name:<11} Dice {dice(ours[name], reference):.3f}, volume "
                f"{np.count_nonzero(ours[name]) * voxel_ml:.1f} mL vs reference "
                f"{np.count_nonzero(reference) * voxel_ml:.1f} mL")
        if name in ceiling:
            line += f"; a perfect threshold reaches Dice {dice(ceiling[name], reference):.3f}"
        print(line)


def dicom_sample(data: Path) -> None:
    folder = data / "example_ct_dicom"
    if not folder.is_dir():
        return
    try:
        volume = load_study(folder)
    except Exception as e:  # the DICOM reader may not be installed in every checkout
        print(f"\nReal DICOM sample: not loaded ({e})")
        return
    ours, _, seconds = engine_masks(volume)
    ml = volume.voxel_volume_ml
    print(f"\nReal DICOM sample {volume.shape} at {volume.spacing[0]:.2f} x {volume.spacing[1]:.2f}"
          f" x {volume.spacing[2]:.1f} mm ({seconds:.2f} s): no reference exists, so no Dice.")
    print("  found: " + ", ".join(f"{n} {np.count_nonzero(m) * ml:.0f} mL"
                                  for n, m in ours.items()))


def phantoms(large: bool) -> None:
    sizes = [((96, 84, 64), (4.0, 4.0, 4.0))]
    if large:
        sizes.append(((512, 512, 400), (0.8, 0.8, 1.0)))
    for shape, spacing in sizes:
        phantom = make_phantom(shape=shape, spacing=spacing, noise_hu=20.0, seed=1)
        truth = reference_masks(phantom.labels.array, phantom.labels.table)
        start, cpu = time.perf_counter(), time.process_time()
        ours, _, _ = engine_masks(phantom.ct)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        title = (f"Phantom {shape[0]}x{shape[1]}x{shape[2]} at {spacing[0]} mm, 20 HU noise: "
                 f"{wall:.1f} s wall, {cpu:.1f} s CPU")
        if shape == (512, 512, 400):
            title += f" (goal < 10 s on 2 cores; {wall / 10.0:.2f} of it)"
        report(title, ours, truth, baseline_masks(phantom.ct))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-large", action="store_true", help="skip the 512x512x400 run")
    args = parser.parse_args()
    if (args.data / "example_ct_sm.nii.gz").is_file():
        real_sample(args.data)
        dicom_sample(args.data)
    else:
        print(f"real samples not found in {args.data}; phantoms only")
    phantoms(large=not args.no_large)


if __name__ == "__main__":
    main()
