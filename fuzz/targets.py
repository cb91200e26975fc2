"""What each fuzz target feeds its input to (no atheris here, so tests can replay crashers).

Only Iris's own errors (``IrisError``) may escape a reader; anything else is a crash.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from seeds import tiny_phantom, unpack

from iris3d.errors import IrisError
from iris3d.imageio import read_nifti_labels
from iris3d.ingest import Detached, ReadLimits, load_study
from iris3d.segment.base import Quality
from iris3d.segment.imported import ImportEngine
from iris3d.volume import CTVolume

# Small limits: a valid header may still ask for this much, and a fuzz run must stay light.
LIMITS = ReadLimits(max_voxels=2**22, max_unpacked_bytes=64 * 2**20, max_archive_members=64)
WORK = Path(tempfile.mkdtemp(prefix="iris-fuzz-"))
_CT: list[CTVolume] = []


def _fresh() -> Path:
    folder = WORK / "case"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _file(data: bytes, name: str) -> Path:
    path = _fresh() / name
    path.write_bytes(data)
    return path


def _folder(data: bytes) -> Path:
    folder = _fresh() / "files"
    folder.mkdir()
    for name, content in unpack(data).items():
        (folder / name).write_bytes(content)
    return folder


def _ct() -> CTVolume:
    if not _CT:
        _CT.append(tiny_phantom().ct)
    return _CT[0]


def run_target(target: str, data: bytes) -> None:
    """Feed ``data`` to the reader; only an IrisError may come out."""
    readers: dict[str, Callable[[], object]] = {
        "nifti": lambda: load_study(_file(data, "s.nii.gz" if data[:2] == b"\x1f\x8b" else "s.nii"),
                                    limits=LIMITS),
        "nrrd": lambda: load_study(_file(data, "s.nrrd"), limits=LIMITS),
        "mha": lambda: load_study(_file(data, "s.mha"), limits=LIMITS),
        "mhd": lambda: [load_study(p, limits=LIMITS, detached=Detached.SAME_FOLDER)
                        for p in _folder(data).glob("*.mhd")],
        "dicomfile": lambda: load_study(_file(data, "s.dcm").parent, limits=LIMITS),
        "dicomfolder": lambda: load_study(_folder(data), limits=LIMITS),
        "zip": lambda: load_study(_file(data, "s.zip"), limits=LIMITS),
        "labelmap": lambda: read_nifti_labels(_file(data, "l.nii.gz" if data[:2] == b"\x1f\x8b"
                                                    else "l.nii"), LIMITS.max_voxels),
        "maskfolder": lambda: ImportEngine(_masks(data), max_voxels=LIMITS.max_voxels)
        .segment(_ct(), Quality.FAST),
        "dicomseg": lambda: ImportEngine(_file(data, "seg.dcm"), max_voxels=LIMITS.max_voxels)
        .segment(_ct(), Quality.FAST),
    }
    with contextlib.suppress(IrisError):
        readers[target]()


def _masks(data: bytes) -> Path:
    folder = _fresh() / "masks"
    folder.mkdir()
    (folder / "liver.nii.gz").write_bytes(data)
    return folder


TARGETS = ("nifti", "nrrd", "mha", "mhd", "dicomfile", "dicomfolder", "zip", "labelmap",
           "maskfolder", "dicomseg")
