"""The cluster through Redis Sentinel (redis-py's `Sentinel.master_for`): a private
redis-server and one Sentinel monitoring it, on free ports (the shared Redis is not used)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import asyncio as aioredis

from acd.clock import AsyncioClock
from acd.replay import acd_state
from state.cluster import ClusterNode, ScopedClock
from state.settings import parse_durability
from tests.acd.test_replay import make
from tests.state.nodes import free_port
from tests.state.test_cluster import Hooks, until


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[str]:
    port, sentinel_port = free_port(), free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel_port}\ndir {tmp_path}\nsentinel monitor hotline 127.0.0.1 {port} 1\n"
                    "sentinel down-after-milliseconds hotline 5000\n")
    watcher = subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{sentinel_port}"
    finally:
        for process in (watcher, server):
            process.terminate()
            process.wait(10)


async def test_leader_and_follower_through_sentinel(sentinel: str) -> None:
    settings = parse_durability({"mode": "cluster", "sentinel": [sentinel], "sentinel_service": "hotline",
                                 "lease_ttl": 1.0, "renew_interval": 0.2, "timeout": 1.0})
    members = []
    for name in ("s1", "s2"):
        clock = ScopedClock(AsyncioClock())
        acd, _, _ = make([1] * 6, True)
        acd.clock = clock
        hooks = Hooks()
        member = ClusterNode(settings, acd, clock, hooks.make())
        member.node_id = name
        member.lease.node_id = name
        for _ in range(50):  # the Sentinel answers once it is up
            try:
                await member.start()
                break
            except Exception:
                await asyncio.sleep(0.1)
        members.append((member, acd, hooks))
        if name == "s1":
            await asyncio.wait_for(hooks.leading.wait(), 10)
    (leader, acd1, _), (follower, acd2, _) = members
    acd1.login("a0")
    acd1.arrive("c1", "booking")
    await follower.command("login", agent_id="a1")
    assert acd1.agents["a1"].state.value == "available"
    assert leader.log is not None
    await leader.log.flushed()
    await until(lambda: follower.applied == leader.log.emitted)  # type: ignore[union-attr]
    assert acd_state(acd2) == acd_state(acd1)
    await follower.stop()
    await leader.stop()
    # Stopped nodes leave no connection open to the Sentinel (only this check's own).
    host, _, port = sentinel.rpartition(":")
    check = aioredis.Redis(host=host, port=int(port))
    clients = (await check.execute_command("CLIENT", "LIST")).decode().splitlines()
    await check.aclose()
    assert len(clients) == 1, clients
