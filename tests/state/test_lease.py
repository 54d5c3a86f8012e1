"""The leader lease on the real Redis: expiry and take-over, fencing of a former leader."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from state.lease import Fenced, Keys, Lease

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def keys() -> AsyncIterator[Keys]:
    prefix = f"test:hotline:{uuid.uuid4().hex}"
    yield Keys(prefix)
    client = aioredis.from_url(REDIS)
    found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(REDIS)
    yield redis
    await redis.aclose()


def entry(n: int) -> dict[str, str]:
    return {"e": json.dumps({"n": n}), "n": str(n), "p": "test"}


async def test_one_holder_at_a_time_and_take_over_after_expiry(client: aioredis.Redis, keys: Keys) -> None:
    first = Lease(client, keys, "a", ttl=0.3)
    second = Lease(client, keys, "b", ttl=0.3)
    assert await first.acquire()
    assert first.token == 1 and first.valid
    assert not await second.acquire()
    assert await first.renew()
    assert await second.holder() == ("a", 1)
    # `a` stops renewing (dies): its lease runs out and `b` is elected with a greater token.
    for _ in range(40):  # the lease lives 0.3 s
        if await second.acquire():
            break
        await asyncio.sleep(0.05)
    assert second.token == 2 and second.valid
    assert not first.valid  # by a's own clock too, before b could take it
    assert not await first.renew()  # the lease is b's now
    assert first.token == 0
    await second.release()
    assert await second.holder() is None


async def test_a_former_leader_is_fenced(client: aioredis.Redis, keys: Keys) -> None:
    old = Lease(client, keys, "old", ttl=0.2)
    assert await old.acquire()
    stale_token = old.token
    assert await old.append(stale_token, [entry(1), entry(2)], maxlen=1000)
    await asyncio.sleep(0.3)  # old is partitioned away; its lease expires
    new = Lease(client, keys, "new", ttl=5.0)
    assert await new.acquire()
    with pytest.raises(Fenced):
        await old.append(stale_token, [entry(3)], maxlen=1000)
    with pytest.raises(Fenced):
        await old.write_snapshot(stale_token, "0-0", "{}", 0)
    assert await client.xlen(keys.epoch(stale_token)) == 2  # nothing more got in
    assert await new.append(new.token, [entry(1)], maxlen=1000)
    await client.hset(keys.snapshot, "n", 300)  # the former epoch's snapshot held 300 events
    await new.write_snapshot(new.token, "0-0", '{"ok": 1}', 0)
    # token, data and event count change in one write: a follower reading between two writes
    # would skip 300 events of the new epoch (or re-run events a snapshot already holds)
    assert await client.hmget(keys.snapshot, ["token", "n", "data"]) == [
        str(new.token).encode(), b"0", b'{"ok": 1}']


async def test_a_snapshot_trims_its_stream_but_never_past_itself(client: aioredis.Redis, keys: Keys) -> None:
    lease = Lease(client, keys, "a", ttl=5.0)
    assert await lease.acquire()
    ids = [await lease.append(lease.token, [entry(n)], maxlen=1000) for n in range(1, 11)]
    await lease.write_snapshot(lease.token, ids[6], "{}", 7)
    left = await client.xrange(keys.epoch(lease.token))
    assert [e[0].decode() for e in left] == ids[6:]  # the snapshot's own entry and after


async def test_a_lost_token_counter_never_repeats_an_epoch(client: aioredis.Redis, keys: Keys) -> None:
    """A failover to a replica that missed the INCR: the counter is gone, the fence or the
    snapshot or the epoch's stream is not; the next election still takes a new number."""
    first = Lease(client, keys, "n1", 5.0)
    assert await first.acquire()
    await first.append(first.token, [entry(1)], 1000)
    await first.write_snapshot(first.token, "0-0", "{}", 0)
    await client.delete(keys.token, keys.lease)
    second = Lease(client, keys, "n2", 5.0)
    assert await second.acquire()
    assert second.token == first.token + 1
    await second.append(second.token, [entry(2)], 1000)
    await client.delete(keys.token, keys.lease, keys.fence, keys.snapshot)  # only the stream is left
    third = Lease(client, keys, "n3", 5.0)
    assert await third.acquire()
    assert third.token > second.token
    with pytest.raises(Fenced):
        await second.append(second.token, [entry(3)], 1000)
