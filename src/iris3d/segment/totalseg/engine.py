"""The ``totalsegmentator`` engine: TotalSegmentator's ``total`` models, kept warm."""

from __future__ import annotations

import importlib.metadata
import time
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.anatomy import total_table
from iris3d.contracts import EngineName, Quality
from iris3d.contracts.progress import Progress, no_progress, within
from iris3d.segment.base import SegmentationError, SegmentationResult
from iris3d.segment.totalseg.config import try_disable_usage_stats
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.weights import (
    TASK,
    ModelSpec,
    WeightsMissingError,
    quality_status,
)
from iris3d.volume import CTVolume, LabelMap

if TYPE_CHECKING:
    from iris3d.segment.totalseg.predictor import LoadedModel, PredictorCache


_NNUNET_CHOICES = InferenceOptions()


class TotalSegmentatorEngine:
    """Segments the 117 ``total`` structures with TotalSegmentator's nnU-Net models.

    ``device``: ``None``/``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:N]"``.
    Models load on first use and stay loaded in ``cache`` (by default one per process, shared by
    every engine), so only a process's first study pays for building the networks. Nothing is
    downloaded here: missing weights are a :class:`WeightsMissingError` that names
    ``iris models install``.
    """

    name = EngineName.TOTALSEGMENTATOR

    def __init__(
        self,
        device: str | None = None,
        *,
        cache: PredictorCache | None = None,
        weights: Path | None = None,
        inference: InferenceOptions | None = _NNUNET_CHOICES,
    ) -> None:
        self._device = device
        # The service passes IRIS_TOTALSEG_PRECISION in ``inference``; None: nnU-Net's own
        # preprocessing, inference and export, step for step (the reference the tests compare with).
        self._inference = inference
        self._cache = cache
        self._weights = weights

    @property
    def cache(self) -> PredictorCache:
        from iris3d.segment.totalseg.predictor import shared_cache

        if self._cache is None:
            self._cache = shared_cache()
        return self._cache

    def segment(
        self, volume: CTVolume, quality: Quality | str, progress: Progress = no_progress
    ) -> SegmentationResult:
        started = time.perf_counter()
        quality = Quality(quality)
        progress(0.0, "loading the TotalSegmentator model")
        spec, models, warm, device = self._load(quality)
        loaded = time.perf_counter()

        from iris3d.segment.totalseg.pipeline import segment_total

        ct = nib.Nifti1Image(np.asarray(volume.array), volume.affine)
        try:
            labels, affine, timings = segment_total(
                ct,
                spec,
                models,
                use_gpu=device == "cuda",
                progress=within(progress, 0.05, 1.0),
                options=self._inference,
            )
        except SegmentationError:
            raise
        except Exception as e:  # nnU-Net, torch or resampling failing on this study
            reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            raise SegmentationError(f"TotalSegmentator failed on this study ({reason})") from e
        label_map = _on_ct_grid(labels, affine, volume)
        progress(1.0, "done")
        return SegmentationResult(
            labels=label_map,
            engine=self.name,
            engine_version=engine_version(),
            device=device,
            parameters={
                "task": TASK,
                "quality": str(quality),
                "mode": spec.mode,
                "datasets": list(spec.task_ids),
                "trainer": spec.trainer,
                "resample_mm": spec.resample_mm,
                "warm": warm,
                "precision": self._inference.precision if self._inference else "nnunet",
                "runtime": models[0].runtime(self._inference) if self._inference else "nnunet",
            },
            timings_s={
                "load": loaded - started,
                **timings,
                "total": time.perf_counter() - started,
            },
        )

    def _load(self, quality: Quality) -> tuple[ModelSpec, list[LoadedModel], bool, str]:
        status = quality_status(quality, self._weights)
        if not status.installed:
            raise WeightsMissingError(status)
        try_disable_usage_stats()
        from iris3d.segment.totalseg.predictor import select_device

        device = select_device(self._device)
        models: list[LoadedModel] = []
        warm = True
        for dataset in status.datasets:
            model, was_loaded = self.cache.get(dataset.model_dir, device)
            models.append(model)
            warm = warm and was_loaded
        return status.spec, models, warm, device.type


def _on_ct_grid(
    labels: npt.NDArray[np.uint8], affine: npt.NDArray[np.float64], volume: CTVolume
) -> LabelMap:
    """The labels as a :class:`LabelMap` on the CT's grid, refusing anything that is not on it."""
    label_map = LabelMap(labels, affine, total_table())
    if not label_map.matches(volume):
        raise SegmentationError(
            f"TotalSegmentator returned labels of shape {labels.shape} and affine "
            f"{affine.tolist()} for a CT of shape {volume.shape} and affine "
            f"{volume.affine.tolist()}"
        )
    # The same grid: carry the CT's affine exactly, not its round trip through resampling.
    return LabelMap(labels, volume.affine.copy(), total_table())


def engine_version() -> str:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return f"TotalSegmentator {version('TotalSegmentator')}, nnU-Net {version('nnunetv2')}"
