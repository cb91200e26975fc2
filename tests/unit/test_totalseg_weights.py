"""Where the weights are looked for, what each quality level needs, and how that is reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.anatomy import total_table
from iris3d.contracts import Quality
from iris3d.segment.base import SegmentationError
from iris3d.segment.totalseg import installed_qualities, is_installed, model_spec, weights_dir
from iris3d.segment.totalseg.config import totalseg_home
from iris3d.segment.totalseg.weights import WeightsMissingError, quality_status


@pytest.mark.parametrize(
    ("home", "weights"),
    [(None, None), ("home", None), (None, "weights"), ("home", "weights")],
)
def test_folders_are_where_totalsegmentator_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str | None, weights: str | None
) -> None:
    from totalsegmentator.config import get_totalseg_dir, get_weights_dir

    monkeypatch.delenv("TOTALSEG_HOME_DIR", raising=False)
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    if home:
        monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / home))
    if weights:
        monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(tmp_path / weights))
    assert totalseg_home() == get_totalseg_dir()
    assert weights_dir() == get_weights_dir()


def test_quality_levels_map_to_totalsegmentators_models() -> None:
    fastest, fast, normal, high = (model_spec(q) for q in Quality)
    assert (fastest.task_ids, fastest.resample_mm) == ((298,), 6.0)
    assert (fast.task_ids, fast.resample_mm) == ((297,), 3.0)
    assert (normal.task_ids, normal.resample_mm) == ((291, 292, 293, 294, 295), 1.5)
    assert high.task_ids == normal.task_ids and high.trainer == normal.trainer
    assert fast.trainer == fastest.trainer == "nnUNetTrainer_4000epochs_NoMirroring"
    assert normal.trainer == "nnUNetTrainerNoMirroring"
    assert normal.multi_part and not fast.multi_part


def test_model_folders_follow_totalsegmentators_layout(tmp_path: Path) -> None:
    folder = model_spec(Quality.FAST).model_dir(297, tmp_path)
    assert folder == (
        tmp_path
        / "Dataset297_TotalSegmentator_total_3mm_1559subj"
        / "nnUNetTrainer_4000epochs_NoMirroring__nnUNetPlans__3d_fullres"
    )


def test_our_label_table_is_totalsegmentators_total_task() -> None:
    from totalsegmentator.map_to_binary import class_map

    table = total_table()
    assert {label: table[label].name for label in table} == class_map["total"]


def test_installed_levels_follow_the_files(tmp_path: Path) -> None:
    assert installed_qualities(tmp_path) == set()
    build_tiny_weights(tmp_path, [Quality.FAST])
    assert installed_qualities(tmp_path) == {Quality.FAST}
    build_tiny_weights(tmp_path, [Quality.NORMAL])
    assert installed_qualities(tmp_path) == {Quality.FAST, Quality.NORMAL, Quality.HIGH}

    # One part of five gone: normal (and high) is no longer usable, and status says which.
    part = model_spec(Quality.NORMAL).model_dir(293, tmp_path)
    (part / "fold_0" / "checkpoint_final.pth").unlink()
    assert not is_installed(Quality.NORMAL, tmp_path)
    status = quality_status(Quality.HIGH, tmp_path)
    assert [d.task_id for d in status.datasets if not d.installed] == [293]
    assert status.to_dict()["installed"] is False

    shutil.rmtree(model_spec(Quality.FAST).model_dir(297, tmp_path).parent)
    assert installed_qualities(tmp_path) == set()


def test_missing_weights_error_says_what_to_run(tmp_path: Path) -> None:
    error = WeightsMissingError(quality_status(Quality.NORMAL, tmp_path))
    assert isinstance(error, SegmentationError)
    message = str(error)
    assert "iris models install" in message
    assert "--from ZIP|DIR" in message
    assert "291, 292, 293, 294, 295" in message
    assert str(tmp_path) in message
