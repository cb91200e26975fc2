"""TotalSegmentator's processing around the network, step for step, on warm models.

This follows ``totalsegmentator.nnunet.nnUNet_predict_image`` for task ``total`` with the options
Iris uses (one multilabel map; no cropping, ROI subset, statistics or files): reorientation to the
closest canonical grid, TotalSegmentator's own ``change_spacing`` to the model's spacing and back,
the three-way split of very large images for the five-part model, the merging of the parts' labels
into ``total`` ids, and the undoing of the reorientation. The only change is the hand-over to
nnU-Net: arrays in memory rather than a NIfTI written, read back and passed to worker processes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.contracts.progress import Progress, no_progress
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.predictor import LoadedModel
from iris3d.segment.totalseg.weights import TASK, ModelSpec

CT_RESAMPLING_ORDER = 1  # TotalSegmentator's default ``resampling_order``
# TotalSegmentator splits a resampled image in three along z above this size (five-part model only).
SPLIT_VOXELS = 512 * 512 * 900
SPLIT_MIN_SLICES = 200
SPLIT_MARGIN = 20

Labels = npt.NDArray[np.uint8]


def segment_total(
    ct: nib.Nifti1Image,
    spec: ModelSpec,
    models: Sequence[LoadedModel],
    *,
    use_gpu: bool = False,
    progress: Progress = no_progress,
    options: InferenceOptions | None = None,
) -> tuple[Labels, npt.NDArray[np.float64], dict[str, float]]:
    """``total`` labels on ``ct``'s own grid, their affine, and seconds spent per step."""
    from totalsegmentator.alignment import as_closest_canonical, undo_canonical
    from totalsegmentator.postprocessing import remove_auxiliary_labels

    started = time.perf_counter()
    progress(0.0, f"resampling to {spec.resample_mm:g} mm")
    img_in = as_closest_canonical(nib.Nifti1Image(ct.get_fdata(), ct.affine))
    resample = [spec.resample_mm] * 3
    # On CUDA with Iris's inference, resampling runs there too; else TotalSegmentator's own.
    on_device = use_gpu and options is not None
    change_spacing = _torch_change_spacing(models[0]) if on_device else _scipy_change_spacing
    img_rsp = change_spacing(img_in, resample, order=CT_RESAMPLING_ORDER, dtype=np.int32)
    pieces = _split(img_rsp) if _needs_split(img_rsp.shape, spec) else [img_rsp]
    predicting = time.perf_counter()

    steps = len(pieces) * len(models)
    results = [
        _predict_piece(
            piece, spec, models, progress, options, first_step=i * len(models), steps=steps
        )
        for i, piece in enumerate(pieces)
    ]
    seg = _merge(results, img_rsp.shape) if len(results) > 1 else results[0]
    postprocessing = time.perf_counter()

    progress(0.9, "resampling the labels back to the CT's grid")
    img_pred = remove_auxiliary_labels(nib.Nifti1Image(seg, img_rsp.affine), TASK)
    img_pred = change_spacing(
        img_pred,
        resample,
        order=0,
        dtype=np.uint8,
        target_shape=img_in.shape,
        force_affine=img_in.affine,
    )
    img_pred = undo_canonical(img_pred, ct)
    labels = np.asanyarray(img_pred.dataobj).astype(np.uint8)
    done = time.perf_counter()
    return (
        labels,
        np.asarray(img_pred.affine, dtype=np.float64),
        {
            "preprocess": predicting - started,
            "predict": postprocessing - predicting,
            "postprocess": done - postprocessing,
        },
    )


class _ChangeSpacing(Protocol):
    def __call__(
        self,
        img: nib.Nifti1Image,
        new_spacing: list[float],
        *,
        order: int,
        dtype: type[np.generic],
        target_shape: tuple[int, ...] | None = None,
        force_affine: npt.NDArray[np.float64] | None = None,
    ) -> nib.Nifti1Image: ...


def _scipy_change_spacing(
    img: nib.Nifti1Image,
    new_spacing: list[float],
    *,
    order: int,
    dtype: type[np.generic],
    target_shape: tuple[int, ...] | None = None,
    force_affine: npt.NDArray[np.float64] | None = None,
) -> nib.Nifti1Image:
    from totalsegmentator.resampling import change_spacing

    resampled: nib.Nifti1Image = change_spacing(
        img,
        new_spacing,
        target_shape,
        order=order,
        dtype=dtype,
        nr_cpus=1,
        force_affine=force_affine,
    )
    return resampled


