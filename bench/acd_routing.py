"""Routing decisions with realistic skills, beside a naive scan in the same run.

Every agent has its own random profile: 3-8 of 20 skills, levels 1-10 (so there are as many
profiles as agents); calls require 1-3 skills with minimum levels. Two decisions:

- a call arrives while N agents idle and is routed at once (its requirement is drawn from a
  random agent's skills, so somebody can take it); then it hangs up (not timed);
- an agent comes back from a pause while N calls wait (random requirements) and takes the
  first one it may (then it rings out, goes back to its place and the agent pauses: not timed).

The anchor is the same ACD with its two index queries replaced by scans of every agent / every
waiting call (`NaiveAcd`). Each decision (the whole operation: `arrive`, `unpause`) is timed
alone (perf_counter_ns), the ACD and the naive one in alternating rounds, with the garbage collector on. Long-lived objects (agents, waiting calls, configs) are
moved out of the collector's sight with `gc.freeze()` after the setup, as a server does after
loading its configuration; the columns without freeze show what that is worth.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable

from acd.agent import Agent, AgentConfig, AgentState
from acd.call import Call, CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig

SKILLS = tuple(f"skill{i:02d}" for i in range(20))
QUEUE = (QueueConfig("hotline", ring_timeout=None),)
ROUNDS = 6
PER_ROUND = 300
GOAL_US = 50.0
GOAL_AGENT_BYTES = 1024
GOAL_CALL_BYTES = 512


def random_profile(rng: random.Random) -> dict[str, int]:
    return {skill: rng.randint(1, 10) for skill in rng.sample(SKILLS, rng.randint(3, 8))}


def requirement_from(rng: random.Random, skills: dict[str, int]) -> dict[str, int]:
    """1-3 of `skills` with minimum levels at or below the agent's."""
    chosen = rng.sample(sorted(skills), min(len(skills), rng.randint(1, 3)))
    return {skill: rng.randint(1, skills[skill]) for skill in chosen}


def random_requirement(rng: random.Random) -> dict[str, int]:
    return {skill: rng.randint(1, 10) for skill in rng.sample(SKILLS, rng.randint(1, 3))}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- the naive router (the anchor) -------------------------------------------------------------


class NaiveAcd(Acd):
    """The same ACD with its two index queries replaced by scans of every agent / every
    waiting call (longest idle; priority then FIFO)."""

    def _route_call(self, call: Call) -> bool:
        req = self._requirement(call)
        best: Agent | None = None
        for agent in self.agents.values():
            if agent.indexed and req.satisfied_by(agent.config.skills, agent.config.groups) and (
                best is None or agent.rank < best.rank
            ):
                best = agent
        if best is None:
            return False
        self._assign(call, best)
        return True

    def _route_agent(self, agent: Agent) -> bool:
        skills, groups = agent.config.skills, agent.config.groups
        best: Call | None = None
        for call in self.calls.values():
            if (
                call.state is CallState.QUEUED
                and (best is None or (-call.priority, call.seq) < (-best.priority, best.seq))
                and self._requirement(call).satisfied_by(skills, groups)
            ):
                best = call
        if best is None:
            return False
        self._unqueue(best)
        self._assign(best, agent)
        return True


# -- the two scenarios: i -> the timed part of the i-th decision (its state restored before) ----

Op = Callable[[int], Callable[[], object]]


def arrivals(kind: type[Acd], n: int, seed: int) -> Op:
    rng = random.Random(seed)
    acd = kind(VirtualClock(), QUEUE)
    profiles = [random_profile(rng) for _ in range(n)]
    for i, skills in enumerate(profiles):
        acd.add_agent(AgentConfig(f"a{i}", skills=skills))
        acd.login(f"a{i}")
    wanted = [requirement_from(rng, rng.choice(profiles)) for _ in range(4096)]

    def op(i: int) -> Callable[[], object]:
        skills = wanted[i % len(wanted)]
        call_id = f"c{i}"

        def timed() -> object:
            call = acd.arrive(call_id, "hotline", skills=skills)
            assert call.state is CallState.RINGING
            return call

        return timed

    def restore(i: int) -> None:
        acd.abandon(f"c{i}")  # the ringing agent idles again

    return _with_restore(op, restore)


def _freeing_agents(rng: random.Random, calls: list[dict[str, int]]) -> list[dict[str, int]]:
    """64 agents of random profiles, each eligible for at least one of the waiting calls."""
    agents: list[dict[str, int]] = []
    while len(agents) < 64:
        skills = random_profile(rng)
        skills.update({s: max(level, skills.get(s, 0)) for s, level in rng.choice(calls).items()})
        agents.append(skills)
    return agents


