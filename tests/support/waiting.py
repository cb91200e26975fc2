"""Waiting in tests: on a condition, with a deadline, never on a clock alone.

A test that sleeps "long enough" for a poll interval fails when the machine is loaded and wastes
time when it is not. :func:`wait_for` checks the condition often and returns as soon as it holds;
at the deadline it fails saying what it waited for and what it saw last.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0


def wait_for(
    check: Callable[[], T],
    *,
    what: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = 0.02,
) -> T:
    """Call ``check`` until it returns something true and return that; after ``timeout``
    seconds fail with an AssertionError naming ``what`` and the last answer. ``interval`` only
    paces the checks: the condition ends the wait, not the time."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last answer: {answer!r:.300}")
        time.sleep(interval)


def wait_for_server(
    process: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    log: Path,
    timeout: float,
) -> None:
    """Wait until ``ready()`` says the server started as ``process`` answers. If the process
    exits, or the deadline passes, fail with the end of its log (the reason is there)."""

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {_tail(log)}")
        return ready()

    try:
        wait_for(up, what=f"{what} to answer", timeout=timeout, interval=0.2)
    except AssertionError as e:
        raise RuntimeError(f"{e}: {_tail(log)}") from None


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
