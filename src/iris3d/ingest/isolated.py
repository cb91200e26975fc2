"""A worker's first read of a study, in a fresh Python process with the same limits as an upload
check (:mod:`iris3d.ingest.sandbox`). A fresh process rather than a forkserver child: a Celery
prefork worker may not start multiprocessing children. It costs a Python start (about a second),
small against a job.

    python -m iris3d.ingest.isolated REQUEST   (the request as JSON)
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from iris3d.ingest.limits import ReadLimits
from iris3d.ingest.sandbox import Limits, ReaderLimitError, apply_limits, rebuilt_error
from iris3d.volume import CTVolume


@dataclass(frozen=True)
class FileCheck:
    """One file for :func:`check_in_fresh_processes`: a study, or an imported label map."""

    path: Path
    series_uid: str | None = None
    label_map: bool = False
    # Where the child leaves the study it read, for the caller to take instead of reading the
    # file again (``read_kept``): the check is then the caller's ingest, not a second one.
    keep: Path | None = None


def check_in_fresh_process(
    path: Path,
    series_uid: str | None,
    read: ReadLimits,
    limits: Limits,
    *,
    label_map: bool = False,
) -> None:
    """Read ``path`` (a study, or an imported label map) for its errors only, within ``read``'s
    sizes and the child process ``limits``; raises the reader's errors here."""
    check_in_fresh_processes([FileCheck(path, series_uid, label_map)], read, limits)


def check_in_fresh_processes(checks: Sequence[FileCheck], read: ReadLimits,
                             limits: Limits) -> None:
    """:func:`check_in_fresh_process` for several files at once, each in its own child, side by
    side (a study and its label map: the label map's check then costs no time of its own);
    raises the first file's error, in the order given."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "iris3d.ingest.isolated", json.dumps({
                "path": str(check.path), "series_uid": check.series_uid,
                "label_map": check.label_map, "keep": str(check.keep) if check.keep else None,
                "read": asdict(read), "limits": asdict(limits)})],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for check in checks
    ]
    try:
        answers = [_answer(child, limits) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for answer in answers:
        if answer is None:
            raise ReaderLimitError()  # killed by the kernel for memory or CPU time
        if answer.get("error"):
            raise rebuilt_error(*answer["error"])


def _answer(child: subprocess.Popen[str], limits: Limits) -> dict[str, Any] | None:
    try:
        stdout, _ = child.communicate(timeout=limits.cpu_seconds * 4 + 60)
    except subprocess.TimeoutExpired:
        return None
    lines = stdout.strip().splitlines()
    answer: dict[str, Any] | None = (
        json.loads(lines[-1]) if child.returncode == 0 and lines else None)
    return answer


def read_kept(path: Path) -> CTVolume:
    """The study a check left at ``path`` (:attr:`FileCheck.keep`). Pickled by this module's
    own child from what it read: it holds the same arrays a read of the file in this process
    would, so nothing is trusted here that reading the file would not trust."""
    with path.open("rb") as f:
        volume = pickle.load(f)  # written by our own child, see above
    if not isinstance(volume, CTVolume):
        raise TypeError(f"{path} holds no study")
    return volume


def _keep(volume: CTVolume, path: Path) -> None:
    """Whole or not at all: a child killed while writing leaves no file the caller could take."""
    partial = path.with_name(f"{path.name}.partial")
    with partial.open("wb") as f:
        pickle.dump(volume, f, protocol=5)
    partial.replace(path)


def _main() -> None:
    request = json.loads(sys.argv[1])
    read = ReadLimits(**request["read"])
    apply_limits(Limits(**request["limits"]))
    path = Path(request["path"])
    from iris3d.errors import IrisError

    try:
        if request["label_map"]:
            from iris3d.imageio.labels import check_label_file

            check_label_file(path, read.max_voxels)
        else:
            from iris3d.ingest import load_study

            volume = load_study(path, series_uid=request["series_uid"], limits=read)
            if request.get("keep"):
                _keep(volume, Path(request["keep"]))
        answer: dict[str, object] = {"error": None}
    except IrisError as e:
        answer = {"error": [type(e).__module__, type(e).__qualname__, str(e)]}
    except MemoryError:
        answer = {"error": [ReaderLimitError.__module__, ReaderLimitError.__qualname__, ""]}
    print(json.dumps(answer))


if __name__ == "__main__":
    _main()
