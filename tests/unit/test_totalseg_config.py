"""Iris turns TotalSegmentator's usage statistics off, in the file TotalSegmentator itself reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iris3d.segment.totalseg.config import (
    disable_usage_stats,
    read_config,
    usage_stats_enabled,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "ts-home"))
    return tmp_path / "ts-home"


def test_a_new_home_gets_statistics_off(home: Path) -> None:
    assert usage_stats_enabled()  # TotalSegmentator's own default
    path = disable_usage_stats()
    assert path == home / "config.json"
    config = json.loads(path.read_text())
    assert config["send_usage_stats"] is False
    assert config["prediction_counter"] == 0
    assert config["totalseg_id"].startswith("totalseg_")
    assert not usage_stats_enabled()


def test_an_existing_config_is_switched_off_and_kept(home: Path) -> None:
    home.mkdir()
    original = {
        "totalseg_id": "totalseg_ABCDEFGH",
        "send_usage_stats": True,
        "prediction_counter": 41,
        "license_number": "aca_123456789012345",
    }
    (home / "config.json").write_text(json.dumps(original))
    disable_usage_stats()
    assert read_config() == {
        **original,
        "send_usage_stats": False,
        "statistics_disclaimer_shown": True,
    }


def test_totalsegmentator_itself_then_posts_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests
    from totalsegmentator.config import get_config, send_usage_stats, setup_totalseg

    posted: list[str] = []
    monkeypatch.setattr(requests, "post", lambda url, **kwargs: posted.append(url))
    disable_usage_stats()
    setup_totalseg()  # what its API runs first: must keep the existing file
    params = {
        "task": "total",
        "fast": True,
        "preview": False,
        "multilabel": True,
        "roi_subset": None,
        "statistics": False,
        "radiomics": False,
    }
    send_usage_stats(get_config(), params)
    assert posted == []

    # The same call with TotalSegmentator's default would have posted: the check can fail.
    config = {**read_config(), "send_usage_stats": True}
    send_usage_stats(config, dict(params))
    assert len(posted) == 1


def test_an_unreadable_config_is_replaced(home: Path) -> None:
    home.mkdir()
    (home / "config.json").write_text("{not json")
    disable_usage_stats()
    assert read_config()["send_usage_stats"] is False
