"""One nnU-Net case on the model's device: preprocessing, streamed inference, labels back.

For TotalSegmentator's ``total`` models the image arrives already at the model's spacing and the
plans normalise with ``CTNormalization``; nnU-Net's ``DefaultPreprocessor`` then only transposes,
crops to the non-zero bounding box, clips and standardises, and its export only arg-maxes and puts
the crop back. Those steps run here on the device, in the same order and float32 arithmetic; any
other plans (resampling needed, other normalisation) take nnU-Net's own path (``None``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from iris3d.segment.totalseg.cpu_runtime import Forward
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.sliding import predict_labels


def can_run(predictor: Any, shape: tuple[int, ...], spacing: list[float]) -> bool:
    """True when nnU-Net would neither resample nor normalise other than ``CTNormalization``."""
    from nnunetv2.preprocessing.resampling.default_resampling import compute_new_shape

    configuration = predictor.configuration_manager
    plans = predictor.plans_manager
    if list(configuration.normalization_schemes) != ["CTNormalization"]:
        return False
    if any(configuration.use_mask_for_norm):
        return False
    forward = list(plans.transpose_forward)
    transposed = [shape[i] for i in forward]
    target = list(configuration.spacing)
    if len(target) != 3:
        return False
    original = [spacing[i] for i in forward]
    # The cropped shape could only shrink, and compute_new_shape rounds per axis the same way.
    return bool(np.array_equal(compute_new_shape(transposed, original, target), transposed))


def segment_case(
    predictor: Any,
    image: npt.NDArray[np.float32],
    step_size: float,
    options: InferenceOptions,
    run_network: Forward | None = None,
) -> npt.NDArray[np.uint8]:
    """Labels in ``image``'s own ``[z, y, x]`` (``image`` is ``[1, z, y, x]``); ``run_network``
    runs the network on another runtime (default: the network itself)."""
    network = predictor.network
    device = next(network.parameters()).device
    plans = predictor.plans_manager
    forward = [0, *[i + 1 for i in plans.transpose_forward]]
    data = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    if device.type == "cuda":
        data = data.pin_memory().to(device, non_blocking=True)
    data = data.permute(forward)
    box = _nonzero_box(data)
    cropped = data[(slice(None), *box)]
    normalised = _ct_normalise(cropped, predictor.plans_manager, predictor.configuration_manager)
    del data, cropped
    labels = predict_labels(
        network,
        normalised,
        tuple(predictor.configuration_manager.patch_size),
        step_size,
        predictor.label_manager.num_segmentation_heads,
        options,
        run_network,
    )
    before_crop = tuple(image.shape[i] for i in forward[1:])
    segmentation = np.zeros(before_crop, dtype=np.uint8)
    segmentation[box] = labels.numpy()
    return segmentation.transpose(plans.transpose_backward)


def _nonzero_box(data: torch.Tensor) -> tuple[slice, ...]:
    """nnU-Net's crop: the bounding box of voxels non-zero in any channel (holes don't matter)."""
    mask = (data != 0).any(0)
    if not bool(mask.any()):
        return tuple(slice(0, size) for size in mask.shape)
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = torch.nonzero(mask.any(dim=others)).flatten()
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)


def _ct_normalise(data: torch.Tensor, plans: Any, configuration: Any) -> torch.Tensor:
    """``CTNormalization`` per channel: clip to the 0.5/99.5 percentiles, subtract, divide."""
    properties = plans.foreground_intensity_properties_per_channel
    out = data.to(torch.float32).clone()
    for channel in range(out.shape[0]):
        stats = properties[str(channel)]
        values = out[channel]
        values.clamp_(float(stats["percentile_00_5"]), float(stats["percentile_99_5"]))
        values -= float(stats["mean"])
        values /= max(float(stats["std"]), 1e-8)
    return out
