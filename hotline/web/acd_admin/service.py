"""The live queues-and-agents service on the application (`ACD_CONFIG_KEY`), started once the
case store (and, in a cluster, the node) is up: the file's items imported once, the store's
newest versions applied to the ACD through its operation path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from acd.engine import Acd
from casestore.acd_config import AcdConfigStore
from hotline.acd_config import LiveAcdConfig
from hotline.config import HotlineConfig
from hotline.web.base.keys import ACD_COMMAND_KEY, STORE_KEY
from state.commands import execute

ACD_CONFIG_KEY = web.AppKey("acd_config", LiveAcdConfig)


def acd_config_ctx(
    config: HotlineConfig, acd: Acd, clock: Callable[[], float], *,
    leader: Callable[[web.Application], bool] | None = None, poll: float = 2.0,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """`leader`: whether this node runs the ACD (a cluster's leader; default: always)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def run(op: str, args: dict[str, Any]) -> None:
            command = app.get(ACD_COMMAND_KEY)
            if command is not None:  # a cluster: on the leader, seen by every replica
                await command(op, **args)
            else:
                execute(acd, op, args)

        live = LiveAcdConfig(
            acd, AcdConfigStore(app[STORE_KEY].engine, clock), run=run,
            leader=(lambda: leader(app)) if leader is not None else (lambda: True), poll=poll,
        )
        await live.start(config)
        app[ACD_CONFIG_KEY] = live
        try:
            yield
        finally:
            await live.stop()

    return ctx
