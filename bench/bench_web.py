"""Live events for browsers: what the web publisher adds to the ACD's event delivery.

The same recorded ACD events (a random 40-agent workout) go to (anchor) one subscriber that
only appends to a list, and to the publisher fanning out to 200 browser connections (150
agents, 50 staff) whose queues are emptied between rounds, and to 200 connections that never
read (each dropped once its bounded queue is full: the ACD is never made to wait).
Alternated rounds, min and median per event.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time

from acd.events import Event
from bench.bench_state import workout
from hotline.roles import Principal, Role
from hotline.web.base.live import Publisher

EVENTS = 20_000
ROUNDS = 5


def _principals() -> list[Principal]:
    agents = [Principal(Role.AGENT, agent_id=f"a{i % 40}", login=f"agent{i}") for i in range(150)]
    staff = [Principal(Role.SUPERVISOR, login=f"sup{i}") for i in range(50)]
    return agents + staff


def anchor(events: list[Event]) -> float:
    sink: list[Event] = []
    started = time.perf_counter()
    for event in events:
        sink.append(event)
    return time.perf_counter() - started


def fan_out(events: list[Event], queue_size: int, drain: bool) -> float:
    publisher = Publisher(queue_size=queue_size)
    connections = [publisher.connect(p) for p in _principals()]
    started = time.perf_counter()
    for event in events:
        publisher.on_acd_event(event)
    elapsed = time.perf_counter() - started
    if drain:
        assert publisher.dropped == 0
    for conn in connections:
        while not conn.queue.empty():
            conn.queue.get_nowait()
    return elapsed


async def run() -> None:
    logging.getLogger("hotline.live").setLevel(logging.ERROR)  # one warning per dropped browser
    _, _, events = workout(EVENTS, seed=3)
    results: dict[str, list[float]] = {"anchor (list append)": [], "200 browsers reading": [], "200 browsers stuck": []}
    for _ in range(ROUNDS):
        results["anchor (list append)"].append(anchor(events))
        results["200 browsers reading"].append(fan_out(events, queue_size=EVENTS, drain=True))
        results["200 browsers stuck"].append(fan_out(events, queue_size=256, drain=False))
    print(f"{len(events)} ACD events, {ROUNDS} alternated rounds (per event: min / median)")
    for name, times in results.items():
        per = [t / len(events) * 1e6 for t in times]
        print(f"  {name:<24} {min(per):8.2f} us  {statistics.median(per):8.2f} us")


def main() -> int:
    asyncio.run(run())
    return 0
