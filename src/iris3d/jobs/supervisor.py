"""Keeps N worker processes running beside the API (``iris serve``), restarting any that die."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger(__name__)


WORKER_COMMAND = (sys.executable, "-m", "iris3d.jobs.worker")


class WorkerSupervisor:
    def __init__(self, count: int, *, restart_delay_s: float = 1.0, grace_s: float = 15.0) -> None:
        self.count = count
        self._restart_delay_s = restart_delay_s
        self._grace_s = grace_s
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="iris-workers", daemon=True)

    def start(self) -> None:
        with self._lock:
            self._processes = [self._spawn() for _ in range(self.count)]
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        # The worker arranges to be stopped if this process dies (see worker.stop_with_parent).
        return subprocess.Popen([*WORKER_COMMAND, "--parent", str(os.getpid())])

    def _watch(self) -> None:
        while not self._stopping.wait(self._restart_delay_s):
            with self._lock:
                for index, process in enumerate(self._processes):
                    code = process.poll()
                    if code is not None and not self._stopping.is_set():
                        log.warning("worker %d exited with %d; starting another", process.pid, code)
                        self._processes[index] = self._spawn()

    def stop(self) -> None:
        """SIGTERM every worker (each gives its job back), then SIGKILL any still running."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            for process in self._processes:
                if process.poll() is None:
                    process.terminate()
            for process in self._processes:
                try:
                    process.wait(self._grace_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
