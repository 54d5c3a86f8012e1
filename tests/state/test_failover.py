"""Two `hotline serve` nodes on one Redis and one case store, the fake Asterisk sending them
calls: the leader is killed with kill -9 (or cut off from Redis through a TCP relay) in the
middle of the load; the other node takes over, and in the case store every call has exactly
one record, none was assigned twice and no agent was rung twice for one call."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from redis import asyncio as aioredis
from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import AGENT_IDS, Node, free_port, until, upgrade, write_config
from tests.state.proxy import RedisRelay

REDIS = "redis://127.0.0.1:6379/0"


class ThreadedRelay:
    """The TCP relay on a loop of its own (a thread), so the test's load does not slow it."""

    def __init__(self) -> None:
        self.relay = RedisRelay()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.relay.start(), self.loop).result(5)

    @property
    def url(self) -> str:
        return self.relay.url

    def cut(self) -> None:
        asyncio.run_coroutine_threadsafe(self.relay.stop(), self.loop).result(5)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Load:
    """Callers through the leader's FastAGI; agents answering each offer and hanging up."""

    def __init__(self, fake: FakeAsterisk, nodes: list[Node]) -> None:
        self.fake = fake
        self.nodes = nodes
        self.placed: list[str] = []
        self.lost_in_ivr: list[str] = []  # their FastAGI session died with a node
        self.offers: list[tuple[float, str, str]] = []  # (time, caller channel, agent)
        self.running = True
        self._seen = 0
        self._tasks: list[asyncio.Task[Any]] = []

    def leader(self) -> Node | None:
        for node in self.nodes:
            with contextlib.suppress(OSError, AssertionError, ValueError):
                if node.process is not None and node.process.poll() is None and node.get("/api/cluster")["leader"]:
                    return node
        return None

    async def _callers(self) -> None:
        serial = 0
        while self.running:
            node = await asyncio.to_thread(self.leader)
            if node is None:
                await asyncio.sleep(0.05)
                continue
            serial += 1
            try:
                result = await asyncio.wait_for(self.fake.agi_call(
                    node.agi_port, CallerScript(number=f"+8210{serial:07d}", keys=["1", "4", "2", "4", "2"])), 10)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                continue  # the node died before the session began or during it
            uid = result.channel.uniqueid
            self.placed.append(uid)
            if result.channel.variables.get("HOTLINE_QUEUE") != "booking":
                self.lost_in_ivr.append(uid)
            await asyncio.sleep(0.12)

    async def _agents(self) -> None:
        while self.running or any(c in self.fake.channels for c in self.placed):
            redirects = self.fake.received("Redirect")
            for action in redirects[self._seen:]:
                if action.get("Exten") in AGENT_IDS:
                    chan = self.fake._by_name(action["Channel"])
                    if chan is not None:
                        self.offers.append((time.monotonic(), chan.uniqueid, action["Exten"]))
                        self._tasks.append(asyncio.get_running_loop().create_task(self._talk(chan.uniqueid)))
            self._seen = len(redirects)
            if not self.running:  # drain: callers still waiting hang up
                for uid in self.placed:
                    chan = self.fake.channels.get(uid)
                    if chan is not None and chan.application == "MusicOnHold":
                        self.fake.hangup(uid)
            await asyncio.sleep(0.02)

    async def _talk(self, uid: str) -> None:
        await asyncio.sleep(0.1)
        chan = self.fake.channels.get(uid)
        if chan is not None and chan.dialing is not None:
            self.fake.answer(uid)
        await asyncio.sleep(0.4)
        self.fake.hangup(uid)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks += [loop.create_task(self._callers()), loop.create_task(self._agents())]

    async def stop(self) -> None:
        self.running = False
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 30)


async def _cleanup(prefix: str) -> None:
    client = aioredis.from_url(REDIS)
    found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


