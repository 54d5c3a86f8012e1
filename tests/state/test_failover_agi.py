"""Three `hotline serve` nodes on one Redis and one case store; the fake Asterisk sends its
FastAGI sessions to every node in turn, so most land on a follower: the IVR runs there, the
call is queued and routed by the leader (which rings the agents through its AMI). The leader
is killed with kill -9 in the middle of the load; a follower takes over and the sessions go
on landing on the two nodes left. In the case store every call has exactly one record, none
was assigned twice and no agent was rung twice for one call."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import AGENT_IDS, Node, free_port, until, upgrade, write_config
from tests.state.test_failover import REDIS, Load, _cleanup


class EveryNode(Load):
    """Callers through every live node's FastAGI in turn (not only the leader's)."""

    def __init__(self, fake: FakeAsterisk, nodes: list[Node]) -> None:
        super().__init__(fake, nodes)
        self.landed: dict[str, str] = {}  # caller uniqueid -> node whose FastAGI ran its IVR
        self.leader_then: dict[str, str] = {}  # caller uniqueid -> the leader when it was placed

    async def _callers(self) -> None:
        serial = 0
        while self.running:
            alive = [n for n in self.nodes if n.process is not None and n.process.poll() is None]
            leader = await asyncio.to_thread(self.leader)
            if not alive:
                await asyncio.sleep(0.05)
                continue
            serial += 1
            node = alive[serial % len(alive)]
            try:
                result = await asyncio.wait_for(self.fake.agi_call(
                    node.agi_port, CallerScript(number=f"+8210{serial:07d}", keys=["1", "4", "2", "4", "2"])), 15)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                continue  # the node died before the session began or during it
            uid = result.channel.uniqueid
            self.placed.append(uid)
            self.landed[uid] = node.name
            self.leader_then[uid] = leader.name if leader is not None else ""
            if result.channel.variables.get("HOTLINE_QUEUE") != "booking":
                self.lost_in_ivr.append(uid)
            await asyncio.sleep(0.1)


async def test_fastagi_on_followers_routed_by_the_leader_across_kill_9(tmp_path: Path) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({f"PJSIP/{a}": "NOT_INUSE" for a in AGENT_IDS})
    prefix = f"test:hotline:{uuid.uuid4().hex}"
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    nodes: list[Node] = []
    for i in range(3):
        folder = tmp_path / f"node{i}"
        folder.mkdir()
        api_port, agi_port = free_port(), free_port()
        state = {"mode": "cluster", "url": REDIS, "prefix": prefix, "node_id": f"node{i}", "lease_ttl": 2.0,
                 "renew_interval": 0.25, "snapshot_interval": 1.0, "timeout": 0.6}
        config = write_config(folder, ami_port=fake.port, api_port=api_port, agi_port=agi_port,
                              store_url=store_url, state=state, monitor=tmp_path / "monitor")
        nodes.append(Node(f"node{i}", config, api_port, agi_port, folder / "serve.log"))
    await asyncio.to_thread(upgrade, nodes[0].config)
    first = nodes[0]
    load = EveryNode(fake, nodes)
    try:
        first.start()
        await until(lambda: first.get("/api/cluster")["leader"], what="node0 leads")
        for node in nodes[1:]:
            node.start()
        for node in nodes[1:]:
            await until(lambda n=node: n.get("/api/cluster")["epoch"] == first.get("/api/cluster")["epoch"],  # type: ignore[misc]
                        within=60, what=f"{node.name} follows")
            await until(lambda n=node: n.get("/readyz")["status"] == "ready", within=60, what=f"{node.name} ready")  # type: ignore[misc]
        for agent in AGENT_IDS[:4]:
            status, body = nodes[1].request("POST", f"/api/agents/{agent}/state", {"action": "login"})
            assert status == 200 and body["state"] == "available", body
        load.start()
        await until(lambda: len(load.offers) >= 12, within=90, what="calls flowing")
        # Sessions that ran on a follower were routed by the leader (its AMI rang the agent).
        on_followers = {uid for uid, name in load.landed.items() if name != "node0"}
        assert on_followers & {uid for _, uid, _ in load.offers}

        assert first.get("/api/cluster")["leader"]
        killed_at = time.monotonic()
        first.kill()
        survivors = nodes[1:]

        def new_leader() -> Node | None:
            return next((n for n in survivors if n.get("/api/cluster")["leader"]), None)

        leading = await until(new_leader, within=20, what="a survivor leads")
        without_leader = time.monotonic() - killed_at
        offered = len(load.offers)
        follower = next(n for n in survivors if n is not leading)

        def routed_from_follower() -> bool:  # placed on the follower after the take-over, then rung
            return any(load.landed[uid] == follower.name and load.leader_then[uid] == leading.name
                       for _, uid, _ in load.offers[offered:])

        await until(lambda: len(load.offers) > offered + 6, within=90, what="calls routed by the new leader")
        await until(routed_from_follower, within=60, what="a follower's call routed by the new leader")
        first_routed = next(t for t, _, _ in load.offers[offered:]) - killed_at
        await load.stop()
        await until(lambda: leading.get("/api/live")["calls"] == [], within=30, what="all calls over")
    finally:
        await load.stop() if load.running else None
        for node in nodes:
            node.stop()
        await fake.close()
        await _cleanup(prefix)

    print(f"\nfastagi on every node: {without_leader:.2f} s without a leader, first call routed "
          f"{first_routed:.2f} s after the kill; {len(load.placed)} calls, {len(on_followers)} on followers "
          "before the kill")
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
        assert outcomes[uid][0] in ("answered", "abandoned"), (uid, load.landed[uid], outcomes[uid])
    for _, uid, agent in load.offers:
        assert outcomes[uid][1] == agent  # stored with the agent it was offered to
