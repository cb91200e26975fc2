"""The Celery executor: delivery rules for a spot fleet, queues per device and quality, and queue
depth read from real brokers (Redis and RabbitMQ)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.requirements import require
from tests.support.scale import postgres_database, redis_url
from tests.support.waiting import wait_for
from tests.unit import test_store_queue as on_sqlite

from iris3d.jobs.celery_executor import CeleryExecutor, all_queues, queue_name, worker_queues
from iris3d.jobs.celery_worker import celery_app
from iris3d.jobs.executor import open_executor
from iris3d.settings import Settings
from iris3d.store.database import open_database
from iris3d.store.migrate import upgrade


def _rabbitmq() -> str:
    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", 5672), timeout=1):
                return True
        except OSError:
            return False

    try:  # .ci/run may have just started it
        wait_for(listening, what="RabbitMQ on 127.0.0.1:5672", timeout=30, interval=0.5)
    except AssertionError:
        require(False, "RabbitMQ is not running on 127.0.0.1:5672")
    return "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def test_messages_survive_a_vanished_worker_and_hold_one_job_at_a_time(tmp_path: Path) -> None:
    app = celery_app(Settings(data_dir=tmp_path, queue_url="redis://127.0.0.1:6379/0"))
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    task = app.tasks["iris.run_job"]
    assert task.acks_late and task.reject_on_worker_lost


def test_queues_split_by_device_and_quality(tmp_path: Path) -> None:
    assert queue_name("tissue", "fast") == "iris.cpu.fast"
    assert queue_name("totalsegmentator", "high") == "iris.gpu.high"
    gpu = worker_queues(Settings(data_dir=tmp_path, worker_queues="gpu"))
    assert gpu == [q for q in all_queues() if q.startswith("iris.gpu.")] and len(gpu) == 4
    mixed = worker_queues(Settings(data_dir=tmp_path, worker_queues="iris.cpu.fast, gpu"))
    assert mixed[0] == "iris.cpu.fast" and len(mixed) == 5
    assert worker_queues(Settings(data_dir=tmp_path)) == all_queues()
    # Comparisons are CPU work: CPU workers take them, GPU-only workers never do.
    assert queue_name("compare", "compare") == "iris.cpu.compare"
    assert "iris.cpu.compare" in worker_queues(Settings(data_dir=tmp_path, worker_queues="cpu"))
    assert "iris.cpu.compare" not in gpu


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_a_submitted_job_waits_in_its_queue(broker: str, pg_url: str, tmp_path: Path) -> None:
    url = redis_url() if broker == "redis" else _rabbitmq()
    db = open_database(pg_url)
    upgrade(db)
    job = on_sqlite._jobs(db, on_sqlite._study(db), 1)[0]
    settings = Settings(data_dir=tmp_path, database_url=pg_url, queue_url=url)
    executor = open_executor(settings)
    assert isinstance(executor, CeleryExecutor)
    app = executor.app
    queue = "iris.cpu.fast"
    with app.connection_for_write() as connection:  # a queue of our own, emptied
        app.amqp.queues.select_add(queue)
        connection.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        connection.default_channel.queue_purge(queue)
    before = executor.queue_depths()[queue]
    executor.submit(job.id)
    executor.submit(f"deleted-{uuid.uuid4().hex}")  # gone meanwhile: nothing is sent
    wait_for(lambda: executor.queue_depths()[queue] != before, what=f"a message in {queue}",
             timeout=10, interval=0.1)
    assert executor.queue_depths()[queue] == before + 1
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
    db.dispose()
