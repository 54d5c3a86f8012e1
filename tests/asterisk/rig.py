"""A fake Asterisk wired to a real AmiClient, CallControl and Acd: the adapter under test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acd.agent import AgentConfig
from acd.clock import AsyncioClock
from acd.engine import Acd
from acd.events import Event
from acd.queue import QueueConfig
from asterisk.ami_client import AmiClient
from asterisk.control import CallControl
from asterisk.settings import AmiSettings, AsteriskSettings, FastAgiSettings
from tests.asterisk.fake_asterisk import FakeAsterisk


@dataclass
class Rig:
    fake: FakeAsterisk
    acd: Acd
    control: CallControl
    client: AmiClient
    events: list[Event] = field(default_factory=list)
    recordings: list[tuple[str, Path]] = field(default_factory=list)
    closed: list[tuple[str, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def barrier(self) -> None:
        """Every event the fake sent so far has been handled (a Ping round trip)."""
        await self.client.action("Ping")
        await self.control.drain()

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within)

    def state(self, agent_id: str) -> str:
        return self.acd.agents[agent_id].state.value

    async def close(self) -> None:
        self.control.close()
        await self.client.stop()
        await self.fake.close()


def settings(fake_port: int, agi_port: int = 0, recordings: Path = Path("rec"),
             prompts_dir: Path | None = None) -> AsteriskSettings:
    return AsteriskSettings(
        prompts_dir=prompts_dir,
        ami=AmiSettings(port=fake_port, username="hotline", secret="secret", connect_timeout=2,
                        action_timeout=2, backoff_initial=0.01, backoff_max=0.05),
        fastagi=FastAgiSettings(port=agi_port),
        recordings_dir=recordings,
    )


QUEUES = (
    QueueConfig("booking", skills={"booking": 1}, ring_timeout=30, wrap_up=None),
    QueueConfig("fast", skills={"booking": 1}, ring_timeout=0.05, wrap_up=None),
    QueueConfig("medium", skills={"booking": 1}, ring_timeout=0.2, wrap_up=None),
)
AGENTS = (
    AgentConfig("1001", skills={"booking": 8}, name="Agent 1001"),
    AgentConfig("1002", skills={"booking": 6}, name="Agent 1002"),
)


async def make_rig(recordings: Path, *, agi_port: int = 0, start: bool = True,
                   queues: tuple[QueueConfig, ...] = QUEUES, prompts_dir: Path | None = None) -> Rig:
    fake = FakeAsterisk(recordings_dir=recordings)
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE", "PJSIP/1002": "NOT_INUSE"})
    acd = Acd(AsyncioClock(), queues)
    for agent in AGENTS:
        acd.add_agent(agent)
    conf = settings(fake.port, agi_port, recordings, prompts_dir)
    holder: list[CallControl] = []
    client = AmiClient(conf.ami, lambda m: holder[0].handle_ami(m),
                       on_connect=lambda c: holder[0].resync(c))
    rig = Rig(fake, acd, None, client)  # type: ignore[arg-type]
    control = CallControl(acd, conf, client,
                          on_recording=lambda c, p: rig.recordings.append((c, p)),
                          on_closed=lambda c, how: rig.closed.append((c.call_id, how)))
    holder.append(control)
    rig.control = control

    def on_event(event: Event) -> None:
        rig.events.append(event)
        rig.changed.set()

    acd.subscribe(on_event)
    if start:
        client.start()
        await client.wait_ready(5)
    return rig
