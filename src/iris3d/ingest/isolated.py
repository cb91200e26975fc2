"""A worker's first read of a study, in a fresh Python process with the same limits as an upload
check (:mod:`iris3d.ingest.sandbox`). A fresh process rather than a forkserver child: a Celery
prefork worker may not start multiprocessing children. It costs a Python start (about a second),
small against a job.

    python -m iris3d.ingest.isolated   (reads its request as JSON on stdin)
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from iris3d.ingest.limits import ReadLimits
from iris3d.ingest.sandbox import Limits, ReaderLimitError, apply_limits, rebuilt_error


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
    request = json.dumps({"path": str(path), "series_uid": series_uid, "label_map": label_map,
                          "read": asdict(read), "limits": asdict(limits)})
    try:
        done = subprocess.run([sys.executable, "-m", "iris3d.ingest.isolated"], input=request,
                              capture_output=True, text=True, check=False,
                              timeout=limits.cpu_seconds * 4 + 60)
    except subprocess.TimeoutExpired:
        raise ReaderLimitError() from None
    lines = done.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    if answer is None:
        raise ReaderLimitError()  # killed by the kernel for memory or CPU time
    if answer.get("error"):
        raise rebuilt_error(*answer["error"])


def _main() -> None:
    request = json.loads(sys.stdin.read())
    read = ReadLimits(**request["read"])
    apply_limits(Limits(**request["limits"]))
    path = Path(request["path"])
    from iris3d.errors import IrisError

    try:
        if request["label_map"]:
            from iris3d.imageio.labels import check_label_file

            check_label_file(path, read.max_voxels)
        else:
            from iris3d.ingest.inspection import check_study

            check_study(path, request["series_uid"], read)
        answer: dict[str, object] = {"error": None}
    except IrisError as e:
        answer = {"error": [type(e).__module__, type(e).__qualname__, str(e)]}
    except MemoryError:
        answer = {"error": [ReaderLimitError.__module__, ReaderLimitError.__qualname__, ""]}
    print(json.dumps(answer))


if __name__ == "__main__":
    _main()
