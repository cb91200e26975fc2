"""Segmentation engines made once per worker and reused, so a model loads once, not per job."""

from __future__ import annotations

import threading

from iris3d.contracts import EngineName
from iris3d.segment.base import Engine


class EngineCache:
    def __init__(self) -> None:
        self._engines: dict[EngineName, Engine] = {}
        self._lock = threading.Lock()

    def get(self, name: EngineName) -> Engine | None:
        """The engine ``name``; None for ``import``, which is made per job from its own file."""
        if name is EngineName.IMPORT:
            return None
        with self._lock:
            if name not in self._engines:
                from iris3d.segment import get_engine

                self._engines[name] = get_engine(name)
            return self._engines[name]
