"""Prometheus metrics: request latency and upload bytes from this process, job figures from the
database (so they are right however many workers and API processes there are)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iris3d.contracts import JobState
from iris3d.settings import Settings
from iris3d.store import counters, queue
from iris3d.store import jobs as job_rows
from iris3d.store.database import Database
from iris3d.store.models import utcnow


class DatabaseCollector(Collector):
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def collect(self) -> Iterable[Metric]:
        with self._db.reader() as session:
            by_state = job_rows.count_by_state(session)
            since = utcnow() - timedelta(seconds=self._settings.worker_stale_s)
            workers = queue.live_workers(session, since)
            stage_rows = counters.read(session, "iris_stage_duration_seconds")
        jobs = GaugeMetricFamily("iris_jobs", "Jobs in the database by state.", labels=["state"])
        for state, count in sorted(by_state.items()):
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "iris_queue_depth", "Jobs waiting for a worker.", value=by_state[JobState.QUEUED]
        )
        yield GaugeMetricFamily("iris_workers", "Workers that beat recently.", value=workers)
        yield _stage_histogram(stage_rows)


def _stage_histogram(rows: dict[tuple[str, str], float]) -> Metric:
    family = HistogramMetricFamily(
        "iris_stage_duration_seconds", "Time each pipeline stage took.", labels=["stage"]
    )
    stages = sorted({labels for name, labels in rows if name.endswith("_count")})
    for stage in stages:
        buckets = [
            (labels.split("|", 1)[1], value)
            for (name, labels), value in rows.items()
            if name.endswith("_bucket") and labels.split("|", 1)[0] == stage
        ]
        buckets.sort(key=lambda b: float(b[0]))
        total = rows.get(("iris_stage_duration_seconds_sum", stage), 0.0)
        family.add_metric([stage], buckets, sum_value=total)
    return family


class BrokerCollector(Collector):
    """Messages waiting in each broker queue, for autoscalers (KEDA, AWS Batch, ...)."""

    def __init__(self, depths: Callable[[], dict[str, int]]) -> None:
        self._depths = depths

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "iris_broker_queue_depth", "Messages waiting in each job queue.", labels=["queue"]
        )
        for name, depth in sorted(self._depths().items()):
            family.add_metric([name], depth)
        yield family


class Metrics:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        self.upload_bytes = Counter(
            "iris_upload_bytes", "Bytes of studies received.", registry=self.registry
        )
        self.uploads = Counter(
            "iris_uploads", "Uploads by outcome.", ["outcome"], registry=self.registry
        )
        self.requests = Histogram(
            "iris_http_request_duration_seconds",
            "Time to the first byte of each response.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.registry.register(DatabaseCollector(db, settings))

    def watch_broker(self, depths: Callable[[], dict[str, int]]) -> None:
        self.registry.register(BrokerCollector(depths))


class RequestTimer:
    """ASGI middleware timing each request to its response's start (streams run on for long)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                _observe(scope, message, time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


def _observe(scope: Scope, message: Message, seconds: float) -> None:
    app = scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    if services is None:
        return
    route = _route_template(scope)
    services.metrics.requests.labels(scope["method"], route, str(message["status"])).observe(
        seconds
    )


def _route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/jobs/{job_id}``), never the raw path, so
    that ids do not multiply the series."""
    # FastAPI keeps the full template of a route in an included router here; the route object
    # itself knows only its path inside the router.
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    full = getattr(context, "path", None)
    if isinstance(full, str) and full:
        return full
    return str(getattr(scope.get("route"), "path", "unmatched"))
