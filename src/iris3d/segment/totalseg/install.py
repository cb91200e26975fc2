"""Installing TotalSegmentator's weights: from an archive or folder offline, or by download.

Offline, any ZIP or folder holding ``DatasetNNN_...`` model folders will do: TotalSegmentator's
release archives (``Dataset297_TotalSegmentator_total_3mm_1559subj.zip``), a copy of another
machine's weights folder or home (``.totalsegmentator/nnunet/results/...``), a folder of release
archives, or a ZIP of those. Each dataset is unpacked into a staging folder beside the weights,
checked, and only then moved into place, so a failed install leaves what was there. Online,
TotalSegmentator's own download function fetches each missing dataset, after a short reachability
check so that a machine without internet gets an answer in seconds, not a hang.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from iris3d.contracts import Quality
from iris3d.errors import IrisError
from iris3d.segment.totalseg.config import try_disable_usage_stats
from iris3d.segment.totalseg.weights import (
    MODEL_FILES,
    installed_qualities,
    quality_status,
    weights_dir,
)
from iris3d.settings import get_settings

DATASET_NAME = re.compile(r"^Dataset\d{3}_[A-Za-z0-9_.-]+$")
DOWNLOAD_HOST = ("github.com", 443)  # where TotalSegmentator's release archives are served
_SEARCH_DEPTH = 5
_COPY_CHUNK = 1 << 20


class ModelInstallError(IrisError):
    """The TotalSegmentator weights could not be installed."""


@dataclass(frozen=True)
class InstallReport:
    weights_dir: Path
    datasets: tuple[str, ...]  # dataset folders installed or replaced
    skipped: tuple[str, ...]  # found, but without a complete model in them
    qualities: frozenset[Quality]  # levels whose models are all present afterwards


def install_from(source: Path, weights: Path | None = None) -> InstallReport:
    """Install every complete ``DatasetNNN_...`` model found in the ZIP or folder ``source``."""
    weights = weights or weights_dir()
    if not source.exists():
        raise ModelInstallError(f"{source} does not exist")
    weights.mkdir(parents=True, exist_ok=True)
    try_disable_usage_stats()
    with tempfile.TemporaryDirectory(dir=weights, prefix=".iris-install-") as tmp:
        staging = Path(tmp)
        budget = _Budget(get_settings().max_unpacked_bytes, get_settings().max_archive_members)
        if source.is_dir():
            _stage_folder(source, staging, budget)
        elif zipfile.is_zipfile(source):
            _stage_archive(source, staging, budget, nested=True)
        else:
            raise ModelInstallError(f"{source} is neither a folder nor a ZIP archive")
        complete = sorted(p.name for p in staging.iterdir() if _has_model(p))
        skipped = sorted(p.name for p in staging.iterdir() if p.name not in complete)
        if not complete:
            raise ModelInstallError(
                f"no TotalSegmentator model found in {source}: expected DatasetNNN_... folders "
                f"holding <trainer>__nnUNetPlans__3d_fullres/{{{', '.join(MODEL_FILES)}}}"
            )
        for name in complete:
            _replace(staging / name, weights / name, staging)
    return InstallReport(
        weights, tuple(complete), tuple(skipped), frozenset(installed_qualities(weights))
    )


def download(qualities: Iterable[Quality | str], timeout_s: float = 10.0) -> InstallReport:
    """Download the datasets ``qualities`` need and lack, with TotalSegmentator's own function."""
    weights = weights_dir()
    needed: dict[int, Path] = {}
    for quality in qualities:
        for dataset in quality_status(quality, weights).datasets:
            if not dataset.installed:
                needed[dataset.task_id] = dataset.model_dir.parent
    if needed:
        check_reachable(timeout_s)
    try_disable_usage_stats()
    from totalsegmentator.libs import download_pretrained_weights

    for task_id, folder in sorted(needed.items()):
        # TotalSegmentator skips a dataset whose folder exists, so clear a broken one first.
        if folder.exists():
            shutil.rmtree(folder)
        try:
            with _socket_timeout(max(timeout_s, 60.0)):
                download_pretrained_weights(task_id)
        except Exception as e:  # requests, zipfile and OS errors alike: the download failed
            shutil.rmtree(folder, ignore_errors=True)
            raise ModelInstallError(
                f"downloading TotalSegmentator dataset {task_id} failed ({e}); "
                "retry, or install offline with `iris models install --from ZIP|DIR`"
            ) from e
    names = tuple(folder.name for _, folder in sorted(needed.items()))
    return InstallReport(weights, names, (), frozenset(installed_qualities(weights)))


