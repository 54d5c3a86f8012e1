"""The case store as one object: engine, repository, recording store, writer factory.

    async with open_store(settings) as store:        # refuses an unknown schema revision
        writer = store.writer()
        await writer.start()                          # closes orphaned calls as interrupted
        acd.subscribe(writer.on_event)
        ...
        await writer.stop()                           # final flush
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from acd.events import Event, Subscriber
from casestore.accounts import AccountRepository
from casestore.casework import CaseWork
from casestore.dialect import create_engine
from casestore.live_settings import LiveSettings
from casestore.repository import CaseRepository
from casestore.schema import check_schema, upgrade
from casestore.settings import StoreSettings, default_url
from casestore.sla import SlaPolicy
from casestore.writer import EVENT_KINDS, CallWriter
from hotline.encryption import FieldCipher
from recordings.store import FilesystemRecordingStore


class Store:
    def __init__(
        self,
        settings: StoreSettings,
        *,
        clock: Callable[[], float] = time.time,
        create: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = create_engine(settings.url, create=create, **engine_kwargs)
        self.sla = SlaPolicy(settings.sla_rules)
        keyring = settings.keyring
        self.cases = CaseRepository(
            self.engine, self.sla, clock, cipher=FieldCipher(keyring) if keyring is not None else None
        )
        self.accounts = AccountRepository(self.engine, clock)
        self.live_settings = LiveSettings(self.engine, clock)
        self.casework = CaseWork(self.engine, self.sla, clock, cipher=self.cases.cipher)
        self.recordings = FilesystemRecordingStore(
            settings.recordings_dir, retention_years=settings.retention_years, clock=clock, keyring=keyring
        )

    writer_instance: CallWriter | None = None

    def writer(
        self,
        *,
        batch_size: int | None = None,
        flush_interval: float | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> CallWriter:
        return CallWriter(
            self.engine, self.settings, self.sla, clock=self.clock,
            batch_size=batch_size, flush_interval=flush_interval, on_error=on_error,
        )

    async def close(self) -> None:
        await self.engine.dispose()


def _settings(target: StoreSettings | str | None) -> StoreSettings:
    if isinstance(target, StoreSettings):
        return target
    return StoreSettings(url=target or default_url(Path("data")))


@asynccontextmanager
async def open_store(
    target: StoreSettings | str | None = None,
    *,
    check: bool = True,
    create: bool = False,
    new_file: bool = False,
    clock: Callable[[], float] = time.time,
    **engine_kwargs: Any,
) -> AsyncIterator[Store]:
    """Open the store at a URL or from settings. `check` raises SchemaError unless the schema
    is at this version's revision; `create` upgrades it first (tests, `simulate --store`);
    `new_file` lets a missing SQLite file be made without a schema (a restore's target)."""
    store = Store(_settings(target), clock=clock, create=create or new_file, **engine_kwargs)
    try:
        if create:
            await upgrade(store.engine)
        if check:
            await check_schema(store.engine)
        yield store
    finally:
        await store.close()


class EventSource(Protocol):
    """What the store needs from the core: `Acd.subscribe`."""

    def subscribe(
        self, subscriber: Subscriber, kinds: Iterable[type[Event]] | None = None
    ) -> Callable[[], None]: ...


@asynccontextmanager
async def attached_store(
    target: StoreSettings | str,
    acd: EventSource,
    *,
    clock: Callable[[], float] = time.time,
    sources: Iterable[str] | None = None,
    agents: Iterable[str] | None = None,
    recovered: Iterable[Event] = (),
    keep_calls: Iterable[str] = (),
    keep_agents: Iterable[str] = (),
    close_orphans: bool = True,
) -> AsyncIterator[Store]:
    """The server's case store: open (schema checked), close orphaned calls, subscribe the
    writer to the ACD; on exit unsubscribe and flush. `store.writer_instance` is the running
    writer (the channel adapters' `hotline.ports.CallRecorder`: call starts, IVR events,
    recordings).

    After a restart that restored the ACD (docs/state.md): the calls in `keep_calls` and the
    sessions of `keep_agents` stay open, and the `recovered` events (the journal since its
    last snapshot, which the writer may not have flushed before the crash) are written
    again (every write is an idempotent upsert). `close_orphans=False`: another node may own
    the open calls (`state.mode: cluster`)."""
    async with open_store(target, clock=clock) as store:
        writer = store.writer_instance = store.writer()
        await writer.start(sources=sources, agents=agents, keep_calls=keep_calls,
                           keep_agents=keep_agents, close_orphans=close_orphans)
        for event in recovered:
            writer.on_event(event)
        unsubscribe = acd.subscribe(writer.on_event, EVENT_KINDS)
        try:
            yield store
        finally:
            unsubscribe()
            await writer.stop()
