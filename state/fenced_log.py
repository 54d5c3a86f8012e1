"""The leader's event log on Redis: the ACD's events, in the stream of its epoch, each batch
written by the fenced APPEND script (refused once a newer leader was elected).

Like `RedisEventLog`, the subscriber call only buffers; a task writes batches. `flushed()`
waits until everything emitted so far is in Redis: call control waits on it before it acts
on a decision (an agent's phone rings only for an assignment a new leader would know).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque

from acd.events import Event
from state.errors import StateUnavailable
from state.lease import Fenced, Lease

log = logging.getLogger("hotline.state")


class FencedLog:
    def __init__(self, lease: Lease, token: int, *, publisher: str, maxlen: int, batch: int = 500,
                 buffer: int = 100_000) -> None:
        self.lease = lease
        self.token = token
        self.publisher = publisher
        self.maxlen = maxlen
        self.batch = batch
        self.limit = buffer
        self.last_entry = "0-0"
        self.published = 0
        self.dropped = 0
        self.fenced: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer: deque[tuple[int, Event]] = deque()
        self._seq = itertools.count(1)
        self._written = 0  # sequence numbers up to this one are in Redis
        self._emitted = 0
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def emitted(self) -> int:
        """Sequence number of the last event emitted (written or not yet)."""
        return self._emitted

    def __call__(self, event: Event) -> None:
        if len(self._buffer) >= self.limit:
            self.dropped += 1
            return
        n = next(self._seq)
        self._emitted = n
        self._buffer.append((n, event))
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="state-fenced-log")

    async def flushed(self, within: float = 5.0) -> str:
        """Wait until every event emitted so far is in Redis; returns the last entry id."""
        target = self._emitted
        async with asyncio.timeout(within):
            while self._written < target:
                if self.fenced.done():
                    raise Fenced("this node is no longer the leader")
                self._progress.clear()
                await self._progress.wait()
        return self.last_entry

    async def stop(self, drain: float = 2.0) -> None:
        with contextlib.suppress(TimeoutError, Fenced, StateUnavailable):
            await self.flushed(drain)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = 0.05
        while True:
            if not self._buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = list(itertools.islice(self._buffer, self.batch))
            entries = [
                {"e": json.dumps(event.to_dict(), separators=(",", ":")), "n": str(n), "p": self.publisher}
                for n, event in batch
            ]
            try:
                self.last_entry = await self.lease.append(self.token, entries, self.maxlen)
            except Fenced as exc:
                log.error("state: %s; the log stops", exc)
                if not self.fenced.done():
                    self.fenced.set_result(None)
                self._progress.set()
                return
            except StateUnavailable as exc:
                log.warning("state: event log write failed (%s); %d buffered, retry in %.2fs",
                            exc, len(self._buffer), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            for _ in batch:
                self._buffer.popleft()
            self._written = batch[-1][0]
            self.published += len(batch)
            self._progress.set()
