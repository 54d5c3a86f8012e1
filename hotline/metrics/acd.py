"""The ACD's metrics: what is waiting and who is free, read from the core at scrape time,
and what happened to calls, counted by an ACD event subscriber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from acd.engine import Acd
from acd.events import (
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallEnded,
    CallRingNoAnswer,
    Event,
)

# seconds from a call becoming routable to the router's choice of an agent
ROUTING_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)


class AcdCollector(Collector):
    """Calls waiting and the longest wait per queue, agents per state (from `Acd.snapshot`)."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    def collect(self) -> Iterator[Metric]:
        snapshot = self.acd.snapshot()
        waiting = GaugeMetricFamily(
            "hotline_calls_waiting", "Calls waiting in the queue for an agent", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "hotline_queue_longest_wait_seconds", "Wait of the longest-waiting call of the queue",
            labels=["queue"],
        )
        for name, queue in snapshot["queues"].items():
            waiting.add_metric([name], queue["waiting"])
            longest.add_metric([name], queue["longest_wait"])
        agents = GaugeMetricFamily("hotline_agents", "Agents per state", labels=["state"])
        for state, count in snapshot["agents"].items():
            agents.add_metric([state], count)
        calls = GaugeMetricFamily("hotline_calls_in_acd", "Calls the ACD handles now (any state)")
        calls.add_metric([], len(self.acd.calls))
        yield from (waiting, longest, agents, calls)


class AcdEventMetrics:
    """ACD subscriber: calls offered, answered, abandoned; routing decisions and how long
    each call waited to be routable-to-routed (`Acd.subscribe(metrics, metrics.KINDS)`)."""

    KINDS: tuple[type[Event], ...] = (
        CallArrived, CallAssigned, CallAnswered, CallAbandoned, CallEnded, CallRingNoAnswer,
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.offered = Counter(
            "hotline_calls_offered", "Calls that reached the ACD (by their first queue)",
            ["queue"], registry=registry,
        )
        self.answered = Counter(
            "hotline_calls_answered", "Calls answered by an agent", ["queue"], registry=registry
        )
        self.abandoned = Counter(
            "hotline_calls_abandoned", "Calls that left the ACD before an agent answered",
            ["queue", "reason"], registry=registry,
        )
        self.decisions = Counter(
            "hotline_routing_decisions", "Routing decisions (an agent chosen for a call)",
            ["queue"], registry=registry,
        )
        self.ring_no_answer = Counter(
            "hotline_routing_ring_no_answer", "Offers the agent did not answer", ["queue"],
            registry=registry,
        )
        self.latency = Histogram(
            "hotline_routing_latency_seconds",
            "From a call becoming routable (arrival, or back in the queue after an unanswered "
            "offer) to the routing decision",
            ["queue"], buckets=ROUTING_BUCKETS, registry=registry,
        )
        self._routable_since: dict[str, float] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}  # `labels()` is the cost

    def _of(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallArrived):
            self._of(self.offered, event.queue).inc()
            self._routable_since[event.call_id] = event.at
        elif isinstance(event, CallAssigned):
            self._of(self.decisions, event.queue).inc()
            since = self._routable_since.pop(event.call_id, None)
            self._of(self.latency, event.queue).observe(max(0.0, event.at - since) if since is not None else event.wait)
        elif isinstance(event, CallRingNoAnswer):
            self._of(self.ring_no_answer, event.queue).inc()
            self._routable_since[event.call_id] = event.at
        elif isinstance(event, CallAnswered):
            self._of(self.answered, event.queue).inc()
            self._routable_since.pop(event.call_id, None)
        elif isinstance(event, CallAbandoned):
            self._of(self.abandoned, event.queue, event.reason).inc()
            self._routable_since.pop(event.call_id, None)
        elif isinstance(event, CallEnded):
            self._routable_since.pop(event.call_id, None)
