"""Failover and the cost of the cluster (state/cluster.py), on Redis at 127.0.0.1:6379 (throw-
away key prefixes, deleted after):

1. Failover time: two cluster nodes in this process; the leader is killed (its tasks stop,
   nothing released); a call is offered through the follower every 20 ms until the new
   leader routes it. Median and worst over repeated runs (lease 1 s, renewed every 0.2 s).
2. Routing decisions per second: one arrival routed to a free agent (then abandoned), in
   the in-process ACD, on the leader with the decision persisted before the answer, and from
   a follower through Redis, alternated in one run.
3. Snapshot size and time (take, JSON, restore) at 10,000 agents and 10,000 waiting calls.

`python -m bench failover` (env FAILOVER_RUNS, default 5).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from typing import Any

from redis import asyncio as aioredis

from acd.agent import AgentConfig
from acd.clock import AsyncioClock, VirtualClock
from acd.engine import Acd
from acd.errors import AcdError
from acd.queue import QueueConfig
from acd.snapshot import restore, take
from state.cluster import ClusterNode, LeaderHooks, ScopedClock
from state.settings import Durability, StateSettings

REDIS = "redis://127.0.0.1:6379/0"
QUEUES = (QueueConfig("q", skills={"s": 1}, ring_timeout=None, wrap_up=0.0),)


def _acd(clock: Any, agents: int) -> Acd:
    acd = Acd(clock, QUEUES)
    for i in range(agents):
        acd.add_agent(AgentConfig(f"a{i}", skills={"s": 5}))
    return acd


async def _node(prefix: str, name: str, leading: asyncio.Event, agents: int = 50) -> tuple[ClusterNode, Acd]:
    clock = ScopedClock(AsyncioClock())
    acd = _acd(clock, agents)

    async def promoted(tail: list[Any]) -> None:
        leading.set()

    async def demoted() -> None:
        leading.clear()

    settings = Durability(mode="cluster", redis=StateSettings(REDIS, timeout=1.0), prefix=prefix, node_id=name,
                          lease_ttl=1.0, renew_interval=0.2, snapshot_interval=3600.0)
    node = ClusterNode(settings, acd, clock, LeaderHooks(promoted=promoted, demoted=demoted))
    await node.start()
    return node, acd


async def _kill(node: ClusterNode) -> None:
    node._stopping = True
    for task in node._tasks + node._leader_tasks:
        task.cancel()
    if node.log is not None and node.log._task is not None:
        node.log._task.cancel()
    await asyncio.gather(*node._tasks, *node._leader_tasks, return_exceptions=True)
    await node.client.aclose()
    await node.blocking.aclose()


async def _cleanup(prefix: str) -> None:
    client = aioredis.from_url(REDIS)
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def failover_once() -> float:
    prefix = f"bench:hotline:{uuid.uuid4().hex}"
    first_leads, second_leads = asyncio.Event(), asyncio.Event()
    first, acd1 = await _node(prefix, "n1", first_leads)
    await asyncio.wait_for(first_leads.wait(), 5)
    second, acd2 = await _node(prefix, "n2", second_leads)
    for i in range(10):
        acd1.login(f"a{i}")
    for i in range(15):
        acd1.arrive(f"warm-{i}", "q")  # 10 ringing, 5 waiting
    assert first.log is not None
    await first.log.flushed()
    await second.wait_applied(first.log.emitted, within=10.0)
    await _kill(first)
    killed = time.perf_counter()
    while True:  # an agent logs in through the follower: the new leader gives it a waiting call
        try:
            await asyncio.wait_for(second.command("login", agent_id="a49"), 0.5)
            break
        except AcdError:
            break  # a try given up on had reached the new leader: a49 is logged in already
        except Exception:
            await asyncio.sleep(0.02)
    routed = time.perf_counter() - killed
    assert acd2.agents["a49"].state.value == "ringing"
    await second.stop()
    await _cleanup(prefix)
    return routed


async def decisions(samples: int = 400, rounds: int = 5) -> dict[str, tuple[float, float]]:
    """Routing decisions per second on three paths (alternated rounds): (best, median) of each."""
    prefix = f"bench:hotline:{uuid.uuid4().hex}"
    first_leads, second_leads = asyncio.Event(), asyncio.Event()
    leader, acd1 = await _node(prefix, "n1", first_leads, agents=200)
    await asyncio.wait_for(first_leads.wait(), 5)
    follower, _ = await _node(prefix, "n2", second_leads, agents=200)
    local = _acd(VirtualClock(0.0), 200)
    for i in range(200):
        local.login(f"a{i}")
        acd1.login(f"a{i}")
    assert leader.log is not None
    await leader.log.flushed()
    rates: dict[str, list[float]] = {"in-process": [], "leader, persisted": [], "follower via Redis": []}
    serial = [0]

    def next_id() -> str:
        serial[0] += 1
        return f"c{serial[0]}"

    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(samples * 20):
            call = next_id()
            local.arrive(call, "q")
            local.abandon(call)
        rates["in-process"].append(samples * 20 / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(samples):
            call = next_id()
            acd1.arrive(call, "q")
            await leader.log.flushed()
            acd1.abandon(call)
        rates["leader, persisted"].append(samples / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(samples // 2):
            call = next_id()
            await follower.command("arrive", call_id=call, queue="q")
            await follower.command("abandon", call_id=call)
        rates["follower via Redis"].append(samples / 2 / (time.perf_counter() - started))
    await follower.stop()
    await leader.stop()
    await _cleanup(prefix)
    return {name: (max(values), statistics.median(values)) for name, values in rates.items()}


def snapshot_figures(agents: int = 10_000, waiting: int = 10_000) -> dict[str, float]:
    clock = VirtualClock(1_800_000_000.0)
    acd = Acd(clock, QUEUES)
    for i in range(agents):
        acd.add_agent(AgentConfig(f"a{i}", skills={"s": 1 + i % 10}))
        acd.login(f"a{i}")
    for i in range(agents + waiting):  # every agent talking, then `waiting` calls in the queue
        acd.arrive(f"c{i}", "q", priority=i % 3)
        clock.advance(0.001)
    for i in range(agents):
        acd.answer(f"c{i}")
    started = time.perf_counter()
    data = take(acd)
    took = time.perf_counter() - started
    started = time.perf_counter()
    text = json.dumps(data, separators=(",", ":"))
    encoded = time.perf_counter() - started
    started = time.perf_counter()
    parsed = json.loads(text)
    replayed, _ = restore(parsed, QUEUES)
    replayed.attach(VirtualClock(clock.now()))
    restored = time.perf_counter() - started
    assert len(replayed.acd.calls) == agents + waiting
    return {"bytes": len(text), "take": took, "json": encoded, "restore": restored}


async def run() -> None:
    runs = int(os.environ.get("FAILOVER_RUNS", "5"))
    times = [await failover_once() for _ in range(runs)]
    print(f"failover (lease 1.0 s, renew 0.2 s), leader killed -> first call routed by the new leader, "
          f"{runs} runs: median {statistics.median(times):.3f} s, worst {max(times):.3f} s, "
          f"best {min(times):.3f} s")
    for name, (best, median) in (await decisions()).items():
        print(f"routing decisions/s, {name}: best {best:,.0f}, median {median:,.0f} (5 alternated rounds)")
    figures = await asyncio.to_thread(snapshot_figures)
    print(f"snapshot at 10,000 agents + 10,000 waiting calls (+10,000 talking): {figures['bytes'] / 1e6:.1f} MB, "
          f"take {figures['take']:.2f} s, JSON {figures['json']:.2f} s, parse + restore {figures['restore']:.2f} s")


def main() -> int:
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
