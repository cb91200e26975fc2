"""The ``totalsegmentator`` engine end to end on a tiny model: real nnU-Net, real files, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.anatomy import total_table
from iris3d.contracts import Quality
from iris3d.phantom import Phantom, make_phantom
from iris3d.segment.base import SegmentationError
from iris3d.segment.totalseg import TotalSegmentatorEngine, WeightsMissingError
from iris3d.segment.totalseg.options import InferenceOptions
from iris3d.segment.totalseg.pipeline import _merge, _split, nnunet_input
from iris3d.segment.totalseg.predictor import PredictorCache
from iris3d.volume import CTVolume

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A TotalSegmentator home with tiny weights for every quality level."""
    home = tmp_path_factory.mktemp("totalseg-home")
    build_tiny_weights(home / "nnunet" / "results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOTALSEG_HOME_DIR", str(home))
        mp.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
        yield home


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    """Small, with 2 x 2 x 3 mm voxels so that every level really resamples."""
    return make_phantom(shape=(48, 40, 24), spacing=(2.0, 2.0, 3.0))


@pytest.fixture(scope="module")
def engine(home: Path) -> TotalSegmentatorEngine:
    return TotalSegmentatorEngine(device="cpu", cache=PredictorCache())


@pytest.mark.parametrize(
    ("quality", "datasets"),
    [("fast", [297]), ("normal", [291, 292, 293, 294, 295]), ("high", [291, 292, 293, 294, 295])],
)
def test_labels_lie_on_the_cts_grid_with_the_total_table(
    engine: TotalSegmentatorEngine, phantom: Phantom, quality: str, datasets: list[int]
) -> None:
    result = engine.segment(phantom.ct, Quality(quality))
    labels = result.labels
    assert labels.shape == phantom.ct.shape
    assert np.array_equal(labels.affine, phantom.ct.affine)
    assert labels.table is total_table() or list(labels.table) == list(total_table())
    assert set(np.unique(labels.array)) <= {0, *total_table()}
    assert labels.present_ids(), "the tiny network labels something"
    assert result.engine == "totalsegmentator"
    assert result.device == "cpu"
    assert result.parameters["datasets"] == datasets
    assert result.parameters["quality"] == quality
    assert "TotalSegmentator 2." in result.engine_version
    assert result.timings_s["total"] >= result.timings_s["predict"] > 0


def test_the_five_parts_are_merged_into_total_ids(
    engine: TotalSegmentatorEngine, phantom: Phantom
) -> None:
    from totalsegmentator.map_to_binary import class_map_5_parts

    labels = engine.segment(phantom.ct, Quality.NORMAL).labels
    names = {labels.table[i].name for i in labels.present_ids()}
    part_names = {n for part in class_map_5_parts.values() for n in part.values()}
    assert names <= part_names


def test_the_second_study_reuses_the_loaded_networks(home: Path, phantom: Phantom) -> None:
    engine = TotalSegmentatorEngine(device="cpu", cache=PredictorCache())
    first = engine.segment(phantom.ct, Quality.FAST)
    model = next(iter(engine.cache))
    assert engine.cache.loads == 1 and first.parameters["warm"] is False

    other = make_phantom(shape=(40, 36, 20), spacing=(2.5, 2.5, 3.0), noise_hu=20.0, seed=3)
    second = engine.segment(other.ct, Quality.FAST)
    assert engine.cache.loads == 1
    assert next(iter(engine.cache)) is model
    assert second.parameters["warm"] is True
    assert second.labels.shape == other.ct.shape

    # A second engine in the same process shares the networks through the same cache.
    again = TotalSegmentatorEngine(device="cpu", cache=engine.cache).segment(other.ct, "fast")
    assert engine.cache.loads == 1
    assert np.array_equal(again.labels.array, second.labels.array)


def test_orientation_is_undone_like_totalsegmentator(
    engine: TotalSegmentatorEngine, phantom: Phantom
) -> None:
    """The same CT stored with x and y reversed (as LPS files are): the same labels, reversed."""
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[0, 3] = phantom.ct.shape[0] - 1
    flip[1, 3] = phantom.ct.shape[1] - 1
    stored = CTVolume(phantom.ct.array[::-1, ::-1, :].astype(np.int16), phantom.ct.affine @ flip)
    ras = engine.segment(phantom.ct, Quality.FAST).labels
    lps = engine.segment(stored, Quality.FAST).labels
    assert np.array_equal(lps.affine, stored.affine)
    assert np.array_equal(lps.array[::-1, ::-1, :], ras.array)


def test_missing_weights_are_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phantom: Phantom
) -> None:
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path))
    engine = TotalSegmentatorEngine(device="cpu", cache=PredictorCache())
    with pytest.raises(WeightsMissingError) as error:
        engine.segment(phantom.ct, Quality.FAST)
    assert isinstance(error.value, SegmentationError)
    assert "`iris models install --quality fast`" in str(error.value)
    assert engine.cache.loads == 0


