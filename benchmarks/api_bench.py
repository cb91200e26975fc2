"""Service throughput and latency on this machine, against a real ``iris serve`` on 127.0.0.1.

Prints: uploads/s with 20 concurrent clients; status requests/s with 20 concurrent clients (and
the ratio to /healthz, which touches no database, as the baseline); the API's p95 latency while a
job runs, against the same requests' p95 when idle.

    .venv/bin/python benchmarks/api_bench.py [--clients 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti

PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IRIS_DATA_DIR": str(data_dir),
        "IRIS_ENV": "development",
        "IRIS_SIGNIN_ATTEMPTS": "1000",
        "IRIS_WORKER_POLL_S": "0.2",
    }
    command = [
        sys.executable,
        "-c",
        "from iris3d.cli.app import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        "0",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def _start_worker(data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "IRIS_DATA_DIR": str(data_dir), "IRIS_ENV": "development"}
    command = [sys.executable, "-c", "from iris3d.cli.app import main; main()", "worker"]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


async def _token(http: httpx.AsyncClient, email: str) -> str:
    body = {"email": email, "password": PASSWORD}
    await http.post("/api/auth/register", json=body)
    response = await http.post("/api/auth/signin", json=body)
    token: str = response.json()["access_token"]
    return token


async def _uploads(base: str, token: str, content: bytes, clients: int, each: int) -> float:
    async def one_client() -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            for _ in range(each):
                files = [("files", ("ct.nii.gz", content, "application/octet-stream"))]
                response = await http.post("/api/studies", files=files)
                response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return clients * each / (time.perf_counter() - started)


async def _hammer(
    base: str, token: str, paths: list[str], clients: int, seconds: float
) -> tuple[float, list[float]]:
    """Requests/s and every latency (s) of ``clients`` clients looping over ``paths``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_client(offset: int) -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            i = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get(paths[i % len(paths)])
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def _sse_delays(base: str, token: str, job_id: str, delays: list[float]) -> None:
    """Seconds from each progress write (the job's ``updated_at``) to its SSE event arriving."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=600, headers=headers) as http,
        http.stream("GET", f"/api/jobs/{job_id}/events") as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                job = json.loads(line.removeprefix("data:"))
                written = datetime.fromisoformat(job["updated_at"]).timestamp()
                delays.append(max(time.time() - written, 0.0))


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] * 1000


async def _run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
        data = Path(tmp) / "data"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start(data, port)
        worker: subprocess.Popen[bytes] | None = None
        try:
            small = write_nifti(
                make_phantom(shape=(48, 40, 24), spacing=(8.0, 8.0, 8.0)).ct,
                Path(tmp) / "small.nii.gz",
            ).read_bytes()
            large = write_nifti(
                make_phantom(shape=(160, 128, 96), spacing=(2.5, 2.5, 2.5)).ct,
                Path(tmp) / "large.nii.gz",
            ).read_bytes()
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                token = await _token(http, "bench@example.org")
                auth = {"Authorization": f"Bearer {token}"}
                rate = await _uploads(base, token, small, args.clients, 3)
                print(
                    f"uploads/s ({args.clients} clients, {len(small) / 1024:.0f} KiB NIfTI, "
                    f"read and checked at upload): {rate:.1f}"
                )
                study = (await http.get("/api/studies", headers=auth)).json()["items"][0]
                job = (
                    await http.post(
                        "/api/jobs",
                        headers=auth,
                        json={"study_id": study["id"], "engine": "tissue"},
                    )
                ).json()
                status_paths = [f"/api/jobs/{job['id']}"]
                health_rate, _ = await _hammer(
                    base, token, ["/healthz"], args.clients, args.seconds
                )
                status_rate, idle = await _hammer(
                    base, token, status_paths, args.clients, args.seconds
                )
                print(
                    f"status requests/s ({args.clients} clients): {status_rate:.0f} "
                    f"(/healthz baseline {health_rate:.0f}/s, ratio "
                    f"{status_rate / health_rate:.2f})"
                )
                big = (
                    await http.post(
                        "/api/studies",
                        headers=auth,
                        files=[("files", ("large.nii.gz", large, "application/octet-stream"))],
                    )
                ).json()
                running = (
                    await http.post(
                        "/api/jobs",
                        headers=auth,
                        json={"study_id": big["id"], "engine": "tissue", "quality": "normal"},
                    )
                ).json()
                probe = [f"/api/jobs/{running['id']}", "/api/studies", f"/api/jobs/{job['id']}"]
                _, idle = await _hammer(base, token, probe, args.probe_clients, args.seconds)
                worker = _start_worker(data)
                while (await http.get(f"/api/jobs/{running['id']}", headers=auth)).json()[
                    "state"
                ] != "running":
                    await asyncio.sleep(0.05)
                delays: list[float] = []
                listener = asyncio.create_task(_sse_delays(base, token, running["id"], delays))
                _, busy = await _hammer(base, token, probe, args.probe_clients, args.seconds)
                state = (await http.get(f"/api/jobs/{running['id']}", headers=auth)).json()
                print(
                    f"API p95 latency while a job runs ({args.probe_clients} clients, job "
                    f"status + study list): {_p95(busy):.1f} ms over {len(busy)} requests (job "
                    f"{state['state']} at {state['percent']:.0f}% when measured); idle "
                    f"{_p95(idle):.1f} ms; ratio {_p95(busy) / _p95(idle):.2f}"
                )
                await asyncio.wait_for(listener, timeout=600)
                print(
                    f"progress pushed over SSE: {len(delays)} updates, delay from the worker's "
                    f"write to the client p95 {_p95(delays):.0f} ms, max "
                    f"{max(delays) * 1000:.0f} ms (the seed polled every 15 000 ms)"
                )
        finally:
            for process in (worker, server):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--probe-clients", type=int, default=4)
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
