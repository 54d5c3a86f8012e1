"""Liveness and readiness for load balancers and orchestrators.

    GET /healthz   200 while the process serves HTTP (it checks nothing else)
    GET /readyz    200 when every configured dependency is usable, else 503; both list each
                   check with its reason when it fails:
                     store     the case store answers a query
                     redis     the state stream's Redis answers PING (when `state.url` is set)
                     asterisk  AMI is logged in (when the Asterisk adapter is enabled)
                     menus     the menus are loaded (and the default menu is active)
    GET /health    the same as /readyz (kept for existing monitors)

`add_health_routes(app, checks)` takes the checks the wiring builds from the configuration
(`store_check`, `redis_check`, ...): each is an async function of the app giving None when
ready, else the reason. Every check has a timeout, so a hung dependency makes the answer
"not ready", never a hung probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from hotline.privacy import mask_text
from ivr.registry import MenuRegistry

Check = Callable[[web.Application], Awaitable[str | None]]
CHECK_TIMEOUT = 2.0  # seconds per check


def store_check(key: web.AppKey[Any]) -> Check:
    """The case store under `key` (a `casestore.store.Store`) answers `SELECT 1`."""

    async def check(app: web.Application) -> str | None:
        from sqlalchemy import text  # the store adapter's library, only once a probe comes

        store = app.get(key)
        if store is None:
            return "case store not open"
        try:
            async with store.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not reachable"
            return f"case store unreachable: {_describe(exc)}"
        return None

    return check


def redis_check(key: web.AppKey[Any]) -> Check:
    """The state publisher under `key` (`state.redis_events.RedisEventLog`) is not failing
    its writes and its Redis answers PING."""

    async def check(app: web.Application) -> str | None:
        from state.redis_events import connect

        publisher = app.get(key)
        if publisher is None:
            return "state publisher not started"
        if publisher.unavailable.is_set():
            return f"Redis writes failing ({publisher.pending} events buffered)"
        client = connect(publisher.settings)
        try:
            await client.ping()
        except Exception as exc:  # redis and socket errors alike
            return f"Redis unreachable: {_describe(exc)}"
        finally:
            await client.aclose()
        return None

    return check


def asterisk_check(key: web.AppKey[Any]) -> Check:
    """The Asterisk service under `key` has its AMI session logged in and resynchronised."""

    async def check(app: web.Application) -> str | None:
        service = app.get(key)
        if service is None:
            return "Asterisk adapter not started"
        ami = service.ami
        if not ami.ready.is_set():
            error = ami.last_error
            return f"AMI not logged in: {error}" if error else "AMI not logged in yet"
        return None

    return check


def menus_check(key: web.AppKey[MenuRegistry], default_menu: str | None = None) -> Check:
    async def check(app: web.Application) -> str | None:
        registry = app.get(key)
        if registry is None or not any(registry.active(n) for n in registry.names()):
            return "no menu loaded"
        if default_menu and registry.active(default_menu) is None:
            return f"default menu {default_menu!r} not loaded"
        return None

    return check


def _describe(exc: BaseException) -> str:
    """The error's type and the first line of its message, masked (no data in a probe)."""
    lines = str(exc).splitlines()
    return mask_text(f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


async def _run(check: Check, app: web.Application) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return await check(app)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT} s"


async def readiness(app: web.Application, checks: Mapping[str, Check]) -> dict[str, Any]:
    names = list(checks)
    reasons = await asyncio.gather(*(_run(checks[n], app) for n in names))
    results: dict[str, Any] = {}
    for name, reason in zip(names, reasons, strict=True):
        results[name] = {"ok": True} if reason is None else {"ok": False, "reason": reason}
    ready = all(r is None for r in reasons)
    return {"status": "ready" if ready else "not_ready", "checks": results}


def add_health_routes(app: web.Application, checks: Mapping[str, Check]) -> None:
    started = time.monotonic()

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "uptime": round(time.monotonic() - started, 3)})

    async def readyz(request: web.Request) -> web.Response:
        body = await readiness(request.app, checks)
        return web.json_response(body, status=200 if body["status"] == "ready" else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/health", readyz)
