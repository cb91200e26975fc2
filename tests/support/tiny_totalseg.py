"""A tiny TotalSegmentator model the tests build themselves: real files and code path, offline.

Each dataset folder gets what TotalSegmentator's weights hold, in its layout
(``<weights>/<DatasetNNN_...>/<trainer>__nnUNetPlans__3d_fullres/``):

- ``dataset.json``: channel 0 "CT", ``background: 0`` plus the dataset's labels, ``.nii.gz``;
- ``plans.json``: SimpleITKIO, ``CTNormalization`` with foreground intensity statistics, and a
  ``3d_fullres`` configuration at the task's spacing with patch 64³ and a 3-stage ``PlainConvUNet``
  with features [4, 8, 16];
- ``fold_0/checkpoint_final.pth``: that network's weights, built by nnU-Net's own
  ``build_network_architecture`` under a fixed seed, with ``trainer_name`` and
  ``init_args.configuration``.

The 3 mm and 6 mm models carry the 117 ``total`` labels; each of the five 1.5 mm parts carries its
own part's labels, numbered from 1 as in the real weights, so merging them is exercised for real.
Its output is meaningless, but shapes, grids, label tables and the loading path are all real.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Mapping
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

PATCH = [64, 64, 64]
UNET = "dynamic_network_architectures.architectures.unet.PlainConvUNet"
FEATURES = [4, 8, 16]
# Plausible CT foreground statistics (HU): what CTNormalization clips to and standardises with.
INTENSITY = {
    "max": 3071.0,
    "mean": 100.0,
    "median": 60.0,
    "min": -1024.0,
    "percentile_00_5": -1000.0,
    "percentile_99_5": 1500.0,
    "std": 300.0,
}


def dataset_labels(task_id: int) -> dict[int, str]:
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
        "numTraining": 0,
        "file_ending": ".nii.gz",
    }


def plans_json(dataset_name: str, spacing_mm: float) -> dict[str, object]:
    spacing = [spacing_mm] * 3
    stages = len(FEATURES)
    resampling = "resample_data_or_seg_to_shape"
    return {
        "dataset_name": dataset_name,
        "plans_name": PLANS,
        "original_median_spacing_after_transp": spacing,
        "original_median_shape_after_transp": [128, 128, 128],
        "image_reader_writer": "SimpleITKIO",
        "transpose_forward": [0, 1, 2],
        "transpose_backward": [0, 1, 2],
        "configurations": {
            CONFIGURATION: {
                "data_identifier": f"{PLANS}_{CONFIGURATION}",
                "preprocessor_name": "DefaultPreprocessor",
                "batch_size": 2,
                "patch_size": PATCH,
                "median_image_size_in_voxels": [128, 128, 128],
                "spacing": spacing,
                "normalization_schemes": ["CTNormalization"],
                "use_mask_for_norm": [False],
                "resampling_fn_data": resampling,
                "resampling_fn_seg": resampling,
                "resampling_fn_data_kwargs": {
                    "is_seg": False,
                    "order": 3,
                    "order_z": 0,
                    "force_separate_z": None,
                },
                "resampling_fn_seg_kwargs": {
                    "is_seg": True,
                    "order": 1,
                    "order_z": 0,
                    "force_separate_z": None,
                },
                "resampling_fn_probabilities": resampling,
                "resampling_fn_probabilities_kwargs": {
                    "is_seg": False,
                    "order": 1,
                    "order_z": 0,
                    "force_separate_z": None,
                },
                "architecture": {
                    "network_class_name": UNET,
                    "arch_kwargs": {
                        "n_stages": stages,
                        "features_per_stage": FEATURES,
                        "conv_op": "torch.nn.modules.conv.Conv3d",
                        "kernel_sizes": [[3, 3, 3]] * stages,
                        "strides": [[1, 1, 1]] + [[2, 2, 2]] * (stages - 1),
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
                "batch_dice": True,
            }
        },
        "experiment_planner_used": "ExperimentPlanner",
        "label_manager": "LabelManager",
        "foreground_intensity_properties_per_channel": {"0": INTENSITY},
    }


def build_dataset(
    weights: Path, task_id: int, trainer: str, spacing_mm: float, seed: int = 0
) -> Path:
    """Write one tiny model folder; returns it."""
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    name = dataset_folder_name(task_id)
    folder = weights / name / f"{trainer}__{PLANS}__{CONFIGURATION}"
    (folder / f"fold_{FOLD}").mkdir(parents=True, exist_ok=True)
    dataset = dataset_json(dataset_labels(task_id))
    plans = plans_json(name, spacing_mm)
    (folder / "dataset.json").write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    (folder / "plans.json").write_text(json.dumps(plans, indent=2), encoding="utf-8")

    manager = PlansManager(plans)
    configuration = manager.get_configuration(CONFIGURATION)
    heads = manager.get_label_manager(dataset).num_segmentation_heads
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + task_id)
        network = nnUNetTrainer.build_network_architecture(
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
    return folder


def build_tiny_weights(
    weights: Path,
    qualities: Iterable[Quality] = (Quality.FASTEST, Quality.FAST, Quality.NORMAL),
    seed: int = 0,
) -> list[Path]:
    """Tiny models for every dataset the given quality levels need, under ``weights``."""
    folders: list[Path] = []
    for quality in qualities:
        spec = model_spec(quality)
        for task_id in spec.task_ids:
            folders.append(build_dataset(weights, task_id, spec.trainer, spec.resample_mm, seed))
    return folders


def zip_weights(weights: Path, archive: Path, prefix: str = "") -> Path:
    """Pack every ``Dataset*`` folder under ``weights`` into ``archive`` (below ``prefix``)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(weights.rglob("*")):
            if path.is_file():
                zf.write(path, f"{prefix}{path.relative_to(weights).as_posix()}")
    return archive
