"""The state adapter as the server runs it: an aiohttp cleanup_ctx that publishes the ACD's
events to Redis while the server runs (see docs/state.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from acd.engine import Acd
from state.redis_events import RedisEventLog, publishing
from state.settings import StateSettings

STATE_KEY = web.AppKey("state", RedisEventLog)


def state_cleanup_ctx(
    settings: StateSettings, acd: Acd, **kwargs: Any
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start the publisher, subscribed to `acd`, under `STATE_KEY`; on shutdown write what is
    buffered (briefly) and stop."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with publishing(settings, acd, **kwargs) as publisher:
            app[STATE_KEY] = publisher
            yield

    return ctx
