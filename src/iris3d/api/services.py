"""Everything a request may need, made once per app in its lifespan (never at import time)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

from iris3d.api.clients import ClientResolver
from iris3d.api.metrics import Metrics
from iris3d.api.oidc import OidcClient
from iris3d.api.ratelimit import Limiters
from iris3d.api.security import LinkKeys, Passwords
from iris3d.jobs.eta import QueueFacts
from iris3d.jobs.executor import JobExecutor, open_executor
from iris3d.settings import Settings
from iris3d.store.blobs import BlobStore, open_blob_store
from iris3d.store.database import Database, database_url, open_database
from iris3d.store.migrate import upgrade


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: BlobStore
    executor: JobExecutor
    passwords: Passwords
    limiters: Limiters
    clients: ClientResolver
    link_keys: LinkKeys
    metrics: Metrics
    upload_dir: Path
    ingest_slots: threading.BoundedSemaphore
    eta: QueueFacts
    oidc: OidcClient | None = None  # sign-in with the institution, when configured
    upload_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    open_streams: dict[str, int] = field(default_factory=dict)  # per user; event loop only

    @property
    def cookie_secure(self) -> bool:
        if self.settings.cookie_secure is not None:
            return self.settings.cookie_secure
        return self.settings.env != "development"

    def close(self) -> None:
        self.db.dispose()


def open_services(settings: Settings) -> Services:
    """Connect to the database (migrating it to the current schema) and the blob store."""
    db = open_database(database_url(settings))
    upgrade(db)
    upload_dir = settings.data_dir / "uploads"
    upload_dir.mkdir(parents=True, exist_ok=True)
    executor = open_executor(settings)
    metrics = Metrics(db, settings)
    metrics.watch_broker(executor.queue_depths)
    return Services(
        settings=settings,
        db=db,
        blobs=open_blob_store(settings),
        executor=executor,
        passwords=Passwords(),
        limiters=Limiters.from_settings(settings),
        clients=ClientResolver.from_settings(settings.trusted_proxies),
        link_keys=LinkKeys.from_settings(settings),
        metrics=metrics,
        upload_dir=upload_dir,
        ingest_slots=threading.BoundedSemaphore(settings.ingest_concurrency),
        # As fresh as the event streams: one read per poll at most.
        eta=QueueFacts(settings.worker_stale_s, max_age_s=settings.sse_poll_s),
        oidc=OidcClient(settings) if settings.oidc_issuer else None,
    )
