"""ACD benchmarks.

1. Simulated calls per second of wall time, 100 agents (goal: 20,000 calls/s on one core),
   with nobody else listening and with a subscriber that takes every event (what an event
   log or a case store adds).
   The same traffic through the core at 100 and 10,000 agents beside a bare M/M/N+M event
   loop (no ACD), alternated in one run.
2. Routing decision time as agents and waiting calls grow 10 -> 10,000, every agent with its
   own skill profile, beside a naive router that scans every agent / waiting call
   (`bench/acd_routing.py`), and the ACD's memory per agent and per waiting call.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Sequence

from acd.events import Event
from acd.queue import QueueConfig
from acd.simulation import AgentGroup, Distribution, Simulation, SimulationConfig, Stream
from bench import acd_routing

GOAL_CALLS_PER_SECOND = 20_000

# -- 1. simulation throughput ----------------------------------------------------------------


def hundred_agents(hours: float) -> SimulationConfig:
    """100 agents, 90 % offered load, exponential talk 180 s, 5 s wrap-up, callers hang up."""
    return SimulationConfig(
        queues=(QueueConfig("sales", skills={"sales": 1}, wrap_up=5.0),),
        streams=(
            Stream(
                "sales",
                calls_per_hour=100 * 0.9 * 3600 / 185,
                handle=Distribution("exponential", 180.0),
                patience=Distribution("exponential", 300.0),
            ),
        ),
        groups=(AgentGroup("agents", 100, skills={"sales": 5}),),
        duration=hours * 3600,
        warmup=600,
        seed=7,
    )


def throughput(listen: bool) -> tuple[int, float]:
    seen = [0]

    def take(event: Event) -> None:
        seen[0] += 1

    sim = Simulation(hundred_agents(30), subscribers=[take] if listen else [])
    started = time.perf_counter()
    report = sim.run()
    return report.arrivals, time.perf_counter() - started


# -- the anchor: a bare M/M/N+M event loop, no ACD ----------------------------------------------


def bare_mmn(agents: int, hours: float, seed: int = 7) -> tuple[int, float]:
    """The same traffic as `hundred_agents` (Poisson arrivals, exponential handle time incl.
    wrap-up, exponential patience) through a heap of events and a FIFO of waiting callers."""
    rng = random.Random(seed)
    rate = agents * 0.9 / 185.0
    end = hours * 3600
    events: list[tuple[float, int]] = [(rng.expovariate(rate), 0)]  # kind 0 arrival, 1 departure
    waiting: deque[float] = deque()  # deadlines of waiting callers
    free = agents
    calls = 0
    started = time.perf_counter()
    while events:
        now, kind = heapq.heappop(events)
        if kind == 0:
            calls += 1
            if now < end:
                heapq.heappush(events, (now + rng.expovariate(rate), 0))
            if free:
                free -= 1
                heapq.heappush(events, (now + rng.expovariate(1 / 185.0), 1))
            else:
                waiting.append(now + rng.expovariate(1 / 300.0))
        else:
            while waiting and waiting[0] < now:
                waiting.popleft()  # hung up while waiting
            if waiting:
                waiting.popleft()
                heapq.heappush(events, (now + rng.expovariate(1 / 185.0), 1))
            else:
                free += 1
    return calls, time.perf_counter() - started


def scaled(agents: int, hours: float) -> SimulationConfig:
    config = hundred_agents(hours)
    stream = config.streams[0]
    return dataclasses.replace(
        config,
        streams=(dataclasses.replace(stream, calls_per_hour=stream.calls_per_hour * agents / 100),),
        groups=(AgentGroup("agents", agents, skills={"sales": 5}),),
    )


def simulated(config: SimulationConfig) -> tuple[int, float]:
    sim = Simulation(config)
    started = time.perf_counter()
    report = sim.run()
    return report.arrivals, time.perf_counter() - started


def compare_with_bare(rounds: int = 3) -> tuple[float, float]:
    """The core at 100 and 10,000 agents beside the bare loop, alternated in `rounds` rounds:
    (core/bare at 100 agents, 10,000-agent rate / 100-agent rate), medians."""
    print(f"   through the core against a bare M/M/N+M loop (same traffic), alternated, {rounds} rounds:")
    rates: dict[str, list[float]] = {"bare 100": [], "core 100": [], "core 10000": []}
    for _ in range(rounds):
        calls, wall = bare_mmn(100, 30)
        rates["bare 100"].append(calls / wall)
        calls, wall = simulated(scaled(100, 10))
        rates["core 100"].append(calls / wall)
        calls, wall = simulated(scaled(10_000, 0.1))
        rates["core 10000"].append(calls / wall)
    for label, values in rates.items():
        print(f"   {label:12s} calls/s min {min(values):10,.0f}  median {statistics.median(values):10,.0f}")
    bare, core, big = (statistics.median(v) for v in rates.values())
    print(f"   core/bare at 100 agents: 1/{bare / core:.1f} (goal 1/10); "
          f"10,000 agents / 100 agents: {big / core:.2f} (goal >= 0.5)")
    return core / bare, big / core


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.bench_acd [--ratio | --routing]`: everything, or only the comparison
    with the bare loop (under a minute), or only the routing decisions and memory."""
    args = sys.argv[1:] if argv is None else argv
    random.seed(1)
    if "--ratio" in args:
        compare_with_bare()
        return 0
    if "--routing" in args:
        return acd_routing.main()
    print("1. Simulation throughput: 100 agents, 90 % load, 30 simulated hours")
    for listen, label in ((False, "no external subscriber"), (True, "a subscriber to every event")):
        calls, wall = throughput(listen)
        rate = calls / wall
        verdict = "meets" if rate >= GOAL_CALLS_PER_SECOND else "BELOW"
        print(f"   {label:30s} {calls:7d} calls in {wall:5.2f} s = {rate:9,.0f} calls/s "
              f"({verdict} the goal of {GOAL_CALLS_PER_SECOND:,})")
    compare_with_bare()
    print()
    return acd_routing.main()


if __name__ == "__main__":
    raise SystemExit(main())
