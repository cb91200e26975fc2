"""Installing weights offline from archives and folders, and failing fast without a network."""

from __future__ import annotations

import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.tiny_totalseg import build_tiny_weights, zip_weights

from iris3d.contracts import Quality
from iris3d.segment.totalseg import install as install_module
from iris3d.segment.totalseg.install import ModelInstallError, download, install_from
from iris3d.segment.totalseg.weights import installed_qualities, model_spec
from iris3d.settings import get_settings

ALL = {Quality.FASTEST, Quality.FAST, Quality.NORMAL, Quality.HIGH}


@pytest.fixture(scope="module")
def source_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny weights for every level, as another machine's weights folder would hold them."""
    weights = tmp_path_factory.mktemp("source") / "nnunet" / "results"
    build_tiny_weights(weights)
    return weights


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    return tmp_path / "home" / "nnunet" / "results"


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IRIS_MAX_UNPACKED_BYTES", "100000")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_install_from_a_zip_of_dataset_folders(
    source_weights: Path, target: Path, tmp_path: Path
) -> None:
    archive = zip_weights(source_weights, tmp_path / "weights.zip")
    report = install_from(archive)
    assert report.weights_dir == target
    assert len(report.datasets) == 7
    assert report.qualities == ALL
    assert installed_qualities() == ALL
    assert (target.parent.parent / "config.json").is_file()  # statistics turned off on the way


def test_install_from_a_zip_of_a_whole_home_folder(
    source_weights: Path, target: Path, tmp_path: Path
) -> None:
    archive = zip_weights(
        source_weights, tmp_path / "home.zip", ".totalsegmentator/nnunet/results/"
    )
    assert install_from(archive).qualities == ALL


def test_install_from_a_folder(source_weights: Path, target: Path) -> None:
    # The home folder above the weights: datasets are found further down.
    report = install_from(source_weights.parent.parent)
    assert report.qualities == ALL
    assert installed_qualities() == ALL


def test_install_from_a_folder_of_release_archives(
    source_weights: Path, target: Path, tmp_path: Path
) -> None:
    releases = tmp_path / "downloads"
    releases.mkdir()
    for dataset in source_weights.iterdir():
        if dataset.name.startswith(("Dataset297", "Dataset298")):
            archive = releases / f"{dataset.name}.zip"
            with zipfile.ZipFile(archive, "w") as zf:
                for file in dataset.rglob("*"):
                    zf.write(file, file.relative_to(source_weights).as_posix())
    assert install_from(releases).qualities == {Quality.FASTEST, Quality.FAST}

    # The same archives zipped together once more.
    bundle = zip_weights(releases, tmp_path / "bundle.zip")
    report = install_from(bundle)
    assert sorted(name[:10] for name in report.datasets) == ["Dataset297", "Dataset298"]


def test_reinstalling_replaces_a_broken_model(
    source_weights: Path, target: Path, tmp_path: Path
) -> None:
    install_from(source_weights)
    checkpoint = model_spec(Quality.FAST).model_dir(297, target) / "fold_0" / "checkpoint_final.pth"
    checkpoint.unlink()
    assert Quality.FAST not in installed_qualities()
    install_from(source_weights)
    assert checkpoint.is_file()
    assert not any(p.name.startswith(".iris-install") for p in target.iterdir())


def test_incomplete_datasets_are_skipped_and_nothing_is_an_error(
    source_weights: Path, target: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "partial.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Dataset297_TotalSegmentator_total_3mm_1559subj/readme.txt", "only this")
    with pytest.raises(ModelInstallError, match="no TotalSegmentator model found"):
        install_from(archive)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelInstallError, match="no TotalSegmentator model found"):
        install_from(empty)
    assert installed_qualities() == set()


def test_an_archive_escaping_its_folder_is_refused(target: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Dataset297_x/../../../escaped.txt", "no")
    with pytest.raises(ModelInstallError, match="refusing"):
        install_from(archive)
    assert not (tmp_path / "escaped.txt").exists()


def test_an_archive_larger_than_the_limit_is_refused(
    source_weights: Path, target: Path, tmp_path: Path, small_limits: None
) -> None:
    archive = zip_weights(source_weights, tmp_path / "weights.zip")
    with pytest.raises(ModelInstallError, match="IRIS_MAX_UNPACKED_BYTES"):
        install_from(archive)
    assert installed_qualities() == set()


def test_not_an_archive_is_a_clear_error(target: Path, tmp_path: Path) -> None:
    text = tmp_path / "weights.zip"
    text.write_text("not a zip")
    with pytest.raises(ModelInstallError, match="neither a folder nor a ZIP"):
        install_from(text)


def test_download_without_a_network_fails_fast_and_names_the_offline_way(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port on this machine that nobody listens on stands for an unreachable host.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(install_module, "DOWNLOAD_HOST", ("127.0.0.1", port))
    with pytest.raises(ModelInstallError) as error:
        download([Quality.FAST], timeout_s=2.0)
    assert "iris models install --from ZIP|DIR" in str(error.value)
    assert not target.exists() or not any(target.iterdir())


def test_download_of_installed_models_needs_no_network(
    source_weights: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_from(source_weights)
    monkeypatch.setattr(install_module, "DOWNLOAD_HOST", ("127.0.0.1", 9))
    report = download(list(Quality))
    assert report.datasets == ()
    assert report.qualities == ALL
