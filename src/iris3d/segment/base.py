"""The one interface every segmentation engine implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from iris3d.contracts import EngineName, Quality
from iris3d.contracts.progress import Progress, no_progress
from iris3d.errors import IrisError
from iris3d.volume import CTVolume, LabelMap


class SegmentationError(IrisError):
    """Segmentation failed."""


@dataclass(frozen=True)
class SegmentationResult:
    """A label map on the CT's grid, and an account of how it was made."""

    labels: LabelMap
    engine: EngineName  # the one that ran (never ``auto``)
    engine_version: str
    device: str
    parameters: dict[str, object] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    reason: str = ""  # why this engine ran (set by ``auto``), shown to users
    # Labels drawn voxel by voxel from HU classes (tissue compartments, not organ edges), with
    # the cell in mm to mesh each on (0: its voxels): see iris3d.mesh.compartment.
    compartments: dict[int, float] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        return {
            "engine": str(self.engine),
            "engine_version": self.engine_version,
            "device": self.device,
            "parameters": self.parameters,
            "timings_s": self.timings_s,
            "reason": self.reason,
            "structures": len(self.labels.present_ids()),
        }


class Engine(Protocol):
    """Takes a CT, returns labels aligned voxel for voxel with it."""

    name: EngineName

    def segment(
        self, volume: CTVolume, quality: Quality, progress: Progress = no_progress
    ) -> SegmentationResult: ...
