"""Routing decisions with realistic skills, beside a naive scan in the same run.

Every agent has its own random profile: 3-8 of 20 skills, levels 1-10 (so there are as many
profiles as agents); calls require 1-3 skills with minimum levels. Two decisions:

- a call arrives while N agents idle and is routed at once (its requirement is drawn from a
  random idle agent's skills, so somebody can take it); then it hangs up (not timed);
- an agent comes back from a pause while N calls wait (random requirements) and takes the
  first one it may (then it rings out, goes back to its place and the agent pauses: not timed).

Each decision is timed alone (perf_counter_ns), the ACD and the naive router in alternating
rounds, with the garbage collector on. Long-lived objects (agents, waiting calls, configs) are
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
from dataclasses import dataclass

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig, Requirement

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


@dataclass(slots=True)
class _Agent:
    skills: dict[str, int]
    idle_since: float
    available: bool = True


class NaiveRouter:
    """One list of agents, one list of waiting calls, full scans (longest idle, FIFO)."""

    def __init__(self) -> None:
        self.agents: list[_Agent] = []
        self.waiting: list[tuple[Requirement, int]] = []

    def route_call(self, req: Requirement) -> _Agent | None:
        best: _Agent | None = None
        for agent in self.agents:
            if agent.available and req.satisfied_by(agent.skills, ()) and (
                best is None or agent.idle_since < best.idle_since
            ):
                best = agent
        return best

    def route_agent(self, skills: dict[str, int]) -> int | None:
        best: int | None = None
        for req, seq in self.waiting:
            if (best is None or seq < best) and req.satisfied_by(skills, ()):
                best = seq
        return best


def requirement(skills: dict[str, int]) -> Requirement:
    return Requirement(tuple(sorted(skills.items())))


# -- the two scenarios, as (setup -> timed op) pairs ----------------------------------------------

Op = Callable[[int], Callable[[], object]]  # i -> the timed part of the i-th decision


def acd_arrivals(n: int, seed: int) -> Op:
    rng = random.Random(seed)
    acd = Acd(VirtualClock(), QUEUE)
    profiles = [random_profile(rng) for _ in range(n)]
    for i, skills in enumerate(profiles):
        acd.add_agent(AgentConfig(f"a{i}", skills=skills))
        acd.login(f"a{i}")
    wanted = [requirement_from(rng, rng.choice(profiles)) for _ in range(4096)]

    def op(i: int) -> Callable[[], object]:
        skills = wanted[i % len(wanted)]
        call_id = f"c{i}"

        def timed() -> object:
            return acd.arrive(call_id, "hotline", skills=skills)

        return timed

    def restore(i: int) -> None:
        acd.abandon(f"c{i}")

    return _with_restore(op, restore)


def naive_arrivals(n: int, seed: int) -> Op:
    rng = random.Random(seed)
    router = NaiveRouter()
    profiles = [random_profile(rng) for _ in range(n)]
    router.agents = [_Agent(skills, float(i)) for i, skills in enumerate(profiles)]
    wanted = [requirement(requirement_from(rng, rng.choice(profiles))) for _ in range(4096)]
    clock = [float(n)]

    def op(i: int) -> Callable[[], object]:
        req = wanted[i % len(wanted)]

        def timed() -> object:
            agent = router.route_call(req)
            assert agent is not None
            clock[0] += 1.0
            agent.idle_since = clock[0]  # the call hangs up: the agent idles again
            return agent

        return timed

    return op


def _freeing_agents(rng: random.Random, calls: list[dict[str, int]]) -> list[dict[str, int]]:
    """64 agents of random profiles, each eligible for at least one of the waiting calls."""
    agents: list[dict[str, int]] = []
    while len(agents) < 64:
        skills = random_profile(rng)
        skills.update({s: max(level, skills.get(s, 0)) for s, level in rng.choice(calls).items()})
        agents.append(skills)
    return agents


def acd_frees(n: int, seed: int) -> Op:
    rng = random.Random(seed)
    acd = Acd(VirtualClock(), QUEUE)
    calls = [random_requirement(rng) for _ in range(n)]
    agents = _freeing_agents(rng, calls)
    for i, skills in enumerate(agents):
        acd.add_agent(AgentConfig(f"x{i}", skills=skills))
        acd.login(f"x{i}")
        acd.pause(f"x{i}")
    for i, skills in enumerate(calls):
        acd.arrive(f"w{i}", "hotline", skills=skills)

    def op(i: int) -> Callable[[], object]:
        agent_id = f"x{i % len(agents)}"

        def timed() -> object:
            acd.unpause(agent_id)
            return None

        return timed

    def restore(i: int) -> None:
        agent = acd.agents[f"x{i % len(agents)}"]
        acd.ring_no_answer(agent.call_id)  # back to its place; the agent pauses

    return _with_restore(op, restore)


def naive_frees(n: int, seed: int) -> Op:
    rng = random.Random(seed)
    router = NaiveRouter()
    calls = [random_requirement(rng) for _ in range(n)]
    agents = _freeing_agents(rng, calls)
    router.waiting = [(requirement(skills), seq) for seq, skills in enumerate(calls)]

    def op(i: int) -> Callable[[], object]:
        skills = agents[i % len(agents)]

        def timed() -> object:
            found = router.route_agent(skills)
            assert found is not None  # it rings out and keeps its place: nothing changes
            return found

        return timed

    return op


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


def compare(n: int, acd_setup: Callable[[int, int], Op], naive_setup: Callable[[int, int], Op],
            freeze: bool) -> tuple[list[float], list[float]]:
    """Pooled samples of the ACD and the naive router, rounds alternated."""
    gc.unfreeze()
    gc.collect()
    acd_op, naive_op = acd_setup(n, 1), naive_setup(n, 1)
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
    for label, acd_setup, naive_setup in (
        ("call arrives, N agents idle", acd_arrivals, naive_arrivals),
        ("agent frees, N calls waiting", acd_frees, naive_frees),
    ):
        print(f"   {label}")
        print(f"   {'N':>7} | {'ACD p50':>8} {'p99':>8} {'p99 no freeze':>14} | "
              f"{'naive p50':>9} {'p99':>9} | {'p50 ratio':>9}")
        for n in SIZES:
            acd_s, naive_s = compare(n, acd_setup, naive_setup, freeze=True)
            unfrozen, _ = compare(n, acd_setup, naive_setup, freeze=False) if n == SIZES[-1] else ([], [])
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
