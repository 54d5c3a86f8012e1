"""A real Sentinel failover of the Redis master under two cluster nodes: a private
redis-server master, one replica and three Sentinels (quorum 2) on free ports; calls flow
through both nodes (the follower's as commands through Redis), the master is killed with
SIGKILL, the Sentinels promote the replica, both nodes find the new master through redis-py's
`Sentinel.master_for`, a leader holds the lease on it again and calls keep flowing; at the
end the follower's replica equals the leader's ACD."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis

from acd.call import CallState
from acd.clock import AsyncioClock
from acd.engine import Acd
from acd.errors import AcdError
from acd.replay import acd_state
from state.cluster import ClusterNode, ScopedClock
from state.errors import StateError
from state.settings import parse_durability
from tests.acd.test_replay import make
from tests.state.nodes import free_port
from tests.state.test_cluster import Hooks

SERVICE = "hotline"


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Re-check `predicate` every 20 ms until `within` seconds have passed (a deadline: the
    predicates here ask Redis and the Sentinels, each try can take up to its socket timeout)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not met within {within} s")
AGENTS = ("a2", "a4", "a5")  # the agents with the `general` skill


@dataclass
class Redises:
    master: int
    replica: int
    sentinels: list[int]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def master_port(self) -> int | None:
        """The master's port as the first Sentinel that answers says."""
        for port in self.sentinels:
            with contextlib.suppress(Exception):
                client = Redis(port=port, socket_timeout=0.5)
                addr = client.sentinel_get_master_addr_by_name(SERVICE)
                client.close()
                if addr:
                    return int(addr[1])
        return None

    def ready(self) -> bool:
        """Every Sentinel knows the replica and the two other Sentinels."""
        for port in self.sentinels:
            try:
                client = Redis(port=port, socket_timeout=0.5, decode_responses=True)
                master = client.sentinel_master(SERVICE)
                client.close()
            except Exception:
                return False
            if int(master.get("num-slaves", 0)) < 1 or int(master.get("num-other-sentinels", 0)) < 2:
                return False
        return True


def _server(port: int, folder: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder), *extra], stdout=subprocess.DEVNULL)


@pytest.fixture
def redises(tmp_path: Path) -> Iterator[Redises]:
    setup = Redises(free_port(), free_port(), [free_port() for _ in range(3)])
    for name, port in (("master", setup.master), ("replica", setup.replica)):
        folder = tmp_path / name
        folder.mkdir()
        extra = ("--replicaof", "127.0.0.1", str(setup.master)) if name == "replica" else ()
        setup.processes[port] = _server(port, folder, *extra)
    for i, port in enumerate(setup.sentinels):
        folder = tmp_path / f"sentinel{i}"
        folder.mkdir()
        conf = folder / "sentinel.conf"
        conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                        f"sentinel monitor {SERVICE} 127.0.0.1 {setup.master} 2\n"
                        f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                        f"sentinel failover-timeout {SERVICE} 5000\n")
        setup.processes[port] = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                                                 stdout=subprocess.DEVNULL)
    try:
        yield setup
    finally:
        for process in setup.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(10)


class Flow:
    """Calls through both nodes in turn: arrive, answer once rung, end once talking."""

    def __init__(self, members: list[tuple[ClusterNode, Acd]]) -> None:
        self.members = members
        self.arrived: list[tuple[float, str]] = []  # (time, call id) acknowledged by a leader
        self.ended: list[tuple[float, str]] = []
        self.refused = 0
        self.running = True
        self.task: asyncio.Task[None] | None = None

    async def _step(self, member: ClusterNode, acd: Acd, serial: int) -> None:
        call_id = f"s{serial}"
        try:
            await member.command("arrive", call_id=call_id, queue="general", caller="+8210")
            self.arrived.append((time.monotonic(), call_id))
        except (AcdError, StateError, TimeoutError):
            self.refused += 1
        for call in list(acd.calls.values()):
            op = {CallState.RINGING: "answer", CallState.ON_CALL: "end"}.get(call.state)
            if op is None:
                continue
            try:
                await member.command(op, call_id=call.id)
                if op == "end":
                    self.ended.append((time.monotonic(), call.id))
            except (AcdError, StateError, TimeoutError):
                self.refused += 1

    async def _run(self) -> None:
        serial = 0
        while self.running:
            serial += 1
            member, acd = self.members[serial % len(self.members)]
            await self._step(member, acd, serial)
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.running = False
        if self.task is not None:
            await asyncio.wait_for(self.task, 60)


