"""A real ``iris serve`` (uvicorn) and ``iris worker`` processes on 127.0.0.1 for integration
tests, each in its own data folder with short heartbeats."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support import waiting

QUICK = {
    "IRIS_ENV": "development",
    "IRIS_WORKER_HEARTBEAT_S": "0.2",
    "IRIS_WORKER_STALE_S": "2",
    "IRIS_WORKER_POLL_S": "0.1",
    "IRIS_PROGRESS_INTERVAL_S": "0.05",
    "IRIS_SSE_POLL_S": "0.1",
    # Many accounts from 127.0.0.1, many jobs per user: the limits get their own tests.
    "IRIS_SIGNUP_PER_CLIENT": "10000",
    "IRIS_QUOTA_QUEUED_JOBS": "10000",
}

_BACKENDS = ("IRIS_DATABASE_URL", "IRIS_STORAGE_URL", "IRIS_QUEUE_URL", "IRIS_S3_", "IRIS_WORKER_Q")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def iris_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from iris3d.cli.app import main; main()", *args]


class LiveService:
    def __init__(self, data_dir: Path, *, workers: int = 1, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Only what the test names: no database, store or queue from the developer's shell.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_BACKENDS)}
        self.env = {**inherited, **QUICK, "IRIS_DATA_DIR": str(data_dir), **env}
        self.workers = workers
        self.server: subprocess.Popen[bytes] | None = None
        self.extra_workers: list[subprocess.Popen[bytes]] = []
        self.log = data_dir.parent / f"serve-{self.port}.log"

    def start(self, timeout_s: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = iris_command(
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        )
        with self.log.open("ab") as log:
            self.server = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        waiting.wait_for_server(
            self.server, ready, what="iris serve", log=self.log, timeout=timeout_s
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            process = subprocess.Popen(iris_command("worker"), env=self.env, stdout=log, stderr=log)
        self.extra_workers.append(process)
        return process

    def stop(self) -> None:
        for process in [*self.extra_workers, self.server]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.extra_workers, self.server]:
            if process is None:
                continue
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Failed assertions inside carry the end of the server's and workers' log."""
        try:
            yield
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- iris serve / worker log ---\n{self.log_tail()}") from e

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Downloads from an S3 store are redirects to presigned URLs (httpx drops the bearer
        # header when it follows one to another host, as browsers do).
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, follow_redirects=True)

    def sign_up(self, email: str, password: str = "correct horse battery") -> str:
        with self.client() as http:
            body = {"email": email, "password": password}
            assert http.post("/api/auth/register", json=body).status_code == 201
            response = http.post("/api/auth/signin", json=body)
            assert response.status_code == 200
            token: str = response.json()["access_token"]
            return token


def job_events(http: httpx.Client, job_id: str) -> Iterator[dict[str, Any]]:
    """Each ``job`` event of the job's SSE stream, with the time it arrived."""
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=180) as response:
        assert response.status_code == 200, response.read()
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:") and kind == "job":
                yield {**json.loads(line.removeprefix("data:")), "_at": time.monotonic()}


def wait_for(http: httpx.Client, job_id: str, states: set[str], timeout_s: float = 120) -> Any:
    """The job, once its state is one of ``states``."""
    last: dict[str, Any] = {}

    def reached() -> dict[str, Any] | None:
        last.update(http.get(f"/api/jobs/{job_id}").json())
        return dict(last) if last["state"] in states else None

    try:
        what = f"job {job_id} in {sorted(states)}"
        return waiting.wait_for(reached, what=what, timeout=timeout_s)
    except AssertionError as e:
        raise AssertionError(f"{e}; the job: {last}") from None
