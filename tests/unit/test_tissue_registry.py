"""Choosing an engine by name, and ``auto``: TotalSegmentator when its weights are there, else
the tissue engine, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.phantom import Phantom
from iris3d.segment import AutoEngine, Quality, SegmentationError, get_engine
from iris3d.segment.tissue import TissueEngine


@pytest.fixture
def no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "totalseg-home"
    (home / "nnunet" / "results").mkdir(parents=True)
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(home))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(home / "nnunet" / "results"))
    return home / "nnunet" / "results"


def test_names_give_engines() -> None:
    assert isinstance(get_engine("tissue"), TissueEngine)
    assert get_engine("totalsegmentator").name == "totalsegmentator"
    assert isinstance(get_engine("auto"), AutoEngine)
    with pytest.raises(SegmentationError, match="unknown segmentation engine 'magic'"):
        get_engine("magic")
    with pytest.raises(SegmentationError, match="is for the import engine"):
        get_engine("tissue", segmentation=Path("seg.nii.gz"))


def test_auto_without_weights_runs_tissue_and_says_why(
    no_weights: Path, small_phantom: Phantom
) -> None:
    result = get_engine("auto").segment(small_phantom.ct, Quality.FAST)
    assert result.engine == "tissue"
    # Shown after "Segmented by the built-in tissue engine": no repeat, no command line, no path.
    assert result.reason == (
        "TotalSegmentator's models for 'fast' quality are not installed on this server "
        "(an administrator can install them)"
    )
    assert result.describe()["reason"] == result.reason


@pytest.mark.slow
def test_auto_picks_totalsegmentator_per_quality_where_installed(no_weights: Path) -> None:
    build_tiny_weights(no_weights, qualities=(Quality.FASTEST,))
    auto = AutoEngine()
    assert auto.choose(Quality.FASTEST)[0] == "totalsegmentator"
    assert "installed" in auto.choose(Quality.FASTEST)[1]
    assert auto.choose(Quality.FAST)[0] == "tissue"
    assert auto.choose(Quality.NORMAL)[0] == "tissue"
