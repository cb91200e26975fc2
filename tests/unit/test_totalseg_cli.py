"""``iris models status`` and ``iris models install`` as a user runs them."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from tests.support.tiny_totalseg import build_tiny_weights, zip_weights
from typer.testing import CliRunner

from iris3d.cli.app import build_app
from iris3d.contracts import Quality
from iris3d.segment.totalseg import install as install_module


@pytest.fixture(scope="module")
def fast_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    weights = tmp_path_factory.mktemp("source") / "results"
    build_tiny_weights(weights, [Quality.FAST, Quality.FASTEST])
    return weights


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def status_json() -> dict[str, object]:
    code, output = run("models", "status", "--json")
    assert code == 0, output
    loaded: dict[str, object] = json.loads(output)
    return loaded


def installed_levels() -> set[str]:
    levels = status_json()["qualities"]
    assert isinstance(levels, list)
    return {level["quality"] for level in levels if level["installed"]}


def test_status_of_an_empty_machine_says_how_to_install(home: Path) -> None:
    code, output = run("models", "status")
    assert code == 0
    assert "missing 297" in output
    assert "iris models install" in output
    assert installed_levels() == set()
    assert status_json()["weights_dir"] == str(home / "nnunet" / "results")


def test_install_from_a_zip_then_status(home: Path, fast_weights: Path, tmp_path: Path) -> None:
    archive = zip_weights(fast_weights, tmp_path / "fast.zip")
    code, output = run("models", "install", "--from", str(archive))
    assert code == 0, output
    assert "installed Dataset297_TotalSegmentator_total_3mm_1559subj" in output
    assert "quality levels ready: fastest, fast" in output
    assert installed_levels() == {"fastest", "fast"}
    assert status_json()["send_usage_stats"] is False


def test_install_from_a_folder(home: Path, fast_weights: Path) -> None:
    code, output = run("models", "install", "--from", str(fast_weights))
    assert code == 0, output
    assert installed_levels() == {"fastest", "fast"}
    code, output = run("models", "status")
    assert "installed" in output and "missing 291" in output


def test_install_errors_are_messages_not_tracebacks(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_text("not an archive")
    code, output = run("models", "install", "--from", str(junk))
    assert code == 2
    assert "neither a folder nor a ZIP" in output
    assert "Traceback" not in output

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(install_module, "DOWNLOAD_HOST", ("127.0.0.1", port))
    code, output = run("models", "install", "--quality", "fast")
    assert code == 2
    assert "cannot reach" in output and "--from ZIP|DIR" in output


def test_quality_and_from_together_are_refused(home: Path, fast_weights: Path) -> None:
    code, output = run("models", "install", "--from", str(fast_weights), "--quality", "fast")
    assert code == 2
    assert "--quality applies to downloads" in output
