"""nnU-Net's sliding-window inference, streamed along the first axis, labels out.

The arithmetic is nnU-Net's (``nnUNetPredictor.predict_sliding_window_return_logits``): the same
tiles in the same order, each prediction weighted by the same Gaussian and summed, the sum divided
by the summed weights, then the arg-max. What differs is where it happens and how much is held:

- rows of tiles (one first-axis position each) go through the network as one batch;
- the accumulator covers one patch of rows, not the whole image: rows no later tile reaches are
  divided and arg-maxed as soon as the next row of tiles starts, on the device, and only their
  labels (one byte per voxel) leave it. GPU memory is bounded by the patch, not the study, so a
  512x512x1000 study fits in a few GB, and logits never cross to the host;
- the precision is chosen: nnU-Net's (fp16 autocast on CUDA, fp32 on the CPU), fp32, bf16 or fp16.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import torch

from iris3d.segment.totalseg.options import InferenceOptions


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast type for ``precision`` on ``device``; None runs the network in fp32."""
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def accumulator_dtype(device: torch.device) -> torch.dtype:
    # nnU-Net sums in fp16, on the CPU too: so do we, and the labels are nnU-Net's bit for bit.
    del device
    return torch.float16


@torch.inference_mode()
def predict_labels(
    network: torch.nn.Module,
    image: torch.Tensor,
    patch: tuple[int, ...],
    step_size: float,
    num_classes: int,
    options: InferenceOptions,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Labels ``[d0, d1, d2]`` (uint8, on the CPU) for ``image`` ``[1, d0, d1, d2]``;
    ``forward`` (default: ``network`` itself) computes the class scores of a batch of tiles."""
    from acvl_utils.cropping_and_padding.padding import pad_nd_image
    from nnunetv2.inference.sliding_window_prediction import (
        compute_gaussian,
        compute_steps_for_sliding_window,
    )

    device = next(network.parameters()).device
    run = network if forward is None else forward
    padded, unpad = pad_nd_image(image, list(patch), "constant", {"value": 0}, True, None)
    padded = padded.to(device, non_blocking=True)
    shape = tuple(padded.shape[1:])
    steps = compute_steps_for_sliding_window(shape, patch, step_size)
    acc_dtype = accumulator_dtype(device)
    # In fp16, as nnU-Net computes it, whatever the sums are kept in.
    gaussian = compute_gaussian(
        tuple(patch), sigma_scale=1.0 / 8, value_scaling_factor=10, device=device
    )
    cast = autocast_dtype(options.precision, device)
    batch = options.batch_tiles or (len(steps[1]) * len(steps[2]) if device.type == "cuda" else 1)
    labels = torch.empty(shape, dtype=torch.uint8, device=device)
    rows = patch[0]
    acc = torch.zeros((num_classes, rows, *shape[1:]), dtype=acc_dtype, device=device)
    weight = torch.zeros((rows, *shape[1:]), dtype=acc_dtype, device=device)
    low = steps[0][0]
    context = torch.autocast(device.type, dtype=cast) if cast is not None else nullcontext()
    for start in steps[0]:
        if start > low:  # rows [low, start) are complete: no later tile reaches them
            done = start - low
            _finish(acc, weight, done, labels[low:start])
            acc[:, : rows - done] = acc[:, done:].clone()
            acc[:, rows - done :] = 0
            weight[: rows - done] = weight[done:].clone()
            weight[rows - done :] = 0
            low = start
        for tiles in _batches([(y, x) for y in steps[1] for x in steps[2]], batch):
            slab = padded[0, start : start + rows]
            inputs = torch.stack([slab[:, y : y + patch[1], x : x + patch[2]] for y, x in tiles])
            inputs = inputs[:, None]
            with context:
                predictions = run(inputs)
            for (y, x), prediction in zip(tiles, predictions, strict=True):
                acc[:, :, y : y + patch[1], x : x + patch[2]] += prediction * gaussian
                weight[:, y : y + patch[1], x : x + patch[2]] += gaussian
    _finish(acc, weight, shape[0] - low, labels[low:])
    return labels[tuple(unpad[1:])].cpu()


def _finish(acc: torch.Tensor, weight: torch.Tensor, rows: int, out: torch.Tensor) -> None:
    """Average and arg-max the first ``rows`` rows into ``out``, as nnU-Net divides then picks."""
    averaged = acc[:, :rows] / weight[:rows]
    if not torch.isfinite(averaged).all():
        raise RuntimeError("the network's summed predictions overflowed; run it in fp32")
    out.copy_(averaged.argmax(0).to(torch.uint8))


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
