"""Where TotalSegmentator's weights live, and which of them each quality level needs.

The layout is TotalSegmentator's own, so weights it downloaded serve Iris and the other way round:
``<weights>/<DatasetNNN_...>/<trainer>__nnUNetPlans__3d_fullres/{dataset.json, plans.json,
fold_0/checkpoint_final.pth}``. Which datasets, trainer and resampling a level uses is read from
TotalSegmentator's task table (task ``total``), so a new release's table is followed, not copied.
Nothing here imports torch: ``auto`` asks :func:`is_installed` before it picks an engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from iris3d.contracts import Quality
from iris3d.segment.base import SegmentationError
from iris3d.segment.totalseg.config import totalseg_home

TASK = "total"
PLANS = "nnUNetPlans"
CONFIGURATION = "3d_fullres"
FOLD = 0
CHECKPOINT = "checkpoint_final.pth"
MODEL_FILES: tuple[str, ...] = ("dataset.json", "plans.json", f"fold_{FOLD}/{CHECKPOINT}")

# TotalSegmentator's sub-modes of task "total"; ``high`` meshes the normal model more finely.
_MODES: dict[Quality, str] = {
    Quality.FASTEST: "fastest",
    Quality.FAST: "fast",
    Quality.NORMAL: "default",
    Quality.HIGH: "default",
}


def weights_dir() -> Path:
    """``TOTALSEG_WEIGHTS_PATH``, else ``<home>/nnunet/results``, as TotalSegmentator decides it."""
    if "TOTALSEG_WEIGHTS_PATH" in os.environ:
        return Path(os.environ["TOTALSEG_WEIGHTS_PATH"])
    return totalseg_home() / "nnunet" / "results"


@dataclass(frozen=True)
class ModelSpec:
    """The nnU-Net models behind one quality level and how TotalSegmentator runs them."""

    quality: Quality
    mode: str  # TotalSegmentator's name: "fastest", "fast" or "default"
    task_ids: tuple[int, ...]
    trainer: str
    resample_mm: float

    @property
    def multi_part(self) -> bool:
        """True for the 1.5 mm model, split over five datasets whose labels are merged."""
        return len(self.task_ids) > 1

    def model_dir(self, task_id: int, weights: Path | None = None) -> Path:
        folder = f"{self.trainer}__{PLANS}__{CONFIGURATION}"
        return (weights or weights_dir()) / dataset_folder_name(task_id) / folder

    def model_dirs(self, weights: Path | None = None) -> tuple[Path, ...]:
        return tuple(self.model_dir(task_id, weights) for task_id in self.task_ids)


def model_spec(quality: Quality | str) -> ModelSpec:
    from totalsegmentator.map_tasks_config import TASK_CONFIGS

    quality = Quality(quality)
    mode = _MODES[quality]
    sub_mode = TASK_CONFIGS[TASK]["sub_modes"][mode]
    raw_ids = sub_mode["task_id"]
    task_ids = tuple(int(i) for i in raw_ids) if isinstance(raw_ids, list) else (int(raw_ids),)
    return ModelSpec(
        quality=quality,
        mode=mode,
        task_ids=task_ids,
        trainer=str(sub_mode["trainer"]),
        resample_mm=float(sub_mode["resample"]),
    )


def dataset_folder_name(task_id: int) -> str:
    """``Dataset297_TotalSegmentator_total_3mm_1559subj`` for 297: folder and archive name."""
    from totalsegmentator.map_tasks_config import TASK_ID_WEIGHTS_CONFIGS

    return str(TASK_ID_WEIGHTS_CONFIGS[task_id]["foldername"])


def missing_files(model_dir: Path) -> tuple[str, ...]:
    return tuple(name for name in MODEL_FILES if not (model_dir / name).is_file())


@dataclass(frozen=True)
class DatasetStatus:
    task_id: int
    model_dir: Path
    missing: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class QualityStatus:
    spec: ModelSpec
    datasets: tuple[DatasetStatus, ...]

    @property
    def installed(self) -> bool:
        return all(d.installed for d in self.datasets)

    def to_dict(self) -> dict[str, object]:
        return {
            "quality": str(self.spec.quality),
            "installed": self.installed,
            "resample_mm": self.spec.resample_mm,
            "datasets": [
                {
                    "task_id": d.task_id,
                    "path": str(d.model_dir),
                    "installed": d.installed,
                    "missing": list(d.missing),
                }
                for d in self.datasets
            ],
        }


def quality_status(quality: Quality | str, weights: Path | None = None) -> QualityStatus:
    spec = model_spec(quality)
    datasets = tuple(
        DatasetStatus(task_id, path, missing_files(path))
        for task_id, path in zip(spec.task_ids, spec.model_dirs(weights), strict=True)
    )
    return QualityStatus(spec, datasets)


def is_installed(quality: Quality | str, weights: Path | None = None) -> bool:
    """True when every dataset the level needs has its model files; never touches the network."""
    try:
        return quality_status(quality, weights).installed
    except ImportError:  # TotalSegmentator itself is not installed
        return False


def installed_qualities(weights: Path | None = None) -> set[Quality]:
    return {quality for quality in Quality if is_installed(quality, weights)}


class WeightsMissingError(SegmentationError):
    """The TotalSegmentator weights for this quality level are not installed."""

    def __init__(self, status: QualityStatus) -> None:
        spec = status.spec
        missing = ", ".join(str(d.task_id) for d in status.datasets if not d.installed)
        where = status.datasets[0].model_dir.parent.parent
        super().__init__(
            f"the TotalSegmentator model for quality '{spec.quality}' is not installed "
            f"(dataset {missing} missing in {where}). Install it with "
            f"`iris models install --quality {spec.quality}` where there is internet, or offline "
            "with `iris models install --from ZIP|DIR`; `iris models status` shows what is there."
        )
        self.status = status
