"""Queues and agents edited live in a cluster (real Redis): a follower's edit runs on the
leader through the command path, the follower's replica gets it from the stream, and a node
joining later from the leader's snapshot has it too; waiting calls keep their places."""

from __future__ import annotations

import asyncio

from redis import asyncio as aioredis

from acd.live_config import agent_data, queue_data
from acd.replay import acd_state
from tests.acd.test_replay import QUEUES
from tests.state.test_cluster import REDIS, node, prefix, until  # noqa: F401  (prefix: the fixture)


async def test_an_edit_on_a_follower_reaches_the_leader_replicas_and_snapshots(prefix: str) -> None:  # noqa: F811
    first, acd1, hooks1 = await node(prefix, "n1", snapshot_interval=0.2)
    await asyncio.wait_for(hooks1.leading.wait(), 5)
    second, acd2, _ = await node(prefix, "n2")
    acd1.login("a1")  # booking 3: below booking's 5
    for i in range(3):
        acd1.arrive(f"w{i}", "booking", priority=i % 2)
    order = [c.id for c in acd1.waiting_calls("booking")]
    assert first.log is not None
    await first.log.flushed()
    await until(lambda: second.applied == first.log.emitted)  # type: ignore[union-attr]

    edited = {**queue_data(QUEUES[0]), "skills": {"booking": 6}, "max_wait": 500.0}
    await second.command("configure_queue", data=edited)
    assert acd1.queues["booking"].max_wait == 500.0 and acd2.queues["booking"].max_wait == 500.0
    assert [c.id for c in acd2.waiting_calls("booking")] == order
    agent = {**agent_data(acd1.agents["a1"].config), "skills": {"booking": 7}, "capacity": 2}
    await second.command("configure_agent", data=agent)
    assert acd1.agents["a1"].capacity == 2
    assert acd1.call(order[0]).agent_id == "a1"  # now eligible: the first waiting call is offered
    await first.log.flushed()
    await until(lambda: second.applied == first.log.emitted)  # type: ignore[union-attr]
    assert acd_state(acd2) == acd_state(acd1)

    client = aioredis.from_url(REDIS)
    for _ in range(200):  # a snapshot (every 0.2 s) that has the edits in
        stored = int(await client.hget(f"{prefix}:snapshot", "n") or 0)
        if stored >= first.log.emitted:
            break
        await asyncio.sleep(0.05)
    await client.aclose()
    assert stored >= first.log.emitted
    late, acd_late, _ = await node(prefix, "late")  # built from the configuration, restored from the snapshot
    await until(lambda: late.applied >= first.log.emitted)  # type: ignore[union-attr]
    assert acd_state(acd_late) == acd_state(acd1)
    assert acd_late.agents["a1"].config.skills == {"booking": 7}
    for member in (first, second, late):
        await member.stop()
