"""Readers run in a limited child: a bomb or a reader's bug costs the child, and the caller gets a
typed error with a plain message."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from iris3d.imageio import LabelFileError, check_label_file
from iris3d.ingest.errors import CorruptFileError, NotCTError
from iris3d.ingest.sandbox import Limits, ReaderLimitError, run_limited

LIMITS = Limits(memory_bytes=256 * 2**20, cpu_seconds=5)


def _allocate(megabytes: int) -> int:
    block = np.ones(megabytes * 2**20, np.uint8)
    return int(block[::4096].sum())


def _spin() -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pass


def _typed() -> None:
    raise NotCTError("series 1.2.3 is MR, not CT")


def _bug() -> None:
    raise KeyError("/srv/iris/secret/path")


def test_an_answer_comes_back() -> None:
    assert run_limited(_allocate, 16, limits=LIMITS) == 16 * 2**20 // 4096


def test_memory_beyond_the_limit_is_a_typed_refusal() -> None:
    with pytest.raises(ReaderLimitError, match="more memory or time"):
        run_limited(_allocate, 1024, limits=LIMITS)


def test_cpu_time_beyond_the_limit_is_a_typed_refusal() -> None:
    with pytest.raises(ReaderLimitError):
        run_limited(_spin, limits=Limits(memory_bytes=256 * 2**20, cpu_seconds=1))


def test_iris_errors_keep_their_type_and_message() -> None:
    with pytest.raises(NotCTError, match="is MR, not CT"):
        run_limited(_typed, limits=LIMITS)


def test_a_reader_bug_becomes_a_plain_refusal() -> None:
    with pytest.raises(CorruptFileError) as caught:
        run_limited(_bug, limits=LIMITS)
    assert "/srv/iris" not in str(caught.value) and "KeyError" not in str(caught.value)


def test_label_file_errors_cross_the_boundary(tmp_path: Path) -> None:
    (tmp_path / "seg.nii.gz").write_bytes(b"not a nifti at all")
    with pytest.raises(LabelFileError):
        run_limited(check_label_file, tmp_path / "seg.nii.gz", 10**9, limits=LIMITS)
