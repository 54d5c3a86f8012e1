"""What operations cost the hot paths: the ACD with the metrics subscriber and the log call
tracker subscribed, against the bare ACD (anchor); one `/metrics` exposition; a JSON log line
(call context and masking filters) against the standard `%(message)s` formatter (anchor).
Rounds alternate the measured and the anchor; min and median are printed."""

from __future__ import annotations

import io
import logging
import random
import statistics
import time
from collections.abc import Callable

from prometheus_client import generate_latest

from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import Event
from bench.bench_state import AGENTS, QUEUES, workout
from hotline.logs import CallAgents, ContextFilter, JsonFormatter
from hotline.metrics import Metrics
from hotline.privacy import MaskingFilter

ROUNDS = 5
EVENTS = 20_000
LINES = 20_000


def acd_run(subscribe: Callable[[Acd], None]) -> float:
    """Seconds to drive an ACD (the same random operations each time) for EVENTS events."""
    rng = random.Random(1)
    clock = VirtualClock(0.0)
    acd = Acd(clock, QUEUES)
    for config in AGENTS:
        acd.add_agent(config)
    count = [0]

    def counted(event: Event) -> None:
        count[0] += 1

    acd.subscribe(counted)
    subscribe(acd)
    serial = 0
    started = time.perf_counter()
    while count[0] < EVENTS:
        roll = rng.random()
        calls = list(acd.calls.values())
        try:
            if roll < 0.2:
                serial += 1
                acd.arrive(f"c{serial}", rng.choice(("booking", "refund", "general")))
            elif roll < 0.45:
                ringing = [c.id for c in calls if c.state is CallState.RINGING]
                if ringing:
                    acd.answer(rng.choice(ringing))
            elif roll < 0.7:
                talking = [c.id for c in calls if c.state is CallState.ON_CALL]
                if talking:
                    acd.end(rng.choice(talking))
            elif roll < 0.9:
                agent = rng.choice(AGENTS).id
                getattr(acd, rng.choice(("login", "login", "unpause", "wrap_done", "logout")))(agent)
            else:
                clock.advance(rng.choice((1.0, 5.0, 20.0)))
        except AcdError:
            pass
    return time.perf_counter() - started


def with_ops(acd: Acd) -> None:
    metrics = Metrics(acd)
    acd.subscribe(metrics.events, metrics.events.KINDS)
    acd.subscribe(CallAgents(), CallAgents.KINDS)


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
    bare, ops = [], []
    for _ in range(ROUNDS):
        bare.append(acd_run(lambda acd: None))
        ops.append(acd_run(with_ops))
    report("ACD + metrics + log tracker", ops, bare, EVENTS, "event")

    acd, _, _ = workout(EVENTS, seed=1)  # a busy ACD to expose
    metrics = Metrics(acd)
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
