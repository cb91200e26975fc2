"""Choosing an engine by name, and ``auto``: TotalSegmentator when its weights are there, else
the tissue engine, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.tiny_totalseg import build_tiny_weights
from typer.testing import CliRunner

from iris3d.cli.app import build_app
from iris3d.contracts import EngineName, Quality
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.segment import AutoEngine, SegmentationError, engine_name, get_engine
from iris3d.segment.tissue import TissueEngine

LIMITS = ReadLimits.defaults()


@pytest.fixture
def no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "totalseg-home"
    (home / "nnunet" / "results").mkdir(parents=True)
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(home))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(home / "nnunet" / "results"))
    return home / "nnunet" / "results"


def test_names_give_engines() -> None:
    assert isinstance(get_engine("tissue", limits=LIMITS), TissueEngine)
    assert get_engine("totalsegmentator", limits=LIMITS).name == "totalsegmentator"
    assert isinstance(get_engine("auto", limits=LIMITS), AutoEngine)
    with pytest.raises(SegmentationError, match="unknown segmentation engine 'magic'"):
        get_engine("magic", limits=LIMITS)
    with pytest.raises(SegmentationError, match="is for the import engine"):
        get_engine("tissue", segmentation=Path("seg.nii.gz"), limits=LIMITS)


def test_a_segmentation_of_ones_own_means_import_unless_another_engine_is_named() -> None:
    assert engine_name("auto", segmentation=True) is EngineName.IMPORT
    assert engine_name("import", segmentation=True) is EngineName.IMPORT
    assert engine_name("auto") is EngineName.AUTO
    for other in ("tissue", "totalsegmentator"):
        with pytest.raises(SegmentationError, match=f"the '{other}' engine makes its own"):
            engine_name(other, segmentation=True)
    with pytest.raises(SegmentationError, match="needs the segmentation"):
        engine_name("import")


@pytest.mark.parametrize("command", ["segment", "process"])
def test_both_commands_treat_segmentation_alike(command: str, tmp_path: Path) -> None:
    """``iris segment`` and ``iris process`` refuse a named engine beside --segmentation, before
    reading anything (the files need not exist)."""
    args = [command, str(tmp_path / "ct.nii.gz"), "-o", str(tmp_path / "out.nii.gz"),
            "--segmentation", str(tmp_path / "seg.nii.gz"), "--engine", "tissue"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 2
    assert "--segmentation is for the import engine" in result.output


def test_auto_without_weights_runs_tissue_and_says_why(
    no_weights: Path, small_phantom: Phantom
) -> None:
    result = get_engine("auto", limits=LIMITS).segment(small_phantom.ct, Quality.FAST)
    assert result.engine == "tissue"
    # Shown after "Segmented by the built-in tissue engine": no repeat, no command line, no path.
    assert result.reason == (
        "TotalSegmentator's models for 'fast' quality are not installed on this server "
        "(an administrator can install them)"
    )
    assert result.describe()["reason"] == result.reason
    # Everything else the tissue engine says is passed on: its compartments are meshed as such.
    own = TissueEngine().segment(small_phantom.ct, Quality.FAST)
    assert result.compartments and result.compartments == own.compartments


@pytest.mark.slow
def test_auto_picks_totalsegmentator_per_quality_where_installed(no_weights: Path) -> None:
    build_tiny_weights(no_weights, qualities=(Quality.FASTEST,))
    auto = AutoEngine(LIMITS)
    assert auto.choose(Quality.FASTEST)[0] == "totalsegmentator"
    assert "installed" in auto.choose(Quality.FASTEST)[1]
    assert auto.choose(Quality.FAST)[0] == "tissue"
    assert auto.choose(Quality.NORMAL)[0] == "tissue"
