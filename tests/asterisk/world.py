"""The whole Asterisk side wired as `hotline serve` would: fake Asterisk, service, ACD, store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.clock import AsyncioClock
from acd.engine import Acd
from acd.events import Event
from asterisk.service import AsteriskService, running
from asterisk.settings import AmiSettings, AsteriskSettings, FastAgiSettings
from casestore.settings import StoreSettings
from casestore.store import Store, open_store
from casestore.writer import CallWriter
from ivr.registry import MenuRegistry
from ivr.speech import Recognizer
from tests.asterisk.fake_asterisk import FakeAsterisk
from tests.asterisk.rig import AGENTS, QUEUES

MENU = Path(__file__).with_name("menu.yaml")


@dataclass
class World:
    fake: FakeAsterisk
    acd: Acd
    service: AsteriskService
    store: Store
    writer: CallWriter
    changed: asyncio.Event

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate` holds, re-checked on every ACD event."""

        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within)

    async def barrier(self) -> None:
        await self.service.ami.action("Ping")
        await self.service.control.drain()


@asynccontextmanager
async def make_world(
    tmp_path: Path, *, menu: Path = MENU, menu_name: str = "asterisk-test", recognizer: Recognizer | None = None,
    overrides: dict[str, Any] | None = None,
) -> AsyncIterator[World]:
    monitor = tmp_path / "monitor"
    fake = FakeAsterisk(recordings_dir=monitor)
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE", "PJSIP/1002": "NOT_INUSE"})
    settings = AsteriskSettings(
        ami=AmiSettings(port=fake.port, username="hotline", secret="secret", backoff_initial=0.01,
                        backoff_max=0.05),
        fastagi=FastAgiSettings(port=0),
        recordings_dir=monitor,
        speech_dir=tmp_path / "speech",
        menu=menu_name,
        **(overrides or {}),
    )
    clock = AsyncioClock()
    acd = Acd(clock, QUEUES)
    for agent in AGENTS:
        acd.add_agent(agent)
    changed = asyncio.Event()

    def poke(event: Event) -> None:
        changed.set()

    acd.subscribe(poke)
    menus = MenuRegistry(queues=set(acd.queues))
    result = menus.load(await asyncio.to_thread(menu.read_text, encoding="utf-8"), str(menu))
    assert result.ok, result
    store_settings = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}", data_dir=tmp_path / "data")
    try:
        async with open_store(store_settings, create=True) as store:
            writer = store.writer(flush_interval=0.02)
            await writer.start()
            acd.subscribe(writer.on_event)
            service = AsteriskService(settings, acd, menus, clock=clock, writer=writer,
                                      recordings=store.recordings, recognizer=recognizer)
            async with running(service):
                await service.ami.wait_ready(5)
                yield World(fake, acd, service, store, writer, changed)
            await writer.stop()
    finally:
        await fake.close()