def _torch_change_spacing(model: LoadedModel) -> _ChangeSpacing:
    from iris3d.segment.totalseg.resample import change_spacing

    def on_device(
        img: nib.Nifti1Image,
        new_spacing: list[float],
        *,
        order: int,
        dtype: type[np.generic],
        target_shape: tuple[int, ...] | None = None,
        force_affine: npt.NDArray[np.float64] | None = None,
    ) -> nib.Nifti1Image:
        return change_spacing(
            img,
            new_spacing,
            model.device,
            order=order,
            dtype=dtype,
            target_shape=target_shape,
            force_affine=force_affine,
        )

    return on_device


def _predict_piece(
    img: nib.Nifti1Image,
    spec: ModelSpec,
    models: Sequence[LoadedModel],
    progress: Progress,
    options: InferenceOptions | None,
    *,
    first_step: int,
    steps: int,
) -> Labels:
    def report(done: int, message: str) -> None:
        progress(0.05 + 0.85 * (first_step + done) / steps, message)

    if not spec.multi_part:
        report(0, "predicting")
        return run_model(models[0], img, options)
    from totalsegmentator.map_to_binary import (
        class_map,
        class_map_5_parts,
        map_taskid_to_partname_ct,
    )

    total_ids = {name: label for label, name in class_map[TASK].items()}
    combined = np.zeros(img.shape, dtype=np.uint8)
    for done, (task_id, model) in enumerate(zip(spec.task_ids, models, strict=True)):
        report(done, f"predicting part {done + 1} of {len(models)}")
        seg = run_model(model, img, options)
        # Each part numbers its own classes from 1; a lookup table gives them their total ids.
        part_map = class_map_5_parts[map_taskid_to_partname_ct[task_id]]
        lut = np.zeros(max(part_map) + 1, dtype=np.uint8)
        for part_label, name in part_map.items():
            lut[part_label] = total_ids[name]
        if seg.size > 0 and seg.max() >= len(lut):
            lut = np.pad(lut, (0, int(seg.max()) + 1 - len(lut)), mode="constant")
        mapped = lut[seg]
        np.copyto(combined, mapped, where=mapped != 0)
    return combined


def run_model(
    model: LoadedModel, img: nib.Nifti1Image, options: InferenceOptions | None = None
) -> Labels:
    """One network on one resampled image: labels in the image's own ``[i, j, k]`` order."""
    data, spacing = nnunet_input(img, model.reader)
    # nnU-Net works in SimpleITK's [z, y, x]; its export writes that back as the NIfTI's [x, y, z].
    return model.predict(data, spacing, options).transpose(2, 1, 0)


def nnunet_input(img: nib.Nifti1Image, reader: str) -> tuple[npt.NDArray[np.float32], list[float]]:
    """What the plans' reader returns for ``img`` saved as NIfTI: ``[1, z, y, x]``, spacing."""
    if reader == "SimpleITKIO":
        # SimpleITK reads a NIfTI's voxels in file order as [z, y, x] and its pixdim as spacing.
        voxels = np.asanyarray(img.dataobj).transpose(2, 1, 0)[None]
        spacing = [abs(float(s)) for s in img.header.get_zooms()[:3]][::-1]
        return np.ascontiguousarray(voxels, dtype=np.float32), spacing
    from nnunetv2.imageio.reader_writer_registry import recursive_find_reader_writer_by_name

    with tempfile.TemporaryDirectory(prefix="iris_nnunet_") as tmp:
        path = Path(tmp) / "s01_0000.nii.gz"
        nib.save(img, path)
        data, props = recursive_find_reader_writer_by_name(reader)().read_images([str(path)])
    return np.asarray(data, dtype=np.float32), [float(s) for s in props["spacing"]]


def _needs_split(shape: tuple[int, ...], spec: ModelSpec) -> bool:
    return spec.multi_part and int(np.prod(shape)) > SPLIT_VOXELS and shape[2] > SPLIT_MIN_SLICES


def _split(img: nib.Nifti1Image) -> list[nib.Nifti1Image]:
    """Three overlapping slabs along z, each with the whole image's affine (as TotalSegmentator)."""
    data = img.get_fdata()
    third, margin = img.shape[2] // 3, SPLIT_MARGIN
    slabs = (
        data[:, :, : third + margin],
        data[:, :, third + 1 - margin : third * 2 + margin],
        data[:, :, third * 2 + 1 - margin :],
    )
    return [nib.Nifti1Image(slab, img.affine) for slab in slabs]


def _merge(pieces: Sequence[Labels], shape: tuple[int, ...]) -> Labels:
    third, margin = shape[2] // 3, SPLIT_MARGIN
    combined = np.zeros(shape, dtype=np.uint8)
    combined[:, :, :third] = pieces[0][:, :, :-margin]
    combined[:, :, third : third * 2] = pieces[1][:, :, margin - 1 : -margin]
    combined[:, :, third * 2 :] = pieces[2][:, :, margin - 1 :]
    return combined