def test_a_corrupt_checkpoint_is_a_segmentation_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phantom: Phantom
) -> None:
    weights = tmp_path / "weights"
    (folder,) = build_tiny_weights(weights, [Quality.FASTEST])
    (folder / "fold_0" / "checkpoint_final.pth").write_bytes(b"truncated")
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(weights))
    with pytest.raises(SegmentationError, match="reinstall it with `iris models install`"):
        TotalSegmentatorEngine(device="cpu", cache=PredictorCache()).segment(phantom.ct, "fastest")


def test_segmenting_turns_usage_statistics_off(
    engine: TotalSegmentatorEngine, home: Path, phantom: Phantom
) -> None:
    (home / "config.json").write_text(json.dumps({"send_usage_stats": True, "totalseg_id": "x"}))
    engine.segment(phantom.ct, Quality.FASTEST)
    assert json.loads((home / "config.json").read_text())["send_usage_stats"] is False


def test_an_unavailable_device_is_refused(home: Path, phantom: Phantom) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(SegmentationError, match="CUDA is not available"):
        TotalSegmentatorEngine(device="cuda", cache=PredictorCache()).segment(phantom.ct, "fast")


def test_in_memory_input_equals_what_nnunets_reader_reads(phantom: Phantom, tmp_path: Path) -> None:
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO
    from totalsegmentator.resampling import change_spacing

    image = nib.Nifti1Image(phantom.ct.array.astype(np.float64), phantom.ct.affine)
    resampled = change_spacing(image, [1.5, 1.5, 1.5], order=1, dtype=np.int32)
    nib.save(resampled, tmp_path / "s01_0000.nii.gz")
    expected, props = SimpleITKIO().read_images([str(tmp_path / "s01_0000.nii.gz")])
    data, spacing = nnunet_input(resampled, "SimpleITKIO")
    assert data.dtype == expected.dtype and np.array_equal(data, expected)
    assert np.allclose(spacing, props["spacing"], rtol=1e-6)
    # Through a temporary file with the reader itself, the path for other readers.
    through_file, _ = nnunet_input(resampled, "NibabelIO")
    assert through_file.shape == data.shape


def test_split_and_merge_give_the_image_back() -> None:
    volume = np.arange(30 * 20 * 240, dtype=np.float64).reshape(30, 20, 240) % 251
    pieces = _split(nib.Nifti1Image(volume, np.eye(4)))
    assert [p.shape[2] for p in pieces] == [100, 119, 99]
    merged = _merge([np.asarray(p.dataobj).astype(np.uint8) for p in pieces], volume.shape)
    assert np.array_equal(merged, volume.astype(np.uint8))


def test_runs_where_torchvision_cannot_be_imported(home: Path) -> None:
    """The CPU torch trap: nnU-Net's trainer search imports timm -> torchvision, which fails."""
    script = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torchvision", "timm"):
            raise ImportError(f"operator torchvision::nms does not exist ({name})")
sys.meta_path.insert(0, Block())
from iris3d.phantom import make_phantom
from iris3d.segment.totalseg import TotalSegmentatorEngine
result = TotalSegmentatorEngine(device="cpu").segment(make_phantom((32, 32, 16)).ct, "fast")
print("labels", result.labels.shape)
"""
    env = {**os.environ, "TOTALSEG_HOME_DIR": str(home), "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "labels (32, 32, 16)" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("quality", "options"), [("fast", {"fast": True}), ("normal", {})])
def test_labels_equal_totalsegmentators_own_api(
    engine: TotalSegmentatorEngine, phantom: Phantom, quality: str, options: dict[str, bool]
) -> None:
    """The warm path gives exactly what ``totalsegmentator.python_api`` gives, voxel for voxel."""
    from totalsegmentator.python_api import totalsegmentator

    from iris3d.segment.totalseg.config import disable_usage_stats
    from iris3d.segment.totalseg.predictor import register_trainers_with_totalsegmentator

    register_trainers_with_totalsegmentator()
    disable_usage_stats()  # before its API creates a config that posts statistics
    # Stored with x reversed and anisotropic voxels: reorientation and resampling both matter.
    flip = np.diag([-1.0, 1.0, 1.0, 1.0])
    flip[0, 3] = phantom.ct.shape[0] - 1
    ct = CTVolume(phantom.ct.array[::-1].astype(np.int16), phantom.ct.affine @ flip)
    expected = totalsegmentator(
        nib.Nifti1Image(ct.array, ct.affine),
        None,
        ml=True,
        device="cpu",
        quiet=True,
        nr_thr_saving=1,
        **options,
    )
    # PyTorch on the CPU, as TotalSegmentator runs it: the same arithmetic, the same labels.
    exact = TotalSegmentatorEngine(device="cpu", cache=engine.cache,
                                   inference=InferenceOptions(cpu_runtime="torch"))
    ours = exact.segment(ct, Quality(quality)).labels
    assert np.allclose(expected.affine, ours.affine, atol=1e-5)
    assert np.array_equal(np.asanyarray(expected.dataobj), ours.array)
    # The default (OpenVINO on the CPU): the same network, equal but for near-ties, of which a
    # tiny random network has many (test_totalseg_sliding compares the class scores themselves).
    default = engine.segment(ct, Quality(quality))
    assert default.parameters["runtime"] == "openvino"
    assert float((default.labels.array == ours.array).mean()) >= 0.995
