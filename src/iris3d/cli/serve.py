"""``iris serve``: the whole service on one machine; ``iris worker``: one more worker process."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from iris3d.cli.common import console, friendly_errors
from iris3d.settings import get_settings


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)
    app.command(name="worker")(worker)


@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=0, help="Worker processes (default IRIS_WORKERS, 1)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the API (and the web app) with job workers; SQLite and local files by default."""
    import uvicorn

    from iris3d.cli.receiver import start_receiver, stop_receiver
    from iris3d.jobs.supervisor import WorkerSupervisor
    from iris3d.store.database import database_url, open_database
    from iris3d.store.migrate import upgrade

    settings = get_settings()
    database = open_database(database_url(settings))
    upgrade(database)
    database.dispose()
    count = settings.workers if workers is None else workers
    supervisor = WorkerSupervisor(count)
    supervisor.start()
    receiver = start_receiver(settings)
    console().print(f"Iris on http://{host}:{port} with {count} worker process(es)")
    try:
        uvicorn.run(
            "iris3d.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=5,
            # Iris reads forwarded headers itself, only from IRIS_TRUSTED_PROXIES; uvicorn's own
            # handling (FORWARDED_ALLOW_IPS=*) would let any client choose its address.
            proxy_headers=False,
            server_header=False,
        )
    finally:
        supervisor.stop()
        stop_receiver(receiver)


@friendly_errors
def worker(
    max_jobs: Annotated[
        int | None, typer.Option(help="Exit after this many jobs (default: run until stopped).")
    ] = None,
) -> None:
    """Run one worker: claim queued jobs and process them, keeping the model warm.

    With IRIS_QUEUE_URL set (redis:// or amqp://) this is a Celery worker on the queues in
    IRIS_WORKER_QUEUES (default all)."""
    from iris3d.jobs.celery_executor import is_celery_url
    from iris3d.jobs.worker import configure_worker_logging, run_worker

    configure_worker_logging()
    settings = get_settings()
    if is_celery_url(settings.queue_url):
        from iris3d.jobs.celery_worker import run_celery_worker

        run_celery_worker(settings)
        return
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_worker(settings, stop, max_jobs=max_jobs)
