"""nnU-Net predictors loaded once per model folder and kept warm across studies.

TotalSegmentator's API builds a new ``nnUNetPredictor`` on every call, reads its input back from a
temporary NIfTI and spawns preprocessing and export worker processes (each importing torch) for a
single image: seconds of fixed cost per study, whatever the model's size. Here the network is built
and its weights loaded once per folder and device; each study then runs the same nnU-Net steps in
this process: ``DefaultPreprocessor.run_case_npy``, ``predict_logits_from_preprocessed_data`` and
``convert_predicted_logits_to_segmentation_with_correct_shape``, with the settings TotalSegmentator
passes (tile step 0.8, Gaussian weighting, no mirroring).

Trainer classes are imported by name from the module that defines them. nnU-Net's own lookup
imports every trainer module to search them, one of which pulls timm and so torchvision; with a
CPU torch beside the CUDA torchvision wheel that import fails and inference with it.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from iris3d.segment.base import SegmentationError
from iris3d.segment.totalseg.cpu_runtime import Forward
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.weights import CHECKPOINT, FOLD

# TotalSegmentator's tile step for the ``total`` models (0.5 for its other tasks).
TOTAL_STEP_SIZE = 0.8

_TRAINER_MODULES: dict[str, str] = {
    "nnUNetTrainer": "nnunetv2.training.nnUNetTrainer.nnUNetTrainer",
    "nnUNetTrainerNoMirroring": (
        "nnunetv2.training.nnUNetTrainer.variants.data_augmentation.nnUNetTrainerNoMirroring"
    ),
    "nnUNetTrainer_4000epochs_NoMirroring": (
        "nnunetv2.training.nnUNetTrainer.variants.training_length.nnUNetTrainer_Xepochs_NoMirroring"
    ),
}


def trainer_class(name: str) -> Any:
    """The nnU-Net trainer class ``name``, importing only its own module when it is a known one."""
    module = _TRAINER_MODULES.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name

    return recursive_find_trainer_class_by_name(name)


def register_trainers_with_totalsegmentator() -> None:
    """Let TotalSegmentator's own API find these trainers without nnU-Net's import-all search.

    Only for code that calls ``totalsegmentator.python_api`` (the benchmark's baseline, the
    equivalence test); the engine builds its predictors here and does not need it.
    """
    from totalsegmentator import nnunet

    for name in _TRAINER_MODULES:
        nnunet.custom_trainers.setdefault(name, trainer_class(name))


def select_device(requested: str | None = None) -> torch.device:
    """CUDA when it is there, else the CPU; an explicit request that cannot be met is an error."""
    if requested in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(str(requested))
    except RuntimeError as e:
        raise SegmentationError(f"unknown device {requested!r}: use auto, cpu or cuda[:N]") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SegmentationError(f"device {requested!r} was asked for, but CUDA is not available")
    if device.type not in ("cpu", "cuda"):
        raise SegmentationError(f"device {requested!r} is not supported: use auto, cpu or cuda[:N]")
    return device


@dataclass
class LoadedModel:
    """One nnU-Net model, ready to predict; ``predict`` is serialised, the network being shared."""

    model_dir: Path
    device: torch.device
    predictor: Any  # nnunetv2's nnUNetPredictor, initialised
    preprocessor: Any
    labels: dict[int, str]
    reader: str  # plans' image_reader_writer: the I/O class the model was trained with
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _openvino: Forward | None = field(default=None, repr=False)  # compiled on first use

    def predict(
        self,
        image: npt.NDArray[np.floating[Any]] | npt.NDArray[np.integer[Any]],
        spacing: list[float],
        options: InferenceOptions | None = None,
    ) -> npt.NDArray[np.uint8]:
        """Labels ``[z, y, x]`` for ``image`` ``[1, z, y, x]`` as the plans' reader returns it.

        With ``options`` (and plans that allow it, see :mod:`.fastpath`) the case runs on the
        model's device with streamed inference; without, it runs nnU-Net's own steps.
        """
        from iris3d.segment.totalseg import fastpath

        p = self.predictor
        with self._lock:  # one network, one study at a time
            if options is not None and fastpath.can_run(p, image.shape[1:], spacing):
                array = np.asarray(image, dtype=np.float32)
                forward = self._forward(options)
                return fastpath.segment_case(p, array, TOTAL_STEP_SIZE, options, forward)
            return self._predict_nnunet(image, spacing)

    def runtime(self, options: InferenceOptions) -> str:
        """What runs the network for ``options``: ``torch`` or ``openvino``."""
        from iris3d.segment.totalseg.cpu_runtime import chosen_runtime

        return chosen_runtime(options, self.device)

    def _forward(self, options: InferenceOptions) -> Forward | None:
        """The network's forward pass on another runtime; None: PyTorch's own."""
        if self.runtime(options) != "openvino":
            return None
        if self._openvino is None:
            from iris3d.segment.totalseg import cpu_runtime

            patch = tuple(self.predictor.configuration_manager.patch_size)
            cache = cpu_runtime.cache_folder(self.model_dir / f"fold_{FOLD}" / CHECKPOINT)
            self._openvino = cpu_runtime.openvino_forward(self.predictor.network, patch, cache)
        return self._openvino

    def _predict_nnunet(
        self,
        image: npt.NDArray[np.floating[Any]] | npt.NDArray[np.integer[Any]],
        spacing: list[float],
    ) -> npt.NDArray[np.uint8]:
        from nnunetv2.inference.export_prediction import (
            convert_predicted_logits_to_segmentation_with_correct_shape,
        )

        p = self.predictor
        data, _, props = self.preprocessor.run_case_npy(
            image,
            None,
            {"spacing": spacing},
            p.plans_manager,
            p.configuration_manager,
            p.dataset_json,
        )
        tensor = torch.from_numpy(data).to(
            dtype=torch.float32, memory_format=torch.contiguous_format
        )
        # As nnU-Net's batch path does: logits to numpy before the export step.
        logits = p.predict_logits_from_preprocessed_data(tensor).cpu().detach().numpy()
        segmentation = convert_predicted_logits_to_segmentation_with_correct_shape(
            logits, p.plans_manager, p.configuration_manager, p.label_manager, props, False
        )
        return np.asarray(segmentation).astype(np.uint8, copy=False)


def load_model(model_dir: Path, device: torch.device) -> LoadedModel:
    """Build the network of ``model_dir`` and load fold 0's weights, as nnU-Net's loader does."""
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    dataset_json = json.loads((model_dir / "dataset.json").read_text(encoding="utf-8"))
    plans = json.loads((model_dir / "plans.json").read_text(encoding="utf-8"))
    plans_manager = PlansManager(plans)
    # Checkpoints hold more than tensors (numpy scalars, plans); nnU-Net loads them the same way,
    # so weights are trusted code: install them only from TotalSegmentator or your own archive.
    checkpoint = torch.load(
        model_dir / f"fold_{FOLD}" / CHECKPOINT,
        map_location=torch.device("cpu"),
        weights_only=False,
    )
    trainer_name = str(checkpoint["trainer_name"])
    configuration = plans_manager.get_configuration(checkpoint["init_args"]["configuration"])
    n_inputs = determine_num_input_channels(plans_manager, configuration, dataset_json)
    n_outputs = plans_manager.get_label_manager(dataset_json).num_segmentation_heads
    network = _build_network(
        trainer_class(trainer_name), plans_manager, configuration, n_inputs, n_outputs
    )
    parameters = checkpoint["network_weights"]
    network.load_state_dict(parameters)
    network.to(device).eval()

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a notice on every CPU
        predictor = nnUNetPredictor(
            tile_step_size=TOTAL_STEP_SIZE,
            use_gaussian=True,
            use_mirroring=False,
            perform_everything_on_device=True,
            device=device,
            verbose=False,
            verbose_preprocessing=False,
            allow_tqdm=False,
        )
        predictor.manual_initialization(
            network,
            plans_manager,
            configuration,
            [parameters],
            dataset_json,
            trainer_name,
            checkpoint.get("inference_allowed_mirroring_axes"),
        )
    labels = {int(v): str(k) for k, v in dataset_json["labels"].items() if isinstance(v, int)}
    return LoadedModel(
        model_dir=model_dir,
        device=device,
        predictor=predictor,
        preprocessor=configuration.preprocessor_class(verbose=False),
        labels=labels,
        reader=str(plans["image_reader_writer"]),
    )


def _build_network(
    trainer: Any, plans_manager: Any, configuration: Any, n_inputs: int, n_outputs: int
) -> torch.nn.Module:
    build = trainer.build_network_architecture
    if "plans_manager" in inspect.signature(build).parameters:
        network = build(
            plans_manager, configuration, n_inputs, n_outputs, enable_deep_supervision=False
        )
    else:  # trainers written for nnU-Net before 2.5
        network = build(
            configuration.network_arch_class_name,
            configuration.network_arch_init_kwargs,
            configuration.network_arch_init_kwargs_req_import,
            n_inputs,
            n_outputs,
            enable_deep_supervision=False,
        )
    if not isinstance(network, torch.nn.Module):
        raise SegmentationError(f"trainer {trainer.__name__} built no torch network")
    return network


class PredictorCache:
    """Loaded models by folder and device, least recently used dropped beyond ``max_models``.

    ``loads`` counts networks built: a second study on the same model must not add to it. A folder
    whose checkpoint changed on disk (reinstalled weights) is loaded again.
    """

    def __init__(self, max_models: int = 8) -> None:
        self.max_models = max_models
        self.loads = 0
        self._models: OrderedDict[tuple[str, str, int, int], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model_dir: Path, device: torch.device) -> tuple[LoadedModel, bool]:
        """The model and whether it was already loaded (warm)."""
        key = _cache_key(model_dir, device)
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model, True
            try:
                model = load_model(model_dir, device)
            except Exception as e:  # any failure inside nnU-Net or torch.load: a bad install
                raise SegmentationError(
                    f"the TotalSegmentator model in {model_dir} could not be loaded ({e}); "
                    "reinstall it with `iris models install`"
                ) from e
            self.loads += 1
            self._models[key] = model
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
            return model, False

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[LoadedModel]:
        return iter(list(self._models.values()))

    def clear(self) -> None:
        """Drop every loaded model (frees their memory once no study is using them)."""
        with self._lock:
            self._models.clear()


def _cache_key(model_dir: Path, device: torch.device) -> tuple[str, str, int, int]:
    checkpoint = model_dir / f"fold_{FOLD}" / CHECKPOINT
    try:
        stat = checkpoint.stat()
    except OSError as e:
        raise SegmentationError(
            f"no checkpoint at {checkpoint}; install the model with `iris models install`"
        ) from e
    return (str(model_dir.resolve()), str(device), stat.st_mtime_ns, stat.st_size)


@cache
def shared_cache() -> PredictorCache:
    """The process's cache, made on first use: every engine in a process shares loaded models."""
    return PredictorCache()
