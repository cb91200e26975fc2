"""Jobs through Celery (``IRIS_QUEUE_URL=redis://...`` or ``amqp://...``).

The database stays the truth: a message only says "job X may be ready"; the worker claims the row
as the database workers do. So a message delivered twice, or for a job that was cancelled or
deleted, does nothing, and a message lost with a vanished machine is sent again by the API's
housekeeping (:func:`iris3d.api.maintenance.sweep`).

Queues are named ``iris.<device>.<quality>``: CPU-only engines (``tissue``, ``import``) go to
``iris.cpu.*``, model engines to ``iris.gpu.*``, so GPU and CPU workers can share one broker.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from iris3d.contracts import COMPARISON_ENGINE, EngineName, Quality
from iris3d.settings import Settings
from iris3d.store import queue
from iris3d.store.database import Database, database_url, open_database

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

TASK_NAME = "iris.run_job"
DEVICES = ("cpu", "gpu")


def queue_name(engine: str, quality: str) -> str:
    """``engine`` and ``quality`` as a job row holds them (``compare`` for a comparison)."""
    needs_gpu = engine != COMPARISON_ENGINE and EngineName(engine).needs_gpu
    return f"iris.{'gpu' if needs_gpu else 'cpu'}.{quality}"


def all_queues() -> list[str]:
    studies = [f"iris.{device}.{quality.value}" for device in DEVICES for quality in Quality]
    return [*studies, queue_name(COMPARISON_ENGINE, COMPARISON_ENGINE)]


def worker_queues(settings: Settings) -> list[str]:
    """The queues this worker takes: ``IRIS_WORKER_QUEUES`` (names or ``cpu``/``gpu``), or all."""
    if not settings.worker_queues:
        return all_queues()
    chosen: list[str] = []
    for part in (p.strip() for p in settings.worker_queues.split(",")):
        if part in DEVICES:
            chosen += [q for q in all_queues() if q.startswith(f"iris.{part}.")]
        elif part:
            chosen.append(part)
    return chosen


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings.queue_url`` with the delivery rules a spot fleet needs."""
    from celery import Celery

    app = Celery("iris", broker=settings.queue_url, set_as_current=False)
    app.conf.update(
        # A message is acknowledged only when its job ended, and given back when the process
        # running it dies: a vanished machine costs a retry, never a lost job.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the job it runs
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=queue_name(EngineName.TISSUE, Quality.FAST),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Redis redelivers an unacknowledged message after this; the API resends sooner.
        broker_transport_options={"visibility_timeout": 6 * 3600},
    )
    return app


class CeleryExecutor:
    name = "celery"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: Celery | None = None
        self._db: Database | None = None

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = make_celery(self._settings)
        return self._app

    def _database(self) -> Database:
        if self._db is None:
            self._db = open_database(database_url(self._settings))
        return self._db

    def submit(self, job_id: str) -> None:
        with self._database().reader() as session:
            route = queue.route_of(session, job_id)
        if route is None:
            return  # deleted meanwhile
        try:
            self.app.send_task(TASK_NAME, args=[job_id], queue=queue_name(*route))
        except Exception as e:  # the row is queued; the API's housekeeping sends it again
            log.warning("could not send job %s to the broker: %s", job_id, type(e).__name__)

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each queue (for autoscalers); empty when the broker is away."""
        depths: dict[str, int] = {}
        try:
            with self.app.connection_for_write() as connection:
                for name in all_queues():
                    depths[name] = _depth(connection, name)
        except Exception as e:  # metrics must answer even when the broker does not
            log.warning("could not read queue depths: %s", type(e).__name__)
            return {}
        return depths


def _depth(connection: Any, name: str) -> int:
    if "redis" in str(connection.transport_cls):
        with connection.default_channel.conn_or_acquire() as client:
            return int(client.llen(name))
    channel = connection.channel()  # a failed passive declare closes its channel
    try:
        declared = channel.queue_declare(queue=name, passive=True)
    except Exception:
        return 0  # not declared yet: no worker ever listened and nothing was sent
    finally:
        channel.close()
    return int(declared.message_count)


def is_celery_url(url: str | None) -> bool:
    return bool(url) and urlparse(url or "").scheme in {"redis", "rediss", "amqp", "amqps"}
