"""`serve_app`: what startup built is frozen out of the collector's generations once the
server listens, and everything is cleaned up when it stops."""

from __future__ import annotations

import asyncio
import gc
import socket

import aiohttp
from aiohttp import web

from hotline.app_runner import serve_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_startup_objects_are_frozen_once_listening_and_the_app_is_cleaned_up() -> None:
    gc.unfreeze()
    built: list[object] = []
    cleaned = asyncio.Event()

    async def long_lived(app: web.Application) -> object:
        built.append({"agents": [{"id": str(i)} for i in range(100)]})
        yield
        cleaned.set()

    async def frozen(request: web.Request) -> web.Response:
        return web.json_response({"frozen": gc.get_freeze_count()})

    app = web.Application()
    app.cleanup_ctx.append(long_lived)
    app.router.add_get("/frozen", frozen)
    stop = asyncio.Event()
    port = free_port()
    server = asyncio.create_task(serve_app(app, host="127.0.0.1", port=port, stop=stop))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/frozen") as response:
                        count = (await response.json())["frozen"]
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        assert count > 100  # the agents built at startup (and the rest of the process) are frozen
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
        gc.unfreeze()
    assert cleaned.is_set()
