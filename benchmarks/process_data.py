"""The cases of ``process_bench.py``: full-size CTs and label maps as NIfTI, cached in /tmp.

a. TotalSegmentator's real output (``shared/data/totalseg_example``) upsampled with nearest
   neighbour to the target grid, with its CT upsampled linearly plus scanner-like noise;
b. the phantom at the target grid's own resolution (smooth boundaries, no repeated slices);
c. the phantom's CT alone (for the tissue engine).
When the example is absent, case a falls back to the phantom's labels upsampled from a
quarter-size grid.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.geometry import reorient_to_ras
from iris3d.phantom import make_phantom

EXAMPLE = Path(__file__).resolve().parents[2] / "shared/data/totalseg_example"
NOISE_HU = 20.0  # scanner noise: it is what makes a real CT compress to ~40 % with gzip
INPUT_GZIP_LEVEL = 6  # what dcm2niix (pigz) and most tools write


@dataclass(frozen=True)
class Case:
    name: str
    ct: Path
    labels: Path | None
    about: str


def cache_folder(shape: tuple[int, int, int]) -> Path:
    return Path(tempfile.gettempdir()) / f"iris-process-bench-{'x'.join(map(str, shape))}"


def cases(shape: tuple[int, int, int]) -> dict[str, Case]:
    """The cases' files, made once per grid size and kept in the temp folder."""
    folder = cache_folder(shape)
    done = folder / "complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _write_cases(shape, folder)
        done.write_text("ok\n")
    about_a = (done.parent / "about_a.txt").read_text().strip()
    return {
        "a": Case("a", folder / "ct_a.nii.gz", folder / "seg_a.nii.gz", about_a),
        "b": Case("b", folder / "ct_b.nii.gz", folder / "seg_b.nii.gz",
                  f"phantom at {shape}, own resolution"),
        "c": Case("c", folder / "ct_b.nii.gz", None, f"phantom CT {shape}, tissue engine"),
    }


def _write_cases(shape: tuple[int, int, int], folder: Path) -> None:
    phantom = make_phantom(shape=shape, spacing=_spacing(shape), noise_hu=NOISE_HU, seed=1)
    _save(phantom.ct.array, phantom.ct.affine, folder / "ct_b.nii.gz")
    _save(phantom.labels.array, phantom.labels.affine, folder / "seg_b.nii.gz")
    ct, labels, affine, about = _upsampled_case(shape)
    _save(ct, affine, folder / "ct_a.nii.gz")
    _save(labels, affine, folder / "seg_a.nii.gz")
    (folder / "about_a.txt").write_text(about + "\n")


def _spacing(shape: tuple[int, int, int]) -> tuple[float, float, float]:
    """A torso's field of view (410 x 410 x 400 mm) whatever the grid."""
    return (410.0 / shape[0], 410.0 / shape[1], 400.0 / shape[2])


def _upsampled_case(
    shape: tuple[int, int, int],
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], npt.NDArray[np.float64], str]:
    if (EXAMPLE / "example_seg.nii.gz").exists():
        seg_image = cast("nib.Nifti1Image", nib.load(EXAMPLE / "example_seg.nii.gz"))
        ct_image = cast("nib.Nifti1Image", nib.load(EXAMPLE / "example_ct_sm.nii.gz"))
        seg, affine = reorient_to_ras(np.asarray(seg_image.dataobj), seg_image.affine)
        ct, _ = reorient_to_ras(np.asarray(ct_image.dataobj), ct_image.affine)
        about = f"TotalSegmentator example {seg.shape} upsampled (nearest) to {shape}"
    else:
        small = tuple(max(8, n // 4) for n in shape)
        phantom = make_phantom(shape=small, spacing=_spacing(small))  # type: ignore[arg-type]
        seg, ct, affine = phantom.labels.array, phantom.ct.array, phantom.ct.affine
        about = f"phantom {small} upsampled (nearest) to {shape}"
    # Voxel centres map to ((n + 0.5) * s / N - 0.5): the same field of view, finer grid.
    index = [np.minimum(((np.arange(n) + 0.5) * s / n).astype(np.intp), s - 1)
             for n, s in zip(shape, seg.shape, strict=True)]
    labels = np.ascontiguousarray(seg[np.ix_(*index)]).astype(np.uint8)
    ratio = np.asarray(seg.shape) / np.asarray(shape)
    fine = affine.copy()
    fine[:3, :3] = affine[:3, :3] * ratio
    fine[:3, 3] = affine[:3, 3] + affine[:3, :3] @ ((ratio - 1) / 2)
    coords = [(np.arange(n) + 0.5) * r - 0.5 for n, r in zip(shape, ratio, strict=True)]
    smooth = _linear_upsample(np.asarray(ct, dtype=np.float32), coords)
    noise = np.random.default_rng(2).normal(0.0, NOISE_HU, size=shape).astype(np.float32)
    hu = np.clip(np.rint(smooth + noise), -1024, 3071).astype(np.int16)
    return hu, labels, fine, about


def _linear_upsample(
    array: npt.NDArray[np.float32], coords: list[npt.NDArray[np.float64]]
) -> npt.NDArray[np.float32]:
    """Separable linear interpolation, one axis at a time (memory of the output only)."""
    out = array
    for axis, c in enumerate(coords):
        out = _along(out, axis, c)
    return out


def _along(
    array: npt.NDArray[np.float32], axis: int, coords: npt.NDArray[np.float64]
) -> npt.NDArray[np.float32]:
    n = array.shape[axis]
    c = np.clip(coords, 0, n - 1)
    low = np.floor(c).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    weight = (c - low).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(c)
    w = weight.reshape(shape)
    result: npt.NDArray[np.float32] = (np.take(array, low, axis=axis) * (1 - w)
                                       + np.take(array, high, axis=axis) * w)
    return result


def _save(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64], path: Path) -> None:
    image = nib.Nifti1Image(array, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    previous = nib.openers.Opener.default_compresslevel
    nib.openers.Opener.default_compresslevel = INPUT_GZIP_LEVEL
    try:
        nib.save(image, str(path))
    finally:
        nib.openers.Opener.default_compresslevel = previous
