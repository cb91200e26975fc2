"""How the engine runs the networks; free of torch, which the engine imports only when needed."""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# What runs the network on the CPU; ``auto``: OpenVINO where it is installed and the arithmetic is
# fp32 (about 0.7x PyTorch's time here, scores within ~2e-3), else PyTorch (nnU-Net's labels).
CPU_RUNTIMES = ("auto", "torch", "openvino")


@dataclass(frozen=True)
class InferenceOptions:
    """How the network is run. ``auto`` precision is nnU-Net's arithmetic; ``cpu_runtime``
    ``torch`` with it reproduces nnU-Net's labels bit for bit, ``auto`` trades that for speed on
    the CPU (see :mod:`.cpu_runtime`)."""

    precision: str = "auto"
    batch_tiles: int = 0  # tiles per forward pass; 0: one row of tiles on CUDA, 1 on the CPU
    cpu_runtime: str = "auto"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.batch_tiles < 0:
            raise ValueError("batch_tiles must be 0 (automatic) or more")
        if self.cpu_runtime not in CPU_RUNTIMES:
            raise ValueError(f"cpu_runtime must be one of {', '.join(CPU_RUNTIMES)}")
