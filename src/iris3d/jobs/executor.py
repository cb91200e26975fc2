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


class DatabaseExecutor:
    """Workers poll the jobs table and claim rows themselves, so submitting has nothing to do."""

    name = "database"

    def submit(self, job_id: str) -> None:
        return None


def open_executor(settings: Settings) -> JobExecutor:
    url = settings.queue_url
    if not url or url == "database":
        return DatabaseExecutor()
    raise IrisError(f"IRIS_QUEUE_URL: no job executor for {urlparse(url).scheme}:// URLs")
