"""Segmentation engines made once per worker and reused, so a model loads once, not per job."""

from __future__ import annotations

import threading

from iris3d.contracts import EngineName
from iris3d.ingest.limits import ReadLimits
from iris3d.segment.base import Engine
from iris3d.settings import Settings


class EngineCache:
    """Engines made with the limits and options of the worker's ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self._limits = ReadLimits.from_settings(settings)
        self._precision = settings.totalseg_precision
        self._cpu_runtime = settings.totalseg_cpu_runtime
        self._engines: dict[EngineName, Engine] = {}
        self._lock = threading.Lock()

    def get(self, name: EngineName) -> Engine | None:
        """The engine ``name``; None for ``import``, which is made per job from its own file."""
        if name is EngineName.IMPORT:
            return None
        with self._lock:
            if name not in self._engines:
                from iris3d.segment import get_engine

                self._engines[name] = get_engine(name, limits=self._limits,
                                                 precision=self._precision,
                                                 cpu_runtime=self._cpu_runtime)
            return self._engines[name]
