"""The full-size stand-in's plans, at tiny scale: the real format, installed the real way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from iris3d.contracts import Quality
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import make_phantom
from iris3d.segment.totalseg import TotalSegmentatorEngine
from iris3d.segment.totalseg.install import install_from
from iris3d.segment.totalseg.predictor import PredictorCache
from iris3d.segment.totalseg.standin import PUBLISHED, Architecture, build_standin

LIMITS = ReadLimits.defaults()


def test_published_architectures_follow_nnunets_rules() -> None:
    fast = PUBLISHED[3.0]
    assert fast.strides == [[1, 1, 1]] + [[2, 2, 2]] * 4 + [[1, 1, 2]]
    assert fast.features == [32, 64, 128, 256, 320, 320]
    normal = PUBLISHED[1.5]
    assert len(normal.strides) == 6
    assert PUBLISHED[6.0].features == [32, 64, 128, 256, 320]
    # Every patch divides by its total pooling, as nnU-Net requires.
    for arch in PUBLISHED.values():
        pooling = np.prod(np.array(arch.strides), axis=0)
        assert all(p % f == 0 for p, f in zip(arch.patch, pooling, strict=True))


@pytest.mark.slow
def test_a_tiny_standin_installs_and_segments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    tiny = {6.0: Architecture(patch=(16, 16, 32), base_features=4)}
    built = build_standin(tmp_path / "source", [Quality.FASTEST], architectures=tiny)
    ((folder, parameters),) = built
    assert parameters > 0
    plans = json.loads((folder / "plans.json").read_text(encoding="utf-8"))
    arch = plans["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"]
    assert arch["strides"] == [[1, 1, 1], [2, 2, 2], [2, 2, 2], [1, 1, 2]]
    assert plans["configurations"]["3d_fullres"]["spacing"] == [6.0, 6.0, 6.0]

    weights = tmp_path / "home" / "nnunet" / "results"
    report = install_from(tmp_path / "source", weights, limits=LIMITS)
    assert Quality.FASTEST in report.qualities

    phantom = make_phantom((40, 36, 30), (6.0, 6.0, 6.0))
    engine = TotalSegmentatorEngine("cpu", cache=PredictorCache())
    result = engine.segment(phantom.ct, Quality.FASTEST)
    assert result.labels.array.shape == phantom.ct.shape
    assert result.parameters["precision"] == "auto"


def test_precision_comes_from_the_settings_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's engines take IRIS_TOTALSEG_PRECISION from its settings object, not from the
    environment it happens to run in."""
    from iris3d.jobs.engines import EngineCache
    from iris3d.segment import get_engine
    from iris3d.settings import Settings

    monkeypatch.setenv("IRIS_TOTALSEG_PRECISION", "fp16")
    engine = EngineCache(Settings(totalseg_precision="bf16")).get("totalsegmentator")
    assert isinstance(engine, TotalSegmentatorEngine)
    assert engine._inference is not None
    assert engine._inference.precision == "bf16"
    with pytest.raises(ValueError, match="precision"):
        get_engine("totalsegmentator", limits=LIMITS, precision="int4")
