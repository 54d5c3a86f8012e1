"""What outlives a `hotline serve` process, as aiohttp cleanup contexts for the wiring:

- `acd_state_ctx`: the ACD restored at start and journaled while it runs (`state.mode`:
  `local`, the default: a journal folder next to the case store; `cluster`: one fenced
  leader on Redis, see state/leader.py; `publish`: events to a Redis Stream only; `memory`).
- `menus_ctx`: the menus and their versions in the case store (`StoredMenus`).

The emergency override has one path of its own: hotline/web/emergency/service.py (stored
with its audit entry in the live settings, restored at start, followed on every node).

See docs/state.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url

from acd.clock import Clock
from acd.engine import Acd
from casestore.menus import MenuStore
from casestore.settings import StoreSettings
from casestore.store import Store
from hotline.stored_menus import StoredMenus
from ivr.registry import MenuRegistry
from state.local import Restored, Snapshotter, journaled
from state.settings import Durability

log = logging.getLogger("hotline.state")

RESTORED_KEY = web.AppKey("restored", Restored)
SNAPSHOTS_KEY = web.AppKey("snapshots", Snapshotter)
STORED_MENUS_KEY = web.AppKey("stored_menus", StoredMenus)

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
