"""Event streams end with their session and are capped per user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, status

from iris3d.api.deps import CurrentUser, ServicesDep
from iris3d.api.security import token_hash
from iris3d.api.services import Services
from iris3d.store import users
from iris3d.store.models import utcnow

RECHECK_S = 1.0
"""How often a stream looks whether its session still lives (sign-out, disabled account)."""


async def _stream_slot(user: CurrentUser, services: ServicesDep) -> AsyncIterator[None]:
    """Holds one of the user's ``IRIS_EVENT_STREAMS_PER_USER`` stream slots while the response
    streams (an async dependency: it runs on the event loop, so the count needs no lock)."""
    open_now = services.open_streams.get(user.id, 0)
    if open_now >= services.settings.event_streams_per_user:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"You have {open_now} event streams open; close a tab or window first.",
        )
    services.open_streams[user.id] = open_now + 1
    try:
        yield
    finally:
        left = services.open_streams.get(user.id, 1) - 1
        if left > 0:
            services.open_streams[user.id] = left
        else:
            services.open_streams.pop(user.id, None)


StreamSlot = Annotated[None, Depends(_stream_slot)]


class SessionWatch:
    """Tells a stream when its session has ended, looking at most every ``RECHECK_S``."""

    def __init__(self, services: Services, token: str | None) -> None:
        self._services = services
        self._token = token
        self._checked = anyio.current_time()

    async def ended(self) -> bool:
        if anyio.current_time() - self._checked < RECHECK_S:
            return False
        self._checked = anyio.current_time()
        alive = await anyio.to_thread.run_sync(session_alive, self._services, self._token)
        return not alive


def session_alive(services: Services, token: str | None) -> bool:
    """Whether ``token`` still signs in (without counting as use: an open page is not activity,
    so a stream never keeps an idle session alive)."""
    if not token:
        return False
    with services.db.reader() as session:
        user = users.user_for_token(
            session, token_hash(token), utcnow(), services.settings.session_idle_s
        )
    return user is not None
