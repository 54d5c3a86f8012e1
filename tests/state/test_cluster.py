"""Two and three ACD nodes on the real Redis (random key prefix): the follower's replica
follows the leader, commands reach the leader, a dead leader is replaced, a former leader is
fenced, and a snapshot + trimmed stream still rebuilds the same ACD."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis import asyncio as aioredis

from acd.clock import AsyncioClock
from acd.engine import Acd
from acd.errors import IllegalTransition
from acd.events import Event
from acd.replay import ReplayError, acd_state
from state.cluster import ClusterNode, LeaderHooks, ScopedClock
from state.settings import Durability, StateSettings
from tests.acd.test_replay import AGENT_IDS, make, random_op, run

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    value = f"test:hotline:{uuid.uuid4().hex}"
    yield value
    client = aioredis.from_url(REDIS)
    found = [k async for k in client.scan_iter(match=f"{value}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


class Hooks:
    def __init__(self) -> None:
        self.promoted: list[list[Event]] = []
        self.demoted = 0
        self.leading = asyncio.Event()

    def make(self) -> LeaderHooks:
        async def promoted(tail: list[Event]) -> None:
            self.promoted.append(tail)
            self.leading.set()

        async def demoted() -> None:
            self.demoted += 1
            self.leading.clear()

        return LeaderHooks(promoted=promoted, demoted=demoted)


def settings(prefix: str, **overrides: Any) -> Durability:
    values: dict[str, Any] = {"mode": "cluster", "redis": StateSettings(REDIS, timeout=1.0), "prefix": prefix,
                              "lease_ttl": 1.0, "renew_interval": 0.2, "snapshot_interval": 3600.0}
    values.update(overrides)
    return Durability(**values)


async def node(prefix: str, name: str, **overrides: Any) -> tuple[ClusterNode, Acd, Hooks]:
    clock = ScopedClock(AsyncioClock())
    acd, _, _ = make([1, 2, 1, 3, 1, 2], True)
    acd.clock = clock
    hooks = Hooks()
    member = ClusterNode(settings(prefix, node_id=name, **overrides), acd, clock, hooks.make())
    await member.start()
    return member, acd, hooks


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Re-check `predicate` every 20 ms (state in Redis and in the nodes' background tasks)."""
    for _ in range(int(within / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not met within {within} s")


def workout(acd: Acd, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    serial = [seed * 10_000]
    for agent_id in AGENT_IDS:
        run(acd, None, ("login", agent_id), serial)  # type: ignore[arg-type]
    for _ in range(steps):
        op = random_op(rng)
        if op[0] != "advance":
            run(acd, None, op, serial)  # type: ignore[arg-type]


async def kill(member: ClusterNode) -> None:
    """The node dies: its tasks stop, nothing is released or flushed."""
    member._stopping = True
    for task in member._tasks + member._leader_tasks:
        task.cancel()
    if member.log is not None and member.log._task is not None:
        member.log._task.cancel()
    await asyncio.gather(*member._tasks, *member._leader_tasks, return_exceptions=True)
    await member.client.aclose()
    await member.blocking.aclose()


async def test_replica_follows_then_takes_over_when_the_leader_dies(prefix: str) -> None:
    first, acd1, hooks1 = await node(prefix, "n1")
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    second, acd2, hooks2 = await node(prefix, "n2")
    workout(acd1, 1, 400)
    assert first.log is not None
    await first.log.flushed()
    await until(lambda: second.applied == first.log.emitted)  # type: ignore[union-attr]
    assert acd_state(acd2) == acd_state(acd1)
    assert not second.leader

    # A follower's command runs on the leader; the follower answers once its replica has it.
    waiting_agent = next(a for a in AGENT_IDS if acd1.agents[a].state.value == "available")
    await second.command("pause", agent_id=waiting_agent, reason="coaching")
    assert acd1.agents[waiting_agent].pause_reason == "coaching"
    assert acd2.agents[waiting_agent].pause_reason == "coaching"
    with pytest.raises(IllegalTransition):
        await second.command("unpause", agent_id=next(a for a in AGENT_IDS if acd1.agents[a].state.value != "paused"))

    before = acd_state(acd1)
    token = first.lease.token
    await kill(first)
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(hooks2.leading.wait(), 5)
    assert asyncio.get_running_loop().time() - started < 2.5  # lease ttl 1 s, renew 0.2 s
    assert second.leader and second.lease.token > token
    assert acd_state(acd2) == before  # every waiting call keeps its place
    # It carries on: its own operations go to its own epoch.
    workout(acd2, 2, 50)
    third, acd3, _ = await node(prefix, "n3")
    assert second.log is not None
    await second.log.flushed()
    await until(lambda: third.applied == second.log.emitted and third.epoch == second.lease.token)  # type: ignore[union-attr]
    assert acd_state(acd3) == acd_state(acd2)
    await second.stop()
    await third.stop()


async def test_a_partitioned_leader_is_fenced_and_follows_again(prefix: str) -> None:
    first, acd1, hooks1 = await node(prefix, "n1")
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    second, acd2, hooks2 = await node(prefix, "n2")
    workout(acd1, 3, 100)
    assert first.log is not None
    await first.log.flushed()
    # n1 stops renewing (as if cut off from Redis) while it still thinks it leads.
    first._tasks[0].cancel()
    await asyncio.wait_for(hooks2.leading.wait(), 5)
    assert first.leader and not first.lease.valid  # by its own clock it already knows
    acd1.arrive("late", "booking")  # a write of the stale leader...
    with pytest.raises(Exception, match="no longer the leader"):
        await first.log.flushed(2.0)
    assert first.log.fenced.done()  # ...refused by the fence
    assert "late" not in acd2.calls
    await first._step_down("test: fenced")
    await until(lambda: first.epoch == second.lease.token)
    assert acd_state(acd1) == acd_state(acd2)  # a follower again, with the new leader's state
    assert hooks1.demoted == 1
    await first.stop()
    await second.stop()


async def test_a_snapshot_and_its_trimmed_stream_rebuild_the_same_acd(prefix: str) -> None:
    first, acd1, hooks1 = await node(prefix, "n1", snapshot_interval=0.2)
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    client = aioredis.from_url(REDIS)
    workout(acd1, 4, 300)
    assert first.log is not None
    await first.log.flushed()
    emitted = first.log.emitted
    stored_n = 0
    async with asyncio.timeout(10):
        while stored_n < emitted:
            stored_n = int(await client.hget(f"{prefix}:snapshot", "n") or 0)
            await asyncio.sleep(0.05)
    for i in range(20):  # the tail after the snapshot
        acd1.arrive(f"tail-{i}", "general", priority=i % 3)
    last = await first.log.flushed()
    key = f"{prefix}:epoch:{first.lease.token}"
    # A later snapshot takes the tail in and trims the stream up to its last entry. A snapshot
    # taken while the tail was still being written holds the tail (n) but trims only what was
    # written then: wait for one taken after the flush.
    def stream_id(entry: bytes | str | None) -> tuple[int, int]:
        ms, _, seq = (entry.decode() if isinstance(entry, bytes) else entry or "0-0").partition("-")
        return int(ms), int(seq or 0)

    async with asyncio.timeout(10):
        while True:
            taken = await client.hget(f"{prefix}:snapshot", "entry")
            if stream_id(taken) >= stream_id(last):
                break
            await asyncio.sleep(0.05)
    assert int(await client.hget(f"{prefix}:snapshot", "n") or 0) >= first.log.emitted
    assert 0 < await client.xlen(key) < first.log.emitted - emitted  # trimmed before the snapshot
    late, acd_late, _ = await node(prefix, "late")
    await until(lambda: late.applied == first.log.emitted)  # type: ignore[union-attr]
    assert acd_state(acd_late) == acd_state(acd1)
    await client.aclose()
    await first.stop()
    await late.stop()


async def test_a_command_resent_after_a_lost_reply_runs_once(prefix: str) -> None:
    first, acd1, hooks1 = await node(prefix, "n1")
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    second, _, _ = await node(prefix, "n2")
    for agent_id in AGENT_IDS:
        await second.command("login", agent_id=agent_id)
    paused: list[str] = []
    acd1.subscribe(lambda e: paused.append(e.agent_id) if getattr(e, "new", "") == "paused" else None)
    agent = AGENT_IDS[0]
    # The first attempt runs on the leader, but its reply is lost on the way back.
    reply = await second.send_command("cmd-1", "pause", {"agent_id": agent, "reason": "coaching"})
    assert reply["ok"] is True
    await second.client.delete(second.keys.reply("cmd-1"))
    # Sent again with the same id: the kept result, not "already paused".
    again = await second.send_command("cmd-1", "pause", {"agent_id": agent, "reason": "coaching"})
    assert again == reply
    assert paused == [agent]  # paused once
    # A new command (new id) that cannot run is still refused.
    with pytest.raises(IllegalTransition):
        await second.command("pause", agent_id=agent, reason="coaching")
    await second.stop()
    await first.stop()


async def test_a_replica_that_cannot_be_restored_keeps_trying_and_follows_again(
    prefix: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, acd1, hooks1 = await node(prefix, "n1")
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    second, acd2, _ = await node(prefix, "n2")
    failures = {"read": 1, "restore": 2}
    real_read, real_restore = second._read_stream, second._resync_replica

    async def read(block: int | None) -> int:
        if failures["read"]:
            failures["read"] -= 1
            raise ReplayError(0, Event(0.0), "time goes back (injected)")
        return await real_read(block)

    async def restore() -> None:
        if failures["restore"]:
            failures["restore"] -= 1
            raise ReplayError(0, Event(0.0), "time goes back (injected)")
        await real_restore()

    monkeypatch.setattr(second, "_read_stream", read)
    monkeypatch.setattr(second, "_resync_replica", restore)
    workout(acd1, 2, 40)
    assert first.log is not None
    await first.log.flushed()
    # out of step, then two restores refused: the tail loop lives on and follows again
    await until(lambda: second.applied == first.log.emitted)  # type: ignore[union-attr]
    assert failures == {"read": 0, "restore": 0}
    assert acd_state(acd2) == acd_state(acd1)
    await second.stop()
    await first.stop()