def frees(kind: type[Acd], n: int, seed: int) -> Op:
    rng = random.Random(seed)
    acd = kind(VirtualClock(), QUEUE)
    calls = [random_requirement(rng) for _ in range(n)]
    agents = _freeing_agents(rng, calls)
    for i, skills in enumerate(agents):
        acd.add_agent(AgentConfig(f"x{i}", skills=skills))
        acd.login(f"x{i}")
        acd.pause(f"x{i}")
    for i, skills in enumerate(calls):
        acd.arrive(f"w{i}", "hotline", skills=skills)

    def op(i: int) -> Callable[[], object]:
        agent = acd.agents[f"x{i % len(agents)}"]

        def timed() -> object:
            acd.unpause(agent.id)
            assert agent.state is AgentState.RINGING
            return agent

        return timed

    def restore(i: int) -> None:
        agent = acd.agents[f"x{i % len(agents)}"]
        acd.ring_no_answer(agent.call_id)  # back to its place; the agent pauses

    return _with_restore(op, restore)


def _with_restore(op: Op, restore: Callable[[int], None]) -> Op:
    pending: list[int] = []

    def wrapped(i: int) -> Callable[[], object]:
        if pending:
            restore(pending.pop())
        pending.append(i)
        return op(i)

    return wrapped


def run_round(op: Op, start: int, count: int) -> list[float]:
    """Microseconds of `count` decisions."""
    samples = []
    clock = time.perf_counter_ns
    for i in range(start, start + count):
        timed = op(i)
        began = clock()
        timed()
        samples.append((clock() - began) / 1000)
    return samples


def compare(n: int, setup: Callable[[type[Acd], int, int], Op], freeze: bool) -> tuple[list[float], list[float]]:
    """Pooled samples of the ACD and the naive one, rounds alternated."""
    gc.unfreeze()
    gc.collect()
    acd_op, naive_op = setup(Acd, n, 1), setup(NaiveAcd, n, 1)
    if freeze:
        gc.collect()
        gc.freeze()
    acd_samples: list[float] = []
    naive_samples: list[float] = []
    per_round = PER_ROUND if n < 10_000 else PER_ROUND // 3
    for r in range(ROUNDS):
        acd_samples += run_round(acd_op, r * per_round, per_round)
        naive_samples += run_round(naive_op, r * per_round, per_round)
    gc.unfreeze()
    return acd_samples, naive_samples


def memory_per_agent(n: int) -> float:
    rng = random.Random(5)
    configs = [AgentConfig(f"a{i}", skills=random_profile(rng)) for i in range(n)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    acd = Acd(VirtualClock(), QUEUE)
    for config in configs:
        acd.add_agent(config)
        acd.login(config.id)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del acd
    return used / n


def memory_per_call(n: int) -> float:
    rng = random.Random(6)
    wanted = [random_requirement(rng) for _ in range(n)]
    ids = [f"w{i}" for i in range(n)]
    acd = Acd(VirtualClock(), QUEUE)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for call_id, skills in zip(ids, wanted, strict=True):
        acd.arrive(call_id, "hotline", skills=skills)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del acd
    return used / n


SIZES = (10, 100, 1_000, 10_000)


def main() -> int:
    print("2. Routing decisions, every agent its own profile (3-8 of 20 skills, levels 1-10),")
    print("   calls requiring 1-3 skills; microseconds per decision, GC on, "
          f"{ROUNDS} alternated rounds; goal p99 < {GOAL_US:.0f} us at 10,000")
    worst = 0.0
    slower = []
    for label, setup in (("call arrives, N agents idle", arrivals), ("agent frees, N calls waiting", frees)):
        print(f"   {label}")
        print(f"   {'N':>7} | {'ACD p50':>8} {'p99':>8} {'p99 no freeze':>14} | "
              f"{'naive p50':>9} {'p99':>9} | {'p50 ratio':>9}")
        for n in SIZES:
            acd_s, naive_s = compare(n, setup, freeze=True)
            unfrozen, _ = compare(n, setup, freeze=False) if n == SIZES[-1] else ([], [])
            a50, a99 = statistics.median(acd_s), percentile(acd_s, 0.99)
            n50, n99 = statistics.median(naive_s), percentile(naive_s, 0.99)
            u99 = f"{percentile(unfrozen, 0.99):14.1f}" if unfrozen else f"{'':>14}"
            print(f"   {n:7d} | {a50:8.1f} {a99:8.1f} {u99} | {n50:9.1f} {n99:9.1f} | {n50 / a50:8.1f}x",
                  flush=True)
            if n == SIZES[-1]:
                worst = max(worst, a99)
            if a50 > n50:
                slower.append((label, n))
    verdict = "meets" if worst < GOAL_US else "BELOW"
    print(f"   worst p99 at {SIZES[-1]:,}: {worst:.1f} us ({verdict} the goal); "
          f"slower than naive (p50) at: {slower or 'none'}")
    print()
    agent_bytes, call_bytes = memory_per_agent(10_000), memory_per_call(10_000)
    print(f"3. Memory in the ACD (tracemalloc, 10,000 of each): {agent_bytes:,.0f} B per logged-in agent "
          f"(goal {GOAL_AGENT_BYTES}), {call_bytes:,.0f} B per waiting call (goal {GOAL_CALL_BYTES})")
    return 0
