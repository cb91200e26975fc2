"""How the engine runs the networks; free of torch, which the engine imports only when needed."""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class InferenceOptions:
    """How the network is run; ``auto`` everywhere reproduces nnU-Net's choices."""

    precision: str = "auto"
    batch_tiles: int = 0  # tiles per forward pass; 0: one row of tiles on CUDA, 1 on the CPU

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.batch_tiles < 0:
            raise ValueError("batch_tiles must be 0 (automatic) or more")
