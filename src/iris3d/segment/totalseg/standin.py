"""Full-size stand-ins for TotalSegmentator's ``total`` models: real plans, random weights.

The published checkpoints cannot be fetched everywhere Iris is measured (no network on the GPU
machine), so the benchmarks build networks of the published shape instead: nnU-Net's
``PlainConvUNet`` with the patch size, stages, features and spacing of each dataset, He-initialised
under a fixed seed, written in the layout of the release archives (dataset.json, plans.json,
fold_0/checkpoint_final.pth) and installed with ``iris models install --from DIR``. Every step
around the network then runs at its real cost; only the labels are meaningless.

How the table below was reconstructed, and what is uncertain, is in docs/totalsegmentator.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from iris3d.contracts import Quality
from iris3d.segment.totalseg.weights import (
    CHECKPOINT,
    CONFIGURATION,
    FOLD,
    PLANS,
    dataset_folder_name,
    model_spec,
)

UNET = "dynamic_network_architectures.architectures.unet.PlainConvUNet"
MAX_FEATURES = 320  # nnU-Net's cap on 3D feature maps
MIN_FEATURE_MAP = 4  # nnU-Net pools an axis only while it stays at least this many voxels
# CT foreground statistics of the ``total`` training set (HU), as reported for dataset 297.
INTENSITY = {
    "max": 3071.0,
    "mean": -50.38,
    "median": 25.0,
    "min": -1024.0,
    "percentile_00_5": -1004.0,
    "percentile_99_5": 1588.0,
    "std": 503.39,
}


@dataclass(frozen=True)
class Architecture:
    """One dataset's 3d_fullres network: patch ``[z, y, x]`` and the first stage's features."""

    patch: tuple[int, int, int]
    base_features: int = 32

    @property
    def strides(self) -> list[list[int]]:
        """nnU-Net's rule: halve each axis per stage while it stays >= 4 voxels."""
        sizes = list(self.patch)
        strides: list[list[int]] = [[1, 1, 1]]
        while True:
            stride = [2 if size // 2 >= MIN_FEATURE_MAP else 1 for size in sizes]
            if stride == [1, 1, 1]:
                return strides
            strides.append(stride)
            sizes = [size // s for size, s in zip(sizes, stride, strict=True)]

    @property
    def features(self) -> list[int]:
        return [
            min(self.base_features * 2**stage, MAX_FEATURES) for stage in range(len(self.strides))
        ]


# By resampled spacing (mm): what the published ``total`` checkpoints are planned with (see docs).
PUBLISHED: dict[float, Architecture] = {
    6.0: Architecture(patch=(64, 64, 64)),
    3.0: Architecture(patch=(112, 112, 128)),
    1.5: Architecture(patch=(128, 128, 128)),
}


def dataset_labels(task_id: int) -> dict[int, str]:
    """The labels of ``task_id``: a part's own (numbered from 1) or all 117 of ``total``."""
    from totalsegmentator.map_to_binary import (
        class_map,
        class_map_5_parts,
        map_taskid_to_partname_ct,
    )

    if task_id in map_taskid_to_partname_ct:
        return dict(class_map_5_parts[map_taskid_to_partname_ct[task_id]])
    return dict(class_map["total"])


def dataset_json(labels: Mapping[int, str]) -> dict[str, object]:
    return {
        "channel_names": {"0": "CT"},
        "labels": {"background": 0, **{name: label for label, name in sorted(labels.items())}},
        "numTraining": 1559,
        "file_ending": ".nii.gz",
    }


def plans_json(
    dataset_name: str, spacing_mm: float, architecture: Architecture
) -> dict[str, object]:
    """nnU-Net v2 plans (the format of nnU-Net >= 2.4) for one ``3d_fullres`` model."""
    spacing = [spacing_mm] * 3
    strides = architecture.strides
    stages = len(strides)
    resampling = "resample_data_or_seg_to_shape"

    def kwargs(is_seg: bool, order: int) -> dict[str, object]:
        return {"is_seg": is_seg, "order": order, "order_z": 0, "force_separate_z": None}

    median = [round(s * 1.25) for s in architecture.patch]
    return {
        "dataset_name": dataset_name,
        "plans_name": PLANS,
        "original_median_spacing_after_transp": spacing,
        "original_median_shape_after_transp": median,
        "image_reader_writer": "SimpleITKIO",
        "transpose_forward": [0, 1, 2],
        "transpose_backward": [0, 1, 2],
        "configurations": {
            CONFIGURATION: {
                "data_identifier": f"{PLANS}_{CONFIGURATION}",
                "preprocessor_name": "DefaultPreprocessor",
                "batch_size": 2,
                "patch_size": list(architecture.patch),
                "median_image_size_in_voxels": median,
                "spacing": spacing,
                "normalization_schemes": ["CTNormalization"],
                "use_mask_for_norm": [False],
                "resampling_fn_data": resampling,
                "resampling_fn_seg": resampling,
                "resampling_fn_data_kwargs": kwargs(False, 3),
                "resampling_fn_seg_kwargs": kwargs(True, 1),
                "resampling_fn_probabilities": resampling,
                "resampling_fn_probabilities_kwargs": kwargs(False, 1),
                "architecture": {
                    "network_class_name": UNET,
                    "arch_kwargs": {
                        "n_stages": stages,
                        "features_per_stage": architecture.features,
                        "conv_op": "torch.nn.modules.conv.Conv3d",
                        "kernel_sizes": [[3, 3, 3]] * stages,
                        "strides": strides,
                        "n_conv_per_stage": [2] * stages,
                        "n_conv_per_stage_decoder": [2] * (stages - 1),
                        "conv_bias": True,
                        "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
                        "norm_op_kwargs": {"eps": 1e-05, "affine": True},
                        "dropout_op": None,
                        "dropout_op_kwargs": None,
                        "nonlin": "torch.nn.LeakyReLU",
                        "nonlin_kwargs": {"inplace": True},
                    },
                    "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
                },
                "batch_dice": False,
            }
        },
        "experiment_planner_used": "ExperimentPlanner",
        "label_manager": "LabelManager",
        "foreground_intensity_properties_per_channel": {"0": INTENSITY},
    }


def build_dataset(
    weights: Path,
    task_id: int,
    trainer: str,
    spacing_mm: float,
    architecture: Architecture,
    seed: int = 0,
) -> tuple[Path, int]:
    """Write one model folder under ``weights``; returns it and the network's parameter count."""
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from iris3d.segment.totalseg.predictor import trainer_class

    name = dataset_folder_name(task_id)
    folder = weights / name / f"{trainer}__{PLANS}__{CONFIGURATION}"
    (folder / f"fold_{FOLD}").mkdir(parents=True, exist_ok=True)
    dataset = dataset_json(dataset_labels(task_id))
    plans = plans_json(name, spacing_mm, architecture)
    (folder / "dataset.json").write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    (folder / "plans.json").write_text(json.dumps(plans, indent=2), encoding="utf-8")

    manager = PlansManager(plans)
    configuration = manager.get_configuration(CONFIGURATION)
    heads = manager.get_label_manager(dataset).num_segmentation_heads
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + task_id)
        network = trainer_class(trainer).build_network_architecture(
            manager, configuration, 1, heads, enable_deep_supervision=False
        )
    checkpoint = {
        "network_weights": network.state_dict(),
        "trainer_name": trainer,
        "init_args": {"configuration": CONFIGURATION, "fold": FOLD},
        "inference_allowed_mirroring_axes": None,
        "current_epoch": 0,
    }
    torch.save(checkpoint, folder / f"fold_{FOLD}" / CHECKPOINT)
    return folder, sum(p.numel() for p in network.parameters())


def build_standin(
    weights: Path,
    qualities: Iterable[Quality] = (Quality.FASTEST, Quality.FAST, Quality.NORMAL),
    seed: int = 0,
    architectures: Mapping[float, Architecture] | None = None,
) -> list[tuple[Path, int]]:
    """Stand-in models for every dataset the levels need; ``architectures`` by spacing (mm)."""
    table = PUBLISHED if architectures is None else architectures
    built: list[tuple[Path, int]] = []
    done: set[int] = set()
    for quality in qualities:
        spec = model_spec(quality)
        for task_id in spec.task_ids:
            if task_id in done:
                continue
            done.add(task_id)
            arch = table[spec.resample_mm]
            folder = build_dataset(weights, task_id, spec.trainer, spec.resample_mm, arch, seed)
            built.append(folder)
    return built


def describe(architectures: Sequence[tuple[float, Architecture]]) -> list[dict[str, object]]:
    """Patch, strides and features per spacing, for the benchmark's report."""
    return [
        {"spacing_mm": mm, "patch": list(a.patch), "strides": a.strides, "features": a.features}
        for mm, a in architectures
    ]
