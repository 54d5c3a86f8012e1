"""Runs the aiohttp application until SIGINT/SIGTERM, cleaning up whatever started.

`aiohttp.web.run_app` does not clean up the cleanup contexts that had started when a later
one fails (a FastAGI port already taken after the case store opened): their generators are
then finalised by the event loop's shutdown, which prints asyncio teardown tracebacks. Here
startup, serving and cleanup share one `try`, so a refused start ends with one clear error.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import ssl

from aiohttp import web


async def serve_app(
    app: web.Application,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Start `app`, listen on host:port, run until `stop` is set (or a SIGINT/SIGTERM),
    then clean up. Errors of startup or bind propagate after the cleanup."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    runner = web.AppRunner(app, handle_signals=False)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        freeze_startup_objects()
        await stop.wait()
    finally:
        await runner.cleanup()
        for sig in handled:
            loop.remove_signal_handler(sig)


def freeze_startup_objects() -> None:
    """Move what startup built (configuration, menus, agents, models, the routing indexes'
    owners) out of the collector's generations: full collections then no longer walk them on
    the routing path (docs/acd.md, "Garbage collection"). Garbage of the startup is collected
    first, so nothing that is already unreachable is kept for good."""
    gc.collect()
    gc.freeze()


def run_app(
    app: web.Application, *, host: str, port: int, ssl_context: ssl.SSLContext | None = None
) -> None:
    asyncio.run(serve_app(app, host=host, port=port, ssl_context=ssl_context))
