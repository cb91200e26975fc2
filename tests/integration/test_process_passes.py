"""A guard on whole-study speed that cannot be flaky: count the passes over the label volume.

``process_study`` runs for real (NIfTI files, the import engine, every writer); only the label
array the engine hands on is viewed as :class:`WatchedArray`, which records every numpy
operation (ufunc, reduction or array function) that takes the whole volume as an operand.
Per-structure work must read bounding boxes (smaller arrays, not counted), so the number of
whole-volume operations does not grow with the number of structures. A loop that scans the
volume once per structure (``labels.array == label``, or a ``np.bincount`` per table entry, as
the manifest once did for 117 entries) makes the count jump past the bound.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from iris3d.contracts import Quality
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.pipeline import ProcessOptions, process_study
from iris3d.segment.base import ProgressCallback, SegmentationResult, no_progress
from iris3d.segment.imported import ImportEngine
from iris3d.volume import CTVolume, LabelMap

# The census (counts and boxes), the mesh stage's crop, the thumbnail's projection and the
# label file: a handful, whatever the number of structures.
MAX_WHOLE_VOLUME_OPERATIONS = 12


class WatchedArray(np.ndarray):
    """An ndarray that logs the numpy operations taking a whole-volume instance as an operand."""

    log: ClassVar[list[str]] = []
    whole: ClassVar[int] = 0  # voxels of the whole volume: smaller views are crops

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        self._note(f"{ufunc.__name__}.{method}", inputs, kwargs.get("out", ()))
        plain = [_plain(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*plain, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        self._note(func.__name__, args, kwargs.values())
        return func(*_plain_all(args), **{k: _plain_all(v) for k, v in kwargs.items()})

    @classmethod
    def _note(cls, name: str, *groups: Any) -> None:
        for group in groups:
            for x in group if isinstance(group, list | tuple) else list(group):
                if isinstance(x, WatchedArray) and x.size >= cls.whole:
                    cls.log.append(name)
                    return


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, WatchedArray) else x


def _plain_all(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return type(x)(_plain_all(v) for v in x)
    return _plain(x)


class WatchingEngine:
    """The real import engine; its label array is handed on as a :class:`WatchedArray`."""

    name = "import"

    def __init__(self, source: Path) -> None:
        self.inner = ImportEngine(source)

    def segment(
        self, volume: CTVolume, quality: Quality, progress: ProgressCallback = no_progress
    ) -> SegmentationResult:
        result = self.inner.segment(volume, quality, progress)
        watched = np.asarray(result.labels.array).view(WatchedArray)
        WatchedArray.whole = watched.size
        WatchedArray.log.clear()
        labels = LabelMap(watched, result.labels.affine, result.labels.table)
        return replace(result, labels=labels)


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))


def test_a_study_scans_its_labels_a_bounded_number_of_times(
    phantom: Phantom, tmp_path: Path
) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")
    result = process_study(ct, tmp_path / "out", options=ProcessOptions(engine="import"),
                           engine=WatchingEngine(labels))
    structures = len(result.manifest["structures"])  # type: ignore[arg-type]
    assert structures >= 30  # enough that one scan per structure could not hide
    assert len(WatchedArray.log) <= MAX_WHOLE_VOLUME_OPERATIONS, WatchedArray.log


def test_the_watch_sees_a_scan_per_structure(phantom: Phantom) -> None:
    """The instrument itself: the per-structure loop the guard exists for is counted."""
    WatchedArray.whole = phantom.labels.array.size
    WatchedArray.log.clear()
    watched = LabelMap(phantom.labels.array.view(WatchedArray), phantom.labels.affine,
                       phantom.labels.table)
    present = watched.present_ids()
    for label in present:
        np.count_nonzero(watched.array == label)
    assert len(WatchedArray.log) >= len(present)
    crop = watched.array[1:, 1:, 1:]
    WatchedArray.log.clear()
    np.count_nonzero(crop == 1)
    assert WatchedArray.log == []  # a box is not the whole volume
