"""The receiver `iris serve` starts dies with it, even when `iris serve` is killed outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_receiver_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    # A stand-in for `iris serve`: it starts the receiver as serve does, prints its pid, waits.
    parent = textwrap.dedent(f"""
        import os, sys, time
        os.environ["IRIS_DATA_DIR"] = {str(tmp_path)!r}
        os.environ["IRIS_DICOM_PORT"] = "{_free_port()}"
        from iris3d.cli.receiver import start_receiver
        from iris3d.settings import Settings
        child = start_receiver(Settings())
        print(child.pid, flush=True)
        time.sleep(600)
    """)
    started = time.monotonic()
    serve = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert serve.stdout is not None
    receiver = int(serve.stdout.readline())
    time.sleep(1.0)  # let it get going (a receiver that died at once would pass the test below)
    assert _alive(receiver)
    os.kill(serve.pid, signal.SIGKILL)
    serve.wait()
    wait_for(lambda: not _alive(receiver), what="the receiver to stop with its parent", timeout=30)
    assert time.monotonic() - started < 60
