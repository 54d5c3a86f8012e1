"""The emergency override has one stored path (live settings, audited): a change stored by
another node (another app on the same case store) is applied here; this node's own switch,
stored already, is not applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casestore.accounts import Actor
from casestore.live_settings import LiveSettings
from casestore.store import open_store
from hotline.web.emergency.service import SETTING, as_dict, follow, save
from ivr.emergency import Emergency, EmergencyState

CHANGED = asyncio.Event()  # set on every poll and every change of the override


async def _until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():
            CHANGED.clear()
            await CHANGED.wait()


class Counted(LiveSettings):
    """The store's live settings, counting the reads (the follower's polls)."""

    reads = 0

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            return await super().get(key)
        finally:
            self.reads += 1
            CHANGED.set()


async def test_an_override_stored_elsewhere_is_followed_and_an_own_one_not_reapplied(tmp_path: Path) -> None:
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}", create=True) as store:
        here, there = EmergencyState(), EmergencyState()
        applied: list[Emergency] = []
        here.subscribe(lambda state: (applied.append(state), CHANGED.set()))
        settings = Counted(store.engine)
        watcher = asyncio.get_running_loop().create_task(follow(settings, here, None, poll=0.02))
        try:
            # another node switches it on and stores it (the same call `switch` makes)
            before = there.current()
            there.activate(100.0, "sup-1", {"en": "Storm."}, frozenset())
            await save(store.live_settings, Actor("sup-1"), before, there.current())
            await _until(lambda: here.current().active)
            assert as_dict(here.current()) == as_dict(there.current())
            assert len(applied) == 1
            # this node switches it off itself and stores that: nothing to apply again
            before = here.current()
            here.clear()
            await save(store.live_settings, Actor("sup-2"), before, here.current())
            await _until(lambda: len(applied) == 2)
            stored = await store.live_settings.get(SETTING)
            assert stored is not None and not stored["active"]
            reads = settings.reads
            await _until(lambda: settings.reads >= reads + 3)  # polls that read the stored "off"
            assert len(applied) == 2 and not here.current().active
        finally:
            watcher.cancel()
