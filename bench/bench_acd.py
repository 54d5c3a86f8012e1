"""ACD benchmarks.

1. Simulated calls per second of wall time, 100 agents (goal: 20,000 calls/s on one core),
   with nobody else listening and with a subscriber that takes every event (what an event
   log or a case store adds).
2. Routing decision time as agents and waiting calls grow 10 -> 10,000, for the real ACD and
   for a naive router that scans every agent / every waiting call (the baseline, same run).
   The ACD indexes agents by profile and calls by bucket, so its cost follows the number of
   profiles and buckets (set by configuration: 8 and 12 here), not the traffic.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import Event
from acd.queue import QueueConfig, Requirement, requirement_at_step
from acd.simulation import AgentGroup, Distribution, Simulation, SimulationConfig, Stream

GOAL_CALLS_PER_SECOND = 20_000
SIZES = (10, 100, 1_000, 10_000)

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


# -- 2. routing decisions ------------------------------------------------------------------

LANGS = ("ko", "en", "zh", "ja")
QUEUES = (
    QueueConfig("booking", skills={"booking": 5}),
    QueueConfig("refund", skills={"refund": 5}),
    QueueConfig("baggage", skills={"baggage": 5}),
)


def agent_configs(n: int) -> list[AgentConfig]:
    """`n` agents over 8 profiles; every one can take booking calls in some language."""
    profiles = [
        {"booking": 7, "refund": 6, f"lang_{lang}": 8} for lang in LANGS
    ] + [{"booking": 6, "baggage": 7, "refund": 5, f"lang_{lang}": 9} for lang in LANGS]
    return [AgentConfig(f"a{i}", skills=profiles[i % len(profiles)]) for i in range(n)]


def call_kind(i: int) -> tuple[str, dict[str, int], int]:
    """Queue, skills and priority of the i-th waiting call (12 buckets x 3 priorities)."""
    return QUEUES[i % 3].name, {f"lang_{LANGS[(i // 3) % 4]}": 5}, (i // 12) % 3


def time_per_op(
    op: Callable[[int], None], budget: float = 0.1, least: int = 200, repeats: int = 3
) -> float:
    """Seconds per call of op(i): the best of `repeats` runs of about `budget` seconds each
    (the best is the least disturbed by other work on the machine)."""
    n = 0
    best = float("inf")
    for _ in range(repeats):
        done = 0
        started = time.perf_counter()
        elapsed = 0.0
        while done < least or elapsed < budget:
            for _ in range(100):
                op(n)
                n += 1
            done += 100
            elapsed = time.perf_counter() - started
        best = min(best, elapsed / done)
    return best


def acd_call_arrives(agents: int) -> float:
    """`agents` idle agents; a call arrives and is routed to one of them (then hangs up)."""
    acd = Acd(VirtualClock(), QUEUES)
    for config in agent_configs(agents):
        acd.add_agent(config)
        acd.login(config.id)

    def op(i: int) -> None:
        acd.arrive(f"c{i}", "booking", skills={"lang_en": 5})
        acd.abandon(f"c{i}")  # the ringing agent is free again

    return time_per_op(op)


def acd_agent_frees(calls: int) -> float:
    """`calls` calls wait; an agent comes back from a pause and takes the best one (which
    then rings out, goes back to its place and pauses the agent again)."""
    acd = Acd(VirtualClock(), QUEUES)
    acd.add_agent(AgentConfig("x", skills={"booking": 9, "lang_ko": 9, "lang_en": 9}))
    acd.login("x")
    acd.pause("x")
    for i in range(calls):
        queue, skills, priority = call_kind(i)
        acd.arrive(f"w{i}", queue, skills=skills, priority=priority)

    def op(i: int) -> None:
        acd.unpause("x")
        acd.ring_no_answer(acd.agents["x"].call_id)

    return time_per_op(op)


@dataclass
class _NaiveAgent:
    id: str
    skills: dict[str, int]
    idle_since: float
    available: bool = True


@dataclass
class _NaiveCall:
    id: str
    requirement: Requirement
    priority: int
    seq: int


class NaiveRouter:
    """The baseline: one list of agents, one list of waiting calls, full scans."""

    def __init__(self) -> None:
        self.agents: list[_NaiveAgent] = []
        self.waiting: list[_NaiveCall] = []
        self.queues = {q.name: q for q in QUEUES}
        self.now = 0.0

    def requirement(self, queue: str, skills: dict[str, int]) -> Requirement:
        return requirement_at_step(self.queues[queue], tuple(sorted(skills.items())), 0)

    def route_call(self, call: _NaiveCall) -> _NaiveAgent | None:
        best: _NaiveAgent | None = None
        for agent in self.agents:
            if (
                agent.available
                and call.requirement.satisfied_by(agent.skills, ())
                and (best is None or agent.idle_since < best.idle_since)
            ):
                best = agent
        return best

    def route_agent(self, agent: _NaiveAgent) -> _NaiveCall | None:
        best: _NaiveCall | None = None
        for call in self.waiting:
            if call.requirement.satisfied_by(agent.skills, ()) and (
                best is None or (call.priority, -call.seq) > (best.priority, -best.seq)
            ):
                best = call
        return best


def naive_call_arrives(agents: int) -> float:
    router = NaiveRouter()
    router.agents = [_NaiveAgent(c.id, dict(c.skills), float(i)) for i, c in enumerate(agent_configs(agents))]

    def op(i: int) -> None:
        router.now += 1.0
        call = _NaiveCall(f"c{i}", router.requirement("booking", {"lang_en": 5}), 0, i)
        agent = router.route_call(call)
        assert agent is not None
        agent.idle_since = router.now  # the call hangs up; the agent is idle again

    return time_per_op(op)


def naive_agent_frees(calls: int) -> float:
    router = NaiveRouter()
    for i in range(calls):
        queue, skills, priority = call_kind(i)
        router.waiting.append(_NaiveCall(f"w{i}", router.requirement(queue, skills), priority, i))
    agent = _NaiveAgent("x", {"booking": 9, "lang_ko": 9, "lang_en": 9}, 0.0)

    def op(i: int) -> None:
        call = router.route_agent(agent)
        assert call is not None  # it rings out and keeps its place: the list is unchanged

    return time_per_op(op)


def main() -> int:
    random.seed(1)
    print("1. Simulation throughput: 100 agents, 90 % load, 30 simulated hours")
    for listen, label in ((False, "no external subscriber"), (True, "a subscriber to every event")):
        calls, wall = throughput(listen)
        rate = calls / wall
        verdict = "meets" if rate >= GOAL_CALLS_PER_SECOND else "BELOW"
        print(f"   {label:30s} {calls:7d} calls in {wall:5.2f} s = {rate:9,.0f} calls/s "
              f"({verdict} the goal of {GOAL_CALLS_PER_SECOND:,})")
    print()
    print("2. Routing decision time (microseconds per decision, incl. the op that restores the state)")
    header = (f"   {'N':>7} | {'call arrives, N agents idle':^29} | {'agent frees, N calls waiting':^29}")
    print(header)
    print(f"   {'':>7} | {'ACD':>8} {'naive':>9} {'ratio':>9} | {'ACD':>8} {'naive':>9} {'ratio':>9}")
    acd_call_arrives(SIZES[0]), naive_call_arrives(SIZES[0])  # warm up: first runs are slower
    rows = []
    for n in SIZES:
        a, na = acd_call_arrives(n), naive_call_arrives(n)
        c, nc = acd_agent_frees(n), naive_agent_frees(n)
        rows.append((n, a, na, c, nc))
        print(f"   {n:7d} | {a * 1e6:8.2f} {na * 1e6:9.2f} {na / a:8.1f}x | "
              f"{c * 1e6:8.2f} {nc * 1e6:9.2f} {nc / c:8.1f}x", flush=True)
    first, last = rows[0], rows[-1]
    growth = last[0] / first[0]
    print(f"   growth from N={first[0]} to N={last[0]} ({growth:,.0f}x more): "
          f"ACD {last[1] / first[1]:.1f}x / {last[3] / first[3]:.1f}x, "
          f"naive {last[2] / first[2]:.0f}x / {last[4] / first[4]:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