@pytest.mark.parametrize("how", ["kill", "partition"])
async def test_failover_under_load_keeps_every_call_once(tmp_path: Path, how: str) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({f"PJSIP/{a}": "NOT_INUSE" for a in AGENT_IDS})
    relay = ThreadedRelay() if how == "partition" else None
    prefix = f"test:hotline:{uuid.uuid4().hex}"
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    nodes: list[Node] = []
    for i in range(2):
        folder = tmp_path / f"node{i}"
        folder.mkdir()
        api_port, agi_port = free_port(), free_port()
        url = relay.url if relay is not None and i == 0 else REDIS  # node0's Redis through the relay
        state = {"mode": "cluster", "url": url, "prefix": prefix, "node_id": f"node{i}", "lease_ttl": 2.0,
                 "renew_interval": 0.25, "snapshot_interval": 1.0, "timeout": 0.6}
        config = write_config(folder, ami_port=fake.port, api_port=api_port, agi_port=agi_port,
                              store_url=store_url, state=state, monitor=tmp_path / "monitor")
        nodes.append(Node(f"node{i}", config, api_port, agi_port, folder / "serve.log"))
    await asyncio.to_thread(upgrade, nodes[0].config)
    first, second = nodes
    load = Load(fake, nodes)
    try:
        first.start()
        await until(lambda: first.get("/api/cluster")["leader"], what="node0 leads")
        anonymous = await asyncio.to_thread(first.request, "GET", "/api/cluster", anonymous=True)
        assert (anonymous[0], anonymous[1]["error"]) == (401, "unauthorized")
        second.start()
        await until(lambda: second.get("/api/cluster")["epoch"] == 1, what="node1 follows")
        for agent in AGENT_IDS[:4]:  # through the follower: sent to the leader
            status, body = second.request("POST", f"/api/agents/{agent}/state", {"action": "login"})
            assert status == 200 and body["state"] == "available", body
        load.start()
        await until(lambda: len(load.offers) >= 12, within=60, what="calls flowing")

        assert first.get("/api/cluster")["leader"] and not second.get("/api/cluster")["leader"]
        cut_at = time.monotonic()
        if relay is None:
            first.kill()
        else:
            relay.cut()  # node0 alive, but cut off from Redis
        leading = await until(lambda: second.get("/api/cluster")["leader"], within=20, what="node1 leads")
        without_leader = time.monotonic() - cut_at
        offered = len(load.offers)
        await until(lambda: len(load.offers) > offered + 5, within=60, what="calls routed by node1")
        first_routed = next(t for t, _, _ in load.offers[offered:]) - cut_at
        if how == "partition":  # the stale leader stepped down on its own
            await until(lambda: "steps down" in first.text(), within=10, what="node0 steps down")
            assert not first.get("/api/cluster")["leader"]
        await load.stop()
        await until(lambda: second.get("/api/live")["calls"] == [], within=30, what="all calls over")
        assert leading
    finally:
        await load.stop() if load.running else None
        for node in nodes:
            node.stop()
        await fake.close()
        if relay is not None:
            with contextlib.suppress(Exception):
                relay.cut()
            relay.close()
        await _cleanup(prefix)

    print(f"\n{how}: {without_leader:.2f} s without a leader, first call routed {first_routed:.2f} s after")
    assert without_leader < 5.0
    # No call offered twice, no agent rung twice for one call.
    per_call = Counter(uid for _, uid, _ in load.offers)
    assert per_call and max(per_call.values()) == 1, [c for c, n in per_call.items() if n > 1]
    async with open_store(store_url) as store, store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome, CALLS.c.agent_id))).all()
    records = Counter(row.id for row in rows)
    assert max(records.values()) == 1  # exactly one record per call
    outcomes = {row.id: (row.outcome, row.agent_id) for row in rows}
    queued = [uid for uid in load.placed if uid not in load.lost_in_ivr]
    assert queued and all(uid in outcomes for uid in queued)
    for uid in queued:  # every call that reached the queue got its end, whichever node wrote it
        assert outcomes[uid][0] in ("answered", "abandoned"), (uid, outcomes[uid])
    for uid in load.lost_in_ivr:  # in the dead node's IVR: closed by the new leader
        assert outcomes.get(uid, ("interrupted",))[0] is not None
    for _, uid, agent in load.offers:
        assert outcomes[uid][1] == agent  # stored with the agent it was offered to
