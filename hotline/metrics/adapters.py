"""Metrics of the adapters, read from their own objects at scrape time (nothing is counted
twice, and the adapters do not know about Prometheus): the AMI link and FastAGI sessions,
the case-store writer, the state stream's publisher.

Each collector takes a function giving the object (or None while it is not running), since
the objects are built by cleanup contexts after the routes are added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

Provider = Callable[[], Any]


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


class AsteriskCollector(Collector):
    """`asterisk.service.AsteriskService`: AMI link state, logins and reconnects; FastAGI
    sessions open, served and refused."""

    def __init__(self, service: Provider) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service()
        if service is None:
            return
        ami, agi = service.ami, service.agi
        logins = int(ami.connections)
        yield _gauge("hotline_ami_up", "1 while the AMI session is logged in and resynchronised",
                     1.0 if ami.ready.is_set() else 0.0)
        yield _counter("hotline_ami_logins", "Successful AMI logins", logins)
        yield _counter("hotline_ami_reconnects", "AMI logins after the first (the link came back)",
                       max(0, logins - 1))
        yield _gauge("hotline_fastagi_sessions_active", "FastAGI sessions open now", agi.active)
        yield _counter("hotline_fastagi_sessions", "FastAGI sessions served", agi.sessions)
        yield _counter("hotline_fastagi_rejected", "FastAGI connections refused before a session",
                       agi.rejected)


class StoreCollector(Collector):
    """`casestore.writer.CallWriter`: backlog and lag of the case-store writes."""

    def __init__(self, writer: Provider) -> None:
        self.writer = writer

    def collect(self) -> Iterator[Metric]:
        writer = self.writer()
        if writer is None:
            return
        stats = writer.stats
        oldest = writer.oldest_at
        lag = max(0.0, writer.clock() - oldest) if oldest is not None else 0.0
        yield _gauge("hotline_casestore_backlog", "Items waiting to be written to the case store",
                     writer.backlog)
        yield _gauge("hotline_casestore_write_lag_seconds",
                     "Age of the oldest item not yet written (0 when nothing waits)", lag)
        yield _gauge("hotline_casestore_max_backlog", "Largest backlog seen", stats.max_backlog)
        yield _counter("hotline_casestore_items", "Items handed to the writer", stats.events)
        yield _counter("hotline_casestore_rows_written", "Rows written", stats.rows_flushed)
        yield _counter("hotline_casestore_batches", "Transactions written", stats.batches)
        yield _counter("hotline_casestore_write_retries", "Failed writes retried", stats.retries)
        yield _counter("hotline_casestore_rejected", "Items the database refused (kept aside)",
                       stats.rejected)
        yield _counter("hotline_casestore_flush_seconds", "Time spent writing", stats.flush_seconds)


class StateCollector(Collector):
    """`state.redis_events.RedisEventLog`: the ACD's events on their way to Redis."""

    def __init__(self, publisher: Provider) -> None:
        self.publisher = publisher

    def collect(self) -> Iterator[Metric]:
        publisher = self.publisher()
        if publisher is None:
            return
        yield _gauge("hotline_state_redis_up", "0 while writes to Redis fail",
                     0.0 if publisher.unavailable.is_set() else 1.0)
        yield _gauge("hotline_state_events_buffered", "Events waiting for Redis", publisher.pending)
        yield _counter("hotline_state_events_published", "Events written to the stream",
                       publisher.published)
        yield _counter("hotline_events_dropped",
                       "Events dropped because the state stream's buffer was full",
                       publisher.dropped)
        yield _counter("hotline_state_write_failures", "Failed writes to Redis", publisher.failures)
