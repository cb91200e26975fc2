"""Segmentation engines, chosen by name in one place.

- ``totalsegmentator``: the nnU-Net model (needs its weights, see ``iris models``);
- ``tissue``: built-in, from Hounsfield units and morphology, no weights, seconds on CPU;
- ``import``: a segmentation made elsewhere (NIfTI label map or masks, DICOM-SEG);
- ``auto``: ``totalsegmentator`` when its weights for the quality level are installed, else
  ``tissue``; the result's ``reason`` says which ran and why.

Engines are imported lazily, so choosing ``tissue`` never loads torch.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from iris3d.contracts import EngineName, Quality
from iris3d.contracts.progress import Progress, no_progress
from iris3d.ingest.limits import ReadLimits
from iris3d.segment.base import Engine, SegmentationError, SegmentationResult
from iris3d.volume import CTVolume

__all__ = [
    "AutoEngine",
    "Engine",
    "SegmentationError",
    "SegmentationResult",
    "engine_name",
    "get_engine",
]


def engine_name(name: str, *, segmentation: bool = False) -> EngineName:
    """The engine to run for what a user asked: ``name``, or ``import`` when they brought their
    own ``segmentation`` and left the engine to ``auto``. Bringing a segmentation while naming
    another engine is refused rather than silently overridden."""
    try:
        chosen = EngineName(name)
    except ValueError:
        raise SegmentationError(
            f"unknown segmentation engine {name!r}; choose one of {', '.join(EngineName)}"
        ) from None
    if segmentation and chosen is EngineName.AUTO:
        return EngineName.IMPORT
    if segmentation and chosen is not EngineName.IMPORT:
        raise SegmentationError(
            f"--segmentation is for the import engine; the {chosen.value!r} engine makes its "
            "own: leave --engine out"
        )
    if not segmentation and chosen is EngineName.IMPORT:
        raise SegmentationError(
            "the import engine needs the segmentation to import (--segmentation FILE_OR_DIR)"
        )
    return chosen


def get_engine(
    name: str,
    *,
    limits: ReadLimits,
    segmentation: Path | None = None,
    table: Path | None = None,
    device: str | None = None,
    precision: str = "auto",
    cpu_runtime: str = "auto",
) -> Engine:
    """The engine called ``name`` (``import`` for ``auto`` with a ``segmentation``, see
    :func:`engine_name`). ``segmentation`` (and optionally its label ``table``) is what
    ``import`` reads, within ``limits``; ``device``, ``precision`` and ``cpu_runtime`` (the
    settings' ``totalseg_*``) are for ``totalsegmentator`` (default device: CUDA when
    available)."""
    chosen = engine_name(name, segmentation=segmentation is not None)
    if chosen is EngineName.IMPORT:
        from iris3d.segment.imported import ImportEngine

        assert segmentation is not None  # engine_name refuses import without one
        return ImportEngine(segmentation, table, max_voxels=limits.max_voxels)
    if chosen is EngineName.TISSUE:
        from iris3d.segment.tissue import TissueEngine

        return TissueEngine()
    if chosen is EngineName.TOTALSEGMENTATOR:
        return _totalsegmentator(device, precision, cpu_runtime)
    return AutoEngine(limits, device, precision, cpu_runtime)


def _totalsegmentator(device: str | None, precision: str, cpu_runtime: str) -> Engine:
    from iris3d.segment.totalseg import TotalSegmentatorEngine
    from iris3d.segment.totalseg.options import InferenceOptions

    options = InferenceOptions(precision=precision, cpu_runtime=cpu_runtime)
    return TotalSegmentatorEngine(device, inference=options)


class AutoEngine:
    """TotalSegmentator where its weights for the asked quality are installed, else the tissue
    engine. Keeps the engines it made, so a model loaded for one study serves the next."""

    name = EngineName.AUTO

    def __init__(
        self,
        limits: ReadLimits,
        device: str | None = None,
        precision: str = "auto",
        cpu_runtime: str = "auto",
    ) -> None:
        self._limits = limits
        self._device = device
        self._precision = precision
        self._cpu_runtime = cpu_runtime
        self._engines: dict[EngineName, Engine] = {}

    def choose(self, quality: Quality) -> tuple[EngineName, str]:
        """(engine name, the reason shown to users) for this quality level."""
        from iris3d.segment.totalseg.weights import is_installed

        if is_installed(quality):
            reason = f"its models for {quality.value!r} quality are installed"
            return EngineName.TOTALSEGMENTATOR, reason
        # Shown to web users under "Segmented by the built-in tissue engine": no command line.
        return EngineName.TISSUE, (
            f"TotalSegmentator's models for {quality.value!r} quality are not installed on this "
            "server (an administrator can install them)"
        )

    def segment(
        self, volume: CTVolume, quality: Quality, progress: Progress = no_progress
    ) -> SegmentationResult:
        name, reason = self.choose(quality)
        if name not in self._engines:
            self._engines[name] = get_engine(name, limits=self._limits, device=self._device,
                                             precision=self._precision,
                                             cpu_runtime=self._cpu_runtime)
        result = self._engines[name].segment(volume, quality, progress)
        # Everything the chosen engine said (its compartments too), with the reason added.
        return replace(result, reason=reason)
