"""`/health`: the process answers (no sign-in; outside /api for load balancers)."""

from __future__ import annotations

from aiohttp import web

from hotline.web.base.keys import CONFIG_KEY


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "name": request.app[CONFIG_KEY].name})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
