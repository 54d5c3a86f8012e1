"""One node's ACD outliving its process: restored from the journal at start, journaled while it
runs, snapshotted at intervals (see state/journal.py and docs/state.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.engine import Acd
from acd.errors import AcdError
from acd.events import Event
from acd.replay import Replayed, ReplayError
from acd.snapshot import RingStarts, SnapshotError, restore, take
from state.errors import StateError
from state.journal import LocalJournal, Recovered, call_ids, recover, set_aside

log = logging.getLogger("hotline.state")

BeforeCommit = Callable[[], Awaitable[None]]


@dataclass
class Restored:
    """What a start found: the events since the last snapshot (for the case store, which may
    not have written them), and the calls and agents the ACD has again."""

    tail: list[Event] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    seconds: float = 0.0


def restore_into(acd: Acd, snapshot: dict[str, Any], tail: list[Event]) -> tuple[Replayed, RingStarts]:
    """Restore `acd` (new, from the configuration) to snapshot + tail (blocking: a worker
    thread; `attach` the result to the live clock on the loop). The pair is first tried on a
    scratch ACD, so a refused one leaves `acd` new."""
    queues = list(acd.queues.values())
    options: dict[str, Any] = {
        "pause_on_ring_no_answer": acd.pause_on_ring_no_answer,
        "occupancy_window": acd.occupancy_window,
    }
    trial, _ = restore(snapshot, queues, agents=[a.config for a in acd.agents.values()], **options)
    trial.apply(tail)
    replayed, ring = restore(snapshot, queues, into=acd, **options)
    unsubscribe = acd.subscribe(ring, RingStarts.KINDS)
    try:
        replayed.apply(tail)
    finally:
        unsubscribe()
    return replayed, ring


class Snapshotter:
    """Takes a snapshot every `interval` seconds or `events` events and commits it once the
    case store has everything before it (`before_commit`)."""

    def __init__(
        self,
        acd: Acd,
        journal: LocalJournal,
        ring: RingStarts,
        *,
        interval: float,
        events: int,
        before_commit: BeforeCommit | None = None,
    ) -> None:
        self.acd = acd
        self.journal = journal
        self.ring = ring
        self.interval = interval
        self.events = events
        self.before_commit = before_commit
        self.taken = 0
        self.last_bytes = 0
        self.last_seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def take_now(self) -> tuple[dict[str, Any], int]:
        """Snapshot and switch segment in one step of the loop (no event in between)."""
        data = take(self.acd, self.ring.at)
        return data, self.journal.next_segment()

    async def commit(self, data: dict[str, Any], segment: int) -> None:
        if self.before_commit is not None:
            try:
                async with asyncio.timeout(10.0):
                    await self.before_commit()
            except Exception as exc:  # the store is away: keep the older segments for now
                log.warning("state: snapshot not committed, the case store is behind (%r)", exc)
                return
        started = time.perf_counter()
        self.last_bytes = await asyncio.to_thread(self.journal.commit, data, segment)
        self.last_seconds = time.perf_counter() - started
        self.taken += 1

    def start(self, first: tuple[dict[str, Any], int]) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(first), name="state-snapshots")

    async def _run(self, first: tuple[dict[str, Any], int]) -> None:
        await self.commit(*first)
        since = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, self.interval))
            due = time.monotonic() - since >= self.interval
            if self.journal.written >= self.events or (due and self.journal.written):
                await self.commit(*self.take_now())
                since = time.monotonic()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.commit(*self.take_now())


async def recover_acd(acd: Acd, folder: Path) -> tuple[Recovered, RingStarts, Restored]:
    """Read the journal and restore `acd` from it (an unusable journal is set aside, logged,
    and the ACD starts new)."""
    started = time.perf_counter()
    try:
        found = await asyncio.to_thread(recover, folder)
    except StateError as exc:
        aside = await asyncio.to_thread(set_aside, folder)
        log.error("state: %s; set aside in %s, the ACD starts empty", exc, aside)
        found = Recovered(None)
    restored = Restored()
    ring = RingStarts()
    if found.snapshot is not None:
        live_clock = acd.clock
        try:
            replayed, ring = await asyncio.to_thread(restore_into, acd, found.snapshot, found.events)
            replayed.attach(live_clock)
        except (SnapshotError, ReplayError, AcdError) as exc:
            aside = await asyncio.to_thread(set_aside, folder)
            log.error("state: the journal does not fit this configuration (%s); set aside in %s, "
                      "the ACD starts empty", exc, aside)
            found = Recovered(None, last_segment=found.last_segment)
        else:
            restored.tail = found.events
            restored.calls = set(acd.calls) | call_ids(found.events)
            restored.agents = {a.id for a in acd.agents.values() if a.state.value != "logged_out"}
            log.info("state: ACD restored from %s: %d calls, %d agents logged in, %d events after the "
                     "snapshot%s", folder, len(acd.calls), len(restored.agents), len(found.events),
                     f" ({found.torn} torn line dropped)" if found.torn else "")
    restored.seconds = time.perf_counter() - started
    return found, ring, restored


@contextlib.asynccontextmanager
async def journaled(
    acd: Acd,
    folder: Path,
    *,
    interval: float = 30.0,
    events: int = 20_000,
    fsync: bool = False,
    before_commit: BeforeCommit | None = None,
    on_restored: Callable[[Restored], None] | None = None,
) -> AsyncIterator[Snapshotter]:
    """Restore `acd` from `folder`, then journal every event and snapshot at intervals."""
    found, ring, restored = await recover_acd(acd, folder)
    if on_restored is not None:
        on_restored(restored)
    journal = LocalJournal(folder, segment=found.last_segment + 1, fsync=fsync)
    unsubscribe_ring = acd.subscribe(ring, RingStarts.KINDS)
    unsubscribe = acd.subscribe(journal)
    snapshots = Snapshotter(acd, journal, ring, interval=interval, events=events, before_commit=before_commit)
    snapshots.start(snapshots.take_now())
    try:
        yield snapshots
    finally:
        await snapshots.stop()
        unsubscribe()
        unsubscribe_ring()
        journal.close()
