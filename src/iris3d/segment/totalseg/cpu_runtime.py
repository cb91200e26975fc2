"""The network on the CPU through OpenVINO, where it is installed.

On this project's CPU OpenVINO runs a `fast` tile of TotalSegmentator's network in about 0.7x
PyTorch's time when the machine is otherwise idle (0.4x when other work loads it: PyTorch's
threads suffer more from sharing the cores; ``benchmarks/totalseg_cpu_backends.py``, where ONNX
Runtime came second and torch.compile gained nothing), in fp32: its class scores differ from
PyTorch's by rounding (at most ~2e-3 on the full-size stand-in), so a voxel whose two best
classes are that close may take the other one. PyTorch
stays the runtime for CUDA, for reduced precision and where ``cpu_runtime="torch"`` asks for
nnU-Net's labels bit for bit.

Converting a network traces it once (seconds per model); the converted model is kept beside the
weights (``<model>/openvino/``) so that a cold ``iris process`` reads it instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from iris3d.segment.totalseg.options import InferenceOptions

Forward = Callable[[torch.Tensor], torch.Tensor]

# Small enough to trace quickly, large enough that every stage keeps more than one voxel (the
# instance norms refuse a 1x1x1 feature map): any nnU-Net 3D patch pools at most 2^5 per axis.
_TRACE_SHAPE = (1, 1, 64, 64, 64)


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def chosen_runtime(options: InferenceOptions, device: torch.device) -> str:
    """``torch`` or ``openvino`` for these options on ``device``."""
    if device.type != "cpu" or options.precision not in ("auto", "fp32"):
        return "torch"
    if options.cpu_runtime == "auto":
        return "openvino" if openvino_installed() else "torch"
    return options.cpu_runtime


def cache_folder(checkpoint: Path) -> Path:
    """Where the converted model of ``checkpoint`` is kept: named by the checkpoint's size and
    time, so weights installed anew are converted anew."""
    stat = checkpoint.stat()
    return checkpoint.parent.parent / "openvino" / f"{stat.st_size}-{stat.st_mtime_ns}"


def openvino_forward(network: torch.nn.Module, patch: tuple[int, ...], cache: Path) -> Forward:
    """``network`` compiled by OpenVINO for tiles of ``patch`` (batches run tile by tile);
    ``cache``: the folder from :func:`cache_folder`."""
    import openvino as ov

    core = ov.Core()
    model = _converted(network, cache)
    model.reshape({0: [1, 1, *patch]})
    compiled = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": "f32",  # bf16 where the CPU has it would change labels
        "PERFORMANCE_HINT": "LATENCY",
    })
    request = compiled.create_infer_request()

    def forward(tiles: torch.Tensor) -> torch.Tensor:
        outputs = [
            np.array(request.infer({0: tile[None].numpy()})[0]) for tile in tiles.float()
        ]
        return torch.from_numpy(np.concatenate(outputs))

    return forward


def _converted(network: torch.nn.Module, cache: Path) -> Any:
    """The OpenVINO model of ``network``: read from ``cache`` when an earlier run left it."""
    import openvino as ov

    path = cache / f"network-{ov.get_version().split('-')[0]}.xml"
    if path.exists():
        with contextlib.suppress(RuntimeError):  # unreadable: convert again below
            return ov.Core().read_model(str(path))
    with torch.inference_mode():
        model = ov.convert_model(network, example_input=torch.zeros(_TRACE_SHAPE))
    with contextlib.suppress(OSError):  # weights on a read-only disk: convert on every load
        _save_atomically(model, path)
    return model


def _save_atomically(model: Any, path: Path) -> None:
    """``path`` (.xml) and its .bin appear whole or not at all: written beside, then renamed."""
    import openvino as ov

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        staged = Path(scratch) / path.name
        ov.save_model(model, str(staged), compress_to_fp16=False)
        staged.with_suffix(".bin").replace(path.with_suffix(".bin"))
        staged.replace(path)
