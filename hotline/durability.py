"""What outlives a `hotline serve` process, as aiohttp cleanup contexts for the wiring:

- `acd_state_ctx`: the ACD restored at start and journaled while it runs (`state.mode`:
  `local`, the default: a journal folder next to the case store; `cluster`: one fenced
  leader on Redis, see state/leader.py; `publish`: events to a Redis Stream only; `memory`).
- `menus_ctx`: the menus and their versions in the case store (`StoredMenus`).
- `emergency_ctx`: the emergency override in the case store (restored at start, followed on
  every node).

See docs/state.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from acd.clock import Clock
from acd.engine import Acd
from casestore.errors import StoreUnavailable
from casestore.menus import MenuStore
from casestore.settings import StoreSettings
from casestore.store import Store
from hotline.stored_menus import StoredMenus
from ivr.emergency import Emergency, EmergencyState
from ivr.registry import MenuRegistry
from state.local import Restored, Snapshotter, journaled
from state.settings import Durability

log = logging.getLogger("hotline.state")

RESTORED_KEY = web.AppKey("restored", Restored)
SNAPSHOTS_KEY = web.AppKey("snapshots", Snapshotter)
STORED_MENUS_KEY = web.AppKey("stored_menus", StoredMenus)
EMERGENCY_SETTING = "emergency"

StoreOf = Callable[[web.Application], Store]


def journal_folder(durability: Durability, store: StoreSettings, resolve: Callable[[str], Path]) -> Path | None:
    """Where the local journal lives: `state.journal` when set, else next to the SQLite file
    of the case store (`<folder>/hotline-state`), else `<data_dir>/state`; None for an
    in-memory SQLite store (nothing to come back to)."""
    if "journal" in durability.explicit:
        return resolve(durability.journal)
    url = make_url(store.url)
    if url.drivername.startswith("sqlite"):
        if not url.database or url.database == ":memory:":
            return None
        return Path(url.database).parent / "hotline-state"
    return store.data_dir / "state"


def acd_state_ctx(
    durability: Durability, acd: Acd, folder: Path | None, store_of: StoreOf
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Restore and journal the ACD (local mode). Runs before the case store's context: the
    store reads `app[RESTORED_KEY]` to keep restored calls open and write the tail again."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if folder is None:
            app[RESTORED_KEY] = Restored()
            yield
            return

        def on_restored(restored: Restored) -> None:
            app[RESTORED_KEY] = restored

        async with journaled(
            acd, folder, interval=durability.snapshot_interval, events=durability.snapshot_events,
            fsync=durability.fsync, before_commit=lambda: _drain(store_of, app), on_restored=on_restored,
        ) as snapshots:
            app[SNAPSHOTS_KEY] = snapshots
            yield

    return ctx


async def _drain(store_of: StoreOf, app: web.Application) -> None:
    try:
        store = store_of(app)
    except KeyError:
        return  # the case store is not open yet (start) or any more (stop)
    writer = store.writer_instance
    if writer is not None:
        await writer.drain()


def menus_ctx(
    registry: MenuRegistry, files: Sequence[Path], clock: Clock, store_of: StoreOf, *, poll: float = 2.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The menus from the case store (the files are the first import); after the store."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        menus = StoredMenus(registry, MenuStore(store_of(app).engine), clock, poll=poll)
        await menus.start(files)
        app[STORED_MENUS_KEY] = menus
        try:
            yield
        finally:
            await menus.stop()

    return ctx


def _emergency_value(state: Emergency) -> dict[str, Any]:
    return {
        "active": state.active, "announcement": dict(state.announcement), "since": state.since,
        "by": state.by, "scope": sorted(state.scope),
    }


def _emergency_from(value: Any) -> Emergency:
    if not isinstance(value, dict) or not value.get("active"):
        return Emergency()
    return Emergency(True, dict(value.get("announcement") or {}), float(value.get("since") or 0.0),
                     str(value.get("by") or ""), frozenset(value.get("scope") or ()))


def emergency_ctx(
    emergency: EmergencyState, clock: Clock, store_of: StoreOf, *, poll: float = 2.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The emergency override kept in the case store: restored at start, each change saved,
    changes made on another node followed (polled)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store = MenuStore(store_of(app).engine)
        stored = _emergency_from(await store.setting(EMERGENCY_SETTING))
        applying = [False]
        tasks: set[asyncio.Task[None]] = set()
        if stored.active:
            applying[0] = True
            emergency.activate(stored.since, stored.by, stored.announcement, stored.scope)
            applying[0] = False
            log.warning("emergency override restored (on since %s, by %s)", stored.since, stored.by)
        last = [_emergency_value(emergency.current())]

        async def save(value: dict[str, Any]) -> None:
            try:
                await store.set_setting(EMERGENCY_SETTING, value, at=clock.now())
            except StoreUnavailable as exc:
                log.error("emergency override not saved: %s", exc)

        def changed(state: Emergency) -> None:
            if applying[0]:
                return
            value = last[0] = _emergency_value(state)
            task = asyncio.get_running_loop().create_task(save(value))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        async def watch() -> None:
            while True:
                await asyncio.sleep(poll)
                try:
                    value = await store.setting(EMERGENCY_SETTING)
                except StoreUnavailable:
                    continue
                if value is not None and value != last[0] and not tasks:
                    last[0] = value
                    applying[0] = True
                    try:
                        state = _emergency_from(value)
                        if state.active:
                            emergency.activate(state.since, state.by, state.announcement, state.scope)
                        else:
                            emergency.clear()
                    finally:
                        applying[0] = False

        unsubscribe = emergency.subscribe(changed)
        watcher = asyncio.get_running_loop().create_task(watch()) if poll > 0 else None
        try:
            yield
        finally:
            unsubscribe()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    return ctx
