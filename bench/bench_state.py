"""The ACD event log on Redis (state/): publishing rate against one XADD round trip per event,
and rebuild time for 100,000 events (XRANGE, decoding, replay). Needs Redis on 127.0.0.1:6379;
uses throw-away stream keys and deletes them."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid

from redis import asyncio as aioredis

from acd.agent import AgentConfig
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import Event
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy
from acd.replay import acd_state, replay
from state.redis_events import RedisEventLog, decode_entries, read_entries
from state.settings import StateSettings

REDIS = "redis://127.0.0.1:6379/0"
QUEUES = (
    QueueConfig("booking", skills={"booking": 5}, max_wait=300.0, overflow="general", wrap_up=8.0,
                escalation=(EscalationStep(40.0, min_level=2),)),
    QueueConfig("refund", skills={"refund": 4}, policy=RoutingPolicy.LEAST_OCCUPIED, wrap_up=None),
    QueueConfig("general", skills={"general": 1}, policy=RoutingPolicy.BEST_SKILL),
)
AGENTS = [
    AgentConfig(f"a{i}", skills={"booking": 3 + i % 7, "refund": 2 + i % 5, "general": 5}, capacity=1 + i % 2)
    for i in range(40)
]


def workout(n_events: int, seed: int = 0) -> tuple[Acd, VirtualClock, list[Event]]:
    """A live ACD driven at random until it emitted `n_events` events."""
    rng = random.Random(seed)
    clock = VirtualClock(0.0)
    acd = Acd(clock, QUEUES)
    for config in AGENTS:
        acd.add_agent(config)
    events: list[Event] = []
    acd.subscribe(events.append)
    serial = 0
    while len(events) < n_events:
        roll = rng.random()
        calls = list(acd.calls.values())
        try:
            if roll < 0.2:
                serial += 1
                acd.arrive(f"c{serial}", rng.choice(("booking", "refund", "general")), priority=rng.randrange(3))
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
    return acd, clock, events


async def one_round_trip_each(client: aioredis.Redis, stream: str, events: list[Event]) -> float:
    started = time.perf_counter()
    for n, event in enumerate(events, 1):
        entry = {"e": json.dumps(event.to_dict(), separators=(",", ":")), "p": "base", "n": n}
        await client.xadd(stream, entry, maxlen=1_000_000, approximate=True)  # type: ignore[arg-type]
    return time.perf_counter() - started


async def publish_all(stream: str, events: list[Event], batch: int) -> tuple[float, float]:
    """Publish `events` as the ACD would hand them over: (seconds spent in the subscriber
    calls, seconds until Redis acknowledged all of them)."""
    publisher = RedisEventLog(StateSettings(REDIS, stream=stream, batch=batch, buffer=len(events)))
    publisher.start()
    started = time.perf_counter()
    for event in events:
        publisher(event)
    enqueued = time.perf_counter() - started
    await publisher.flush(120.0)
    written = time.perf_counter() - started
    await publisher.stop()
    assert publisher.published == len(events) and publisher.dropped == 0
    return enqueued, written


async def run() -> None:
    client = aioredis.from_url(REDIS)
    keys = [f"bench:hotline:{uuid.uuid4().hex}" for _ in range(3)]
    try:
        print("1. Publishing ACD events to a Redis Stream (127.0.0.1, 20,000 events)")
        _, _, events = workout(20_000)
        base = await one_round_trip_each(client, keys[0], events)
        enqueued, written = await publish_all(keys[1], events, 500)
        n = len(events)
        print(f"   baseline, one XADD round trip per event: {n / base:9,.0f} events/s ({base:.2f} s)")
        print(f"   RedisEventLog, pipelined batches of 500: {n / written:9,.0f} events/s ({written:.2f} s),"
              f" {base / written:.1f}x faster")
        print(f"   cost inside the ACD's subscriber call:   {enqueued / n * 1e6:9.2f} us/event")
        print()
        print("2. Rebuilding an ACD from 100,000 events")
        started = time.perf_counter()
        live, clock, events = workout(100_000, seed=1)
        live_run = time.perf_counter() - started
        settings = StateSettings(REDIS, stream=keys[2])
        await publish_all(keys[2], events, 1000)
        started = time.perf_counter()
        entries = await read_entries(settings)
        read = time.perf_counter() - started
        started = time.perf_counter()
        decoded = decode_entries(entries)
        decode = time.perf_counter() - started
        started = time.perf_counter()
        replayed = replay(decoded, QUEUES, AGENTS, start=0.0)
        replay_time = time.perf_counter() - started
        twin = replayed.attach(VirtualClock(clock.now()))
        assert acd_state(twin) == acd_state(live), "rebuilt ACD differs from the live one"
        total = read + decode + replay_time
        print(f"   {len(events):,} events; the live run that produced them (ops + routing): {live_run:.2f} s")
        print(f"   XRANGE in pages of 10,000: {read:.2f} s, JSON decoding: {decode:.2f} s,"
              f" replay: {replay_time:.2f} s; total {total:.2f} s ({len(events) / total:,.0f} events/s)")
        print(f"   rebuilt state equals the live one: yes ({len(live.calls)} active calls)")
    finally:
        await client.delete(*keys)
        await client.aclose()


def main() -> int:
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
