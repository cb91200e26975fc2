"""Segmentation engines, chosen by name in one place.

- ``totalsegmentator``: the nnU-Net model (needs its weights, see ``iris models``);
- ``tissue``: built-in, from Hounsfield units and morphology, no weights, seconds on CPU;
- ``import``: a segmentation made elsewhere (NIfTI label map or masks, DICOM-SEG);
- ``auto``: ``totalsegmentator`` when its weights for the quality level are installed, else
  ``tissue``; the result's ``reason`` says which ran and why.

Engines are imported lazily, so choosing ``tissue`` never loads torch.
"""

from __future__ import annotations

from pathlib import Path

from iris3d.contracts import EngineName, Quality
from iris3d.segment.base import (
    Engine,
    ProgressCallback,
    SegmentationError,
    SegmentationResult,
    no_progress,
)
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
    segmentation: Path | None = None,
    table: Path | None = None,
    device: str | None = None,
) -> Engine:
    """The engine called ``name`` (``import`` for ``auto`` with a ``segmentation``, see
    :func:`engine_name`). ``segmentation`` (and optionally its label ``table``) is what
    ``import`` reads; ``device`` is for ``totalsegmentator`` (default: CUDA when available)."""
    chosen = engine_name(name, segmentation=segmentation is not None)
    if chosen is EngineName.IMPORT:
        from iris3d.segment.imported import ImportEngine

        assert segmentation is not None  # engine_name refuses import without one
        return ImportEngine(segmentation, table)
    if chosen is EngineName.TISSUE:
        from iris3d.segment.tissue import TissueEngine

        return TissueEngine()
    if chosen is EngineName.TOTALSEGMENTATOR:
        from iris3d.segment.totalseg import TotalSegmentatorEngine

        return TotalSegmentatorEngine(device)
    return AutoEngine(device)


class AutoEngine:
    """TotalSegmentator where its weights for the asked quality are installed, else the tissue
    engine. Keeps the engines it made, so a model loaded for one study serves the next."""

    name = EngineName.AUTO

    def __init__(self, device: str | None = None) -> None:
        self._device = device
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
        self, volume: CTVolume, quality: Quality, progress: ProgressCallback = no_progress
    ) -> SegmentationResult:
        name, reason = self.choose(quality)
        if name not in self._engines:
            self._engines[name] = get_engine(name, device=self._device)
        result = self._engines[name].segment(volume, quality, progress)
        return SegmentationResult(
            labels=result.labels,
            engine=result.engine,
            engine_version=result.engine_version,
            device=result.device,
            parameters=result.parameters,
            timings_s=result.timings_s,
            reason=reason,
        )
