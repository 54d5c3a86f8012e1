"""Prometheus metrics on `GET /metrics` (the text exposition format).

    metrics = setup_metrics(app, acd, webhook_prefix="/twilio/")
    metrics.watch_store(lambda: ...)      # collectors read the adapters' objects at scrape time
    recognizer = metrics.speech.wrap(recognizer)

Every metric is listed in docs/operations.md. Each application has its own registry (tests
run several servers in one process); the process's own metrics (CPU, memory, open files)
are in it too.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from acd.engine import Acd
from hotline.metrics.acd import AcdCollector, AcdEventMetrics
from hotline.metrics.adapters import AsteriskCollector, Provider, StateCollector, StoreCollector
from hotline.metrics.speech import RecognizerMetrics

WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    def __init__(self, acd: Acd) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self.registry.register(AcdCollector(acd))
        self.events = AcdEventMetrics(self.registry)
        self.speech = RecognizerMetrics(self.registry)
        self.webhooks = Histogram(
            "hotline_webhook_seconds", "Time to answer a Twilio webhook", ["webhook", "status"],
            buckets=WEBHOOK_BUCKETS, registry=self.registry,
        )

    def watch_asterisk(self, service: Provider) -> None:
        self.registry.register(AsteriskCollector(service))

    def watch_store(self, writer: Provider) -> None:
        self.registry.register(StoreCollector(writer))

    def watch_state(self, publisher: Provider) -> None:
        self.registry.register(StateCollector(publisher))

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


METRICS_KEY = web.AppKey("metrics", Metrics)


def webhook_middleware(metrics: Metrics, prefix: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Times the POST webhooks under `prefix` (the Media Stream socket is not a webhook)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or not request.path.startswith(prefix):
            return await handler(request)
        info = request.match_info
        name = info.route.resource.canonical.removeprefix(prefix) if info.route.resource else "unknown"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.webhooks.labels(name, str(status)).observe(time.perf_counter() - started)

    return middleware


def setup_metrics(app: web.Application, acd: Acd, *, webhook_prefix: str | None = None) -> Metrics:
    """`GET /metrics`, the ACD's collectors and event counters, and (with `webhook_prefix`)
    the webhook timer. Call before the app starts."""
    metrics = app[METRICS_KEY] = Metrics(acd)

    async def subscribed(app: web.Application) -> AsyncIterator[None]:
        unsubscribe = acd.subscribe(metrics.events, metrics.events.KINDS)
        yield
        unsubscribe()

    async def scrape(request: web.Request) -> web.Response:
        body = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.cleanup_ctx.append(subscribed)
    app.router.add_get("/metrics", scrape)
    if webhook_prefix is not None:
        app.middlewares.append(webhook_middleware(metrics, webhook_prefix))
    return metrics
