"""The job-executor seam: how a new job reaches a worker. Chosen from ``IRIS_QUEUE_URL``."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlparse

from iris3d.errors import IrisError
from iris3d.settings import Settings


class JobExecutor(Protocol):
    name: str

    def submit(self, job_id: str) -> None:
        """Hand a queued job (already a row in the database) to the workers."""
        ...

    def queue_depths(self) -> dict[str, int]:
        """Jobs waiting in each queue of the broker, for autoscalers (empty without one)."""
        ...


class DatabaseExecutor:
    """Workers poll the jobs table and claim rows themselves, so submitting has nothing to do."""

    name = "database"

    def submit(self, job_id: str) -> None:
        return None

    def queue_depths(self) -> dict[str, int]:
        return {}


def open_executor(settings: Settings) -> JobExecutor:
    url = settings.queue_url
    if not url or url == "database":
        return DatabaseExecutor()
    from iris3d.jobs.celery_executor import CeleryExecutor, is_celery_url

    if is_celery_url(url):
        return CeleryExecutor(settings)
    raise IrisError(f"IRIS_QUEUE_URL: no job executor for {urlparse(url).scheme}:// URLs")