async def test_sentinel_failover_of_the_master_keeps_a_leader_and_calls_flowing(redises: Redises) -> None:
    await until(redises.ready, within=30)
    settings = parse_durability({
        "mode": "cluster", "sentinel": [f"127.0.0.1:{p}" for p in redises.sentinels], "sentinel_service": SERVICE,
        "lease_ttl": 2.0, "renew_interval": 0.25, "timeout": 0.5, "snapshot_interval": 1.0,
    })
    members: list[tuple[ClusterNode, Acd, Hooks]] = []
    for name in ("s1", "s2"):
        clock = ScopedClock(AsyncioClock())
        acd, _, _ = make([1] * 6, True)
        acd.clock = clock
        hooks = Hooks()
        member = ClusterNode(settings, acd, clock, hooks.make())
        member.node_id = member.lease.node_id = name
        await member.start()
        members.append((member, acd, hooks))
        if name == "s1":
            await asyncio.wait_for(hooks.leading.wait(), 10)
    (first, acd1, _), (second, acd2, _) = members
    for agent in AGENTS:
        await second.command("login", agent_id=agent)  # through the follower
    flow = Flow([(m, a) for m, a, _ in members])
    flow.start()
    try:
        await until(lambda: len(flow.ended) >= 10, within=30)

        killed_at = time.monotonic()
        redises.processes[redises.master].send_signal(signal.SIGKILL)
        await until(lambda: redises.master_port() == redises.replica, within=30)
        promoted_after = time.monotonic() - killed_at

        promoted = Redis(port=redises.replica, socket_timeout=0.5, decode_responses=True)

        def leads_on_new_master() -> bool:  # the lease, read on the promoted replica itself
            value = promoted.get(first.keys.lease)
            return value is not None and any(m.leader and value.split()[0] == m.node_id for m, _, _ in members)

        await until(leads_on_new_master, within=30)
        leader_after = time.monotonic() - killed_at
        ended = len(flow.ended)
        await until(lambda: len(flow.ended) >= ended + 10, within=60)  # calls keep flowing
        flowing_after = next(t for t, _ in flow.ended[ended:]) - killed_at
    finally:
        await flow.stop()

    leader = next(m for m, _, _ in members if m.leader)
    follower = next(m for m, _, _ in members if not m.leader)
    for member, _, _ in members:  # both nodes talk to the promoted replica now
        _host, port = await member.client.connection_pool.get_master_address()  # type: ignore[attr-defined]
        assert int(port) == redises.replica
    holder = await leader.lease.holder()
    assert holder is not None and holder[0] == leader.node_id
    assert leader.log is not None
    await leader.log.flushed()
    await until(lambda: follower.applied == leader.log.emitted, within=10)  # type: ignore[union-attr]
    leader_acd = acd1 if leader is first else acd2
    follower_acd = acd2 if leader is first else acd1
    assert acd_state(follower_acd) == acd_state(leader_acd)
    # calls acknowledged after the failover are in the leader's ACD or ended there
    after = [c for t, c in flow.arrived if t > killed_at + leader_after]
    assert after and all(c in leader_acd.calls or c in {e for _, e in flow.ended} for c in after)
    elections = sum(m.promotions for m, _, _ in members)
    promoted.close()
    print(f"\nsentinel failover: replica promoted {promoted_after:.2f} s after the kill, a leader's lease on it "
          f"{leader_after:.2f} s, first call ended {flowing_after:.2f} s; {len(flow.arrived)} calls, "
          f"{flow.refused} commands refused or unanswered during the outage, {elections} elections in all")
    for member, _, _ in members:
        await member.stop()
