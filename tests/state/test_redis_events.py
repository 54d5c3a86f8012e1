"""The event log on the real Redis (127.0.0.1:6379): publish, read back, rebuild, outages."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import Event
from acd.replay import acd_state
from state.errors import StateConfigError, StateError
from state.redis_events import (
    RedisEventLog,
    decode_entries,
    publishing,
    read_events,
    rebuild_from_redis,
)
from state.settings import StateSettings, parse_state_settings
from tests.acd.test_replay import AGENT_IDS, QUEUES, make, random_op, run
from tests.state.proxy import RedisRelay

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    key = f"test:hotline:{uuid.uuid4().hex}"
    yield key
    client = aioredis.from_url(REDIS)
    await client.delete(key)
    await client.aclose()


def workout(acd: Acd, clock: VirtualClock, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    serial = [0]
    for agent_id in AGENT_IDS:
        run(acd, clock, ("login", agent_id), serial)
    for _ in range(steps):
        run(acd, clock, random_op(rng), serial)


async def test_published_events_read_back_equal(stream: str) -> None:
    settings = StateSettings(REDIS, stream=stream, batch=64)
    acd, clock, _ = make([1, 2, 1, 3, 1, 2], True)
    recorded: list[Event] = []
    acd.subscribe(recorded.append)
    async with publishing(settings, acd) as publisher:
        workout(acd, clock, seed=1, steps=800)
        await publisher.flush(10.0)
        assert publisher.published == len(recorded) > 500
    assert await read_events(settings) == recorded
    client = aioredis.from_url(REDIS)
    assert await client.xlen(stream) == len(recorded)
    await client.aclose()


async def test_rebuild_from_redis_equals_the_live_acd(stream: str) -> None:
    settings = StateSettings(REDIS, stream=stream)
    live, clock, configs = make([2, 1, 3, 1, 1, 2], False)
    async with publishing(settings, live) as publisher:
        workout(live, clock, seed=7, steps=1200)
        await publisher.flush(10.0)
    assert live.calls  # there is live state to carry over
    twin_clock = VirtualClock(clock.now())
    twin = await rebuild_from_redis(
        settings, QUEUES, configs, twin_clock,
        pause_on_ring_no_answer=False, occupancy_window=300.0, start=1000.0,
    )
    assert acd_state(twin) == acd_state(live)
    live_events: list[Event] = []
    twin_events: list[Event] = []
    live.subscribe(live_events.append)
    twin.subscribe(twin_events.append)
    rng = random.Random(99)
    serial, twin_serial = [10_000], [10_000]
    for _ in range(200):
        op = random_op(rng)
        run(live, clock, op, serial)
        run(twin, twin_clock, op, twin_serial)
    assert twin_events == live_events and len(live_events) > 50


async def test_redis_away_and_back_loses_nothing_within_the_buffer(stream: str) -> None:
    relay = RedisRelay()
    await relay.start()
    settings = StateSettings(relay.url, stream=stream, batch=16, timeout=1.0)
    acd, clock, _ = make([1, 1, 2, 1, 1, 1], True)
    recorded: list[Event] = []
    acd.subscribe(recorded.append)
    async with publishing(settings, acd, backoff=(0.01, 0.1)) as publisher:
        workout(acd, clock, seed=3, steps=200)
        await publisher.flush(10.0)
        await relay.stop()  # Redis goes away: connections cut, port closed
        workout_more = len(recorded)
        rng = random.Random(4)
        serial = [5000]
        for _ in range(300):
            run(acd, clock, random_op(rng), serial)
        assert len(recorded) > workout_more
        await publisher.unavailable.wait()  # the writer saw the outage
        assert publisher.pending > 0
        await relay.start()  # back, same port
        await publisher.flush(10.0)
        assert not publisher.unavailable.is_set()
        assert publisher.failures >= 1 and publisher.dropped == 0
    await relay.stop()
    assert await read_events(StateSettings(REDIS, stream=stream)) == recorded


async def test_beyond_the_buffer_events_are_dropped_and_counted(stream: str) -> None:
    relay = RedisRelay()
    await relay.start()
    await relay.stop()  # a closed port from the start
    settings = StateSettings(relay.url, stream=stream, buffer=10, timeout=0.5)
    acd, _, _ = make([1] * 6, True)
    recorded: list[Event] = []
    acd.subscribe(recorded.append)
    async with publishing(settings, acd, backoff=(0.01, 0.05)) as publisher:
        for i in range(25):
            acd.arrive(f"c{i}", "booking")  # nobody logged in: arrived + queued each
        assert publisher.dropped == 40 and publisher.pending == 10
        await publisher.unavailable.wait()
        await relay.start()
        await publisher.flush(10.0)
    await relay.stop()
    assert await read_events(StateSettings(REDIS, stream=stream)) == recorded[:10]


def test_repeated_entries_are_read_once() -> None:
    acd, _, _ = make([1] * 6, True)
    recorded: list[Event] = []
    acd.subscribe(recorded.append)
    acd.arrive("c1", "booking")
    entries = [
        (f"1-{i}".encode(), {b"p": b"x", b"n": str(n).encode(), b"e": json.dumps(recorded[n - 1].to_dict()).encode()})
        for i, n in enumerate([1, 2, 1, 2])  # a batch resent after a lost acknowledgement
    ]
    assert decode_entries(entries) == recorded


async def test_a_foreign_entry_is_a_clear_error(stream: str) -> None:
    client = aioredis.from_url(REDIS)
    await client.xadd(stream, {"hello": "world"})
    await client.aclose()
    with pytest.raises(StateError, match="not an event"):
        await read_events(StateSettings(REDIS, stream=stream))


def test_settings() -> None:
    assert parse_state_settings(None) is None
    assert parse_state_settings({"stream": "x"}) is None
    settings = parse_state_settings({"url": REDIS, "maxlen": 5000})
    assert settings == StateSettings(REDIS, maxlen=5000)
    for bad in ({"url": REDIS, "maxlen": 0}, {"url": "http://x"}, {"url": REDIS, "nope": 1},
                {"url": REDIS, "timeout": "2"}):
        with pytest.raises(StateConfigError):
            parse_state_settings(bad)


async def test_publisher_stops_with_nothing_buffered(stream: str) -> None:
    publisher = RedisEventLog(StateSettings(REDIS, stream=stream))
    publisher.start()
    await publisher.stop()
    assert publisher.published == 0