def check_reachable(timeout_s: float = 10.0) -> None:
    """Raise :class:`ModelInstallError` unless the download host answers within ``timeout_s``."""
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            socket.create_connection(DOWNLOAD_HOST, timeout=timeout_s).close()
            outcome.append(None)
        except OSError as e:
            outcome.append(e)

    # Name resolution ignores socket timeouts, so the whole attempt runs under a deadline.
    attempt = threading.Thread(target=connect, daemon=True)
    attempt.start()
    attempt.join(timeout_s)
    if outcome and outcome[0] is None:
        return
    reason = str(outcome[0]) if outcome else f"no answer within {timeout_s:g} s"
    raise ModelInstallError(
        f"cannot reach {DOWNLOAD_HOST[0]} to download the TotalSegmentator weights ({reason}). "
        "Offline, copy TotalSegmentator's weight archives (or another machine's "
        "~/.totalsegmentator folder) to this machine and run `iris models install --from ZIP|DIR`."
    )


def default_download_qualities() -> tuple[Quality, ...]:
    """Every distinct model: the 6 mm, 3 mm and 1.5 mm ones (``high`` uses the 1.5 mm model)."""
    return (Quality.FASTEST, Quality.FAST, Quality.NORMAL)


class _Budget:
    """What unpacking may still write, so that an archive cannot fill the disk."""

    def __init__(self, max_bytes: int, max_files: int) -> None:
        self.bytes_left = max_bytes
        self.files_left = max_files

    def take_file(self) -> None:
        self.files_left -= 1
        if self.files_left < 0:
            raise ModelInstallError(
                "the archive has more files than IRIS_MAX_ARCHIVE_MEMBERS allows"
            )

    def take_bytes(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise ModelInstallError(
                "the archive unpacks to more than IRIS_MAX_UNPACKED_BYTES allows"
            )


def _stage_archive(archive: Path, staging: Path, budget: _Budget, nested: bool) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                path = PurePosixPath(info.filename.replace("\\", "/"))
                if nested and path.suffix == ".zip" and DATASET_NAME.match(path.stem):
                    _stage_inner_archive(zf, info, staging, budget)
                    continue
                relative = _dataset_relative(path.parts)
                if relative is None:
                    continue
                budget.take_file()
                target = staging.joinpath(*relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as dst:
                    _copy(src, dst, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise ModelInstallError(f"{archive.name} is not a readable ZIP archive: {e}") from e


def _stage_inner_archive(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, budget: _Budget
) -> None:
    with tempfile.TemporaryDirectory(dir=staging.parent, prefix=".iris-inner-") as tmp:
        inner = Path(tmp) / "inner.zip"
        budget.take_file()
        with zf.open(info) as src, inner.open("wb") as dst:
            _copy(src, dst, budget)
        _stage_archive(inner, staging, budget, nested=False)


def _dataset_relative(parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The path from the ``DatasetNNN_...`` folder down, or None for files outside one."""
    for i, part in enumerate(parts):
        if DATASET_NAME.match(part):
            relative = parts[i:]
            if any(p in ("", ".", "..") or ":" in p for p in relative):
                raise ModelInstallError(f"refusing the archive member {'/'.join(parts)!r}")
            return relative
    return None


def _stage_folder(source: Path, staging: Path, budget: _Budget) -> None:
    for found in _find(source):
        if found.is_dir():
            for file in sorted(found.rglob("*")):
                if file.is_file() and not file.is_symlink():
                    budget.take_file()
                    target = staging / found.name / file.relative_to(found)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with file.open("rb") as src, target.open("wb") as dst:
                        _copy(src, dst, budget)
        else:
            _stage_archive(found, staging, budget, nested=True)


def _find(folder: Path, depth: int = 0) -> Iterator[Path]:
    """Dataset folders and dataset archives under ``folder``, not looking inside either."""
    if DATASET_NAME.match(folder.name):
        yield folder
        return
    if depth > _SEARCH_DEPTH:
        return
    for child in sorted(folder.iterdir()):
        if child.is_symlink():
            continue
        if child.is_dir():
            yield from _find(child, depth + 1)
        elif child.suffix == ".zip" and zipfile.is_zipfile(child):
            yield child


def _has_model(dataset: Path) -> bool:
    return dataset.is_dir() and any(
        all((model / name).is_file() for name in MODEL_FILES)
        for model in dataset.iterdir()
        if model.is_dir()
    )


def _replace(new: Path, target: Path, staging: Path) -> None:
    if target.exists():
        old = staging / f".old-{target.name}"
        target.rename(old)
    new.rename(target)


def _copy(src: IO[bytes], dst: IO[bytes], budget: _Budget) -> None:
    while chunk := src.read(_COPY_CHUNK):
        budget.take_bytes(len(chunk))
        dst.write(chunk)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """TotalSegmentator's download sets no timeout; requests then uses the socket default."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
