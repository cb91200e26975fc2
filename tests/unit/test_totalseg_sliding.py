"""Iris's streamed sliding window against nnU-Net's own, on a tiny network of the real kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.contracts import Quality
from iris3d.segment.totalseg.cpu_runtime import chosen_runtime
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.predictor import LoadedModel, load_model
from iris3d.segment.totalseg.sliding import autocast_dtype, predict_labels
from iris3d.segment.totalseg.weights import model_spec


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    weights = tmp_path_factory.mktemp("weights")
    build_tiny_weights(weights, [Quality.FAST])
    return load_model(model_spec("fast").model_dir(297, weights), torch.device("cpu"))


TORCH = InferenceOptions(cpu_runtime="torch")  # nnU-Net's own arithmetic


def ct_like(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """``[1, z, y, x]`` HU-like values with an air border, so cropping to non-zero matters."""
    image = np.random.default_rng(seed).normal(0.0, 300.0, (1, *shape)).astype(np.float32)
    image[:, :3] = 0.0
    image[:, :, -2:] = 0.0
    return image


# Patch 64^3 at step 0.8: two rows of tiles along z (streamed), padding where an axis is shorter.
@pytest.mark.slow
@pytest.mark.parametrize("shape", [(100, 64, 70), (40, 66, 30)])
def test_streamed_labels_equal_nnunets_own_bit_for_bit(
    model: LoadedModel, shape: tuple[int, ...]
) -> None:
    image = ct_like(shape)
    theirs = model.predict(image, [3.0, 3.0, 3.0], None)
    ours = model.predict(image, [3.0, 3.0, 3.0], TORCH)
    assert ours.shape == theirs.shape == shape
    assert np.array_equal(ours, theirs)
    assert len(np.unique(ours)) > 5  # a random network's labels: far from constant


@pytest.mark.slow
def test_batched_tiles_give_the_same_labels(model: LoadedModel) -> None:
    image = ct_like((64, 100, 70), seed=1)
    single = model.predict(image, [3.0, 3.0, 3.0], InferenceOptions(batch_tiles=1))
    batched = model.predict(image, [3.0, 3.0, 3.0], InferenceOptions(batch_tiles=4))
    assert model.runtime(InferenceOptions()) == "openvino"  # the default on the CPU
    assert float((single == batched).mean()) >= 0.9999


@pytest.mark.slow
def test_other_spacing_takes_nnunets_path(model: LoadedModel) -> None:
    """An image nnU-Net would resample is left to nnU-Net (same result with or without options)."""
    image = ct_like((40, 50, 30), seed=2)
    theirs = model.predict(image, [1.5, 3.0, 3.0], None)
    ours = model.predict(image, [1.5, 3.0, 3.0], TORCH)
    assert np.array_equal(ours, theirs)


@pytest.mark.slow
def test_reduced_precision_on_the_cpu_agrees_mostly(model: LoadedModel) -> None:
    image = ct_like((64, 64, 64), seed=3)
    reference = model.predict(image, [3.0, 3.0, 3.0], InferenceOptions(precision="fp32"))
    bf16 = model.predict(image, [3.0, 3.0, 3.0], InferenceOptions(precision="bf16"))
    assert model.runtime(InferenceOptions(precision="bf16")) == "torch"
    # Random weights put many voxels near a tie between labels: bf16 flips some of them.
    assert float((reference == bf16).mean()) > 0.8


@pytest.mark.slow
def test_openvino_labels_agree_with_pytorchs(model: LoadedModel) -> None:
    """The default CPU runtime computes the same network: labels equal but for near-ties."""
    image = ct_like((100, 64, 70), seed=4)
    reference = model.predict(image, [3.0, 3.0, 3.0], TORCH)
    openvino = model.predict(image, [3.0, 3.0, 3.0], InferenceOptions(cpu_runtime="openvino"))
    assert len(np.unique(reference)) > 5
    assert float((reference == openvino).mean()) >= 0.995
    # The class scores themselves are PyTorch's, to rounding.
    tiles = torch.from_numpy(np.random.default_rng(5).standard_normal((2, 1, 64, 64, 64)))
    run = model._forward(InferenceOptions())
    assert run is not None
    with torch.inference_mode():
        expected = model.predictor.network(tiles.float()).numpy()
    scores = run(tiles).numpy()
    assert scores.shape == expected.shape
    assert float(np.abs(scores - expected).max()) <= 1e-3 * float(np.abs(expected).max())
    # The converted network is kept beside the weights for the next process to read.
    assert list((model.model_dir / "openvino").glob("*/network-*.xml"))


def test_the_runtime_follows_device_and_precision() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert chosen_runtime(InferenceOptions(), cpu) == "openvino"
    assert chosen_runtime(InferenceOptions(precision="fp32"), cpu) == "openvino"
    assert chosen_runtime(InferenceOptions(cpu_runtime="torch"), cpu) == "torch"
    assert chosen_runtime(InferenceOptions(precision="bf16"), cpu) == "torch"
    assert chosen_runtime(InferenceOptions(), cuda) == "torch"
    with pytest.raises(ValueError, match="cpu_runtime"):
        InferenceOptions(cpu_runtime="tensorrt")


@pytest.mark.slow
def test_an_empty_image_is_all_one_label(model: LoadedModel) -> None:
    labels = predict_labels(
        model.predictor.network,
        torch.zeros((1, 40, 64, 64)),
        (64, 64, 64),
        0.8,
        model.predictor.label_manager.num_segmentation_heads,
        InferenceOptions(),
    )
    assert labels.shape == (40, 64, 64)
    assert labels.dtype == torch.uint8


def test_precisions() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert autocast_dtype("auto", cpu) is None
    assert autocast_dtype("auto", cuda) is torch.float16
    assert autocast_dtype("bf16", cpu) is torch.bfloat16
    assert autocast_dtype("fp32", cuda) is None
    with pytest.raises(ValueError, match="precision"):
        InferenceOptions(precision="int8")
    with pytest.raises(ValueError, match="batch_tiles"):
        InferenceOptions(batch_tiles=-1)
