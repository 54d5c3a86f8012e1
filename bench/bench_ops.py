"""What operations cost the hot paths: the ACD's events delivered to the metrics subscriber
and the log call tracker, against delivery to a list (anchor); one `/metrics` exposition;
a JSON log line (call context and masking filters) against the standard `%(message)s`
formatter (anchor). Rounds alternate the measured and the anchor; min and median printed."""

from __future__ import annotations

import io
import logging
import statistics
import time
from collections.abc import Callable

from prometheus_client import generate_latest

from acd.events import Event
from bench.bench_state import workout
from hotline.logs import CallAgents, ContextFilter, JsonFormatter
from hotline.metrics import Metrics
from hotline.privacy import MaskingFilter

ROUNDS = 5
EVENTS = 20_000
LINES = 20_000


def deliver(events: list[Event], subscribers: list[tuple[Callable[[Event], None], frozenset[type]]]) -> float:
    """Seconds to hand `events` to `subscribers` as `Acd._flush` does (kinds filtered)."""
    started = time.perf_counter()
    for event in events:
        cls = type(event)
        for subscriber, kinds in subscribers:
            if cls in kinds:
                subscriber(event)
    return time.perf_counter() - started


def log_run(formatter: logging.Formatter, filters: list[logging.Filter]) -> float:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    for f in filters:
        handler.addFilter(f)
    logger = logging.Logger("bench.ops")
    logger.addHandler(handler)
    started = time.perf_counter()
    for n in range(LINES):
        logger.info("twilio call %s: answer to step %s ignored (open: %s)", f"CA{n:032x}", 3, 4)
    return time.perf_counter() - started


def report(name: str, measured: list[float], anchor: list[float], unit: float, per: str) -> None:
    m, a = min(measured), min(anchor)
    print(f"{name}: {m / unit * 1e6:.2f} us/{per} (median {statistics.median(measured) / unit * 1e6:.2f}) "
          f"vs anchor {a / unit * 1e6:.2f} us/{per} (median {statistics.median(anchor) / unit * 1e6:.2f}): "
          f"x{m / a:.2f}")


def main() -> int:
    acd, _, events = workout(EVENTS, seed=1)  # a busy ACD and the events it emitted
    sink: list[Event] = []
    every = frozenset(type(e) for e in events)
    anchor = [(sink.append, every)]
    metrics = Metrics(acd)
    ops = [(metrics.events, frozenset(metrics.events.KINDS)), (CallAgents(), frozenset(CallAgents.KINDS))]
    bare, measured = [], []
    for _ in range(ROUNDS):
        sink.clear()
        bare.append(deliver(events, anchor))
        measured.append(deliver(events, ops))  # type: ignore[arg-type]
    report("metrics + log tracker subscribers", measured, bare, len(events), "event")

    scrapes = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(100):
            body = generate_latest(metrics.registry)
        scrapes.append((time.perf_counter() - started) / 100)
    print(f"/metrics exposition ({len(acd.agents)} agents, {len(acd.queues)} queues, "
          f"{len(body)} bytes): min {min(scrapes) * 1e3:.2f} ms, median {statistics.median(scrapes) * 1e3:.2f} ms")

    plain, json_lines = [], []
    for _ in range(ROUNDS):
        plain.append(log_run(logging.Formatter("%(message)s"), []))
        json_lines.append(log_run(JsonFormatter(), [ContextFilter(CallAgents()), MaskingFilter()]))
    report("JSON log line (context + masking)", json_lines, plain, LINES, "line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
